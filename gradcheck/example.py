"""A right implementation in the assignment's names and three usual mistakes: the check's
demonstration, which notebook 1 shows.
"""

from __future__ import annotations

import types

from gradcheck.checking import check

# dd2424 convention; each mistake is one line of it replaced
EXAMPLE = '''\
import numpy as np


def ComputeGradients(X, Y, h0, RNN):
    """The loss of one sequence and its gradients: X, Y one-hot (K, n), h0 (m, 1)."""
    n = X.shape[1]
    H, P, loss = [h0], [], 0.0                        # H[t] = h_t
    for t in range(n):
        a = RNN["W"] @ H[t] + RNN["U"] @ X[:, [t]] + RNN["b"]
        H.append(np.tanh(a))
        o = RNN["V"] @ H[t + 1] + RNN["c"]
        P.append(np.exp(o - o.max()) / np.exp(o - o.max()).sum())
        loss -= np.log(Y[:, t] @ P[t]).item()
    grads = {name: np.zeros_like(array) for name, array in RNN.items()}
    da_next = np.zeros_like(h0)                       # dL/da_{t+1}
    for t in reversed(range(n)):
        g = P[t] - Y[:, [t]]                          # dL/do_t
        grads["V"] += g @ H[t + 1].T
        grads["c"] += g
        dh = RNN["V"].T @ g + RNN["W"].T @ da_next    # dL/dh_t
        da = dh * (1 - H[t + 1] ** 2)                 # dL/da_t
        grads["W"] += da @ H[t].T
        grads["U"] += da @ X[:, [t]].T
        grads["b"] += da
        da_next = da
    return loss, grads
'''
EXAMPLE_MISTAKES = {   # title -> (the line of EXAMPLE, what replaces it)
    "clips inside its loss function": (
        "    return loss, grads",
        "    return loss, {name: np.clip(grad, -5, 5) for name, grad in grads.items()}"),
    "forgets the recurrent term": (
        "        dh = RNN[\"V\"].T @ g + RNN[\"W\"].T @ da_next    # dL/dh_t",
        "        dh = RNN[\"V\"].T @ g                             # dL/dh_t"),
    "drops the h0 term from dW": (
        "        grads[\"W\"] += da @ H[t].T",
        "        grads[\"W\"] += da @ H[t].T if t > 0 else 0"),
}


def example(mistake: str | None = None):
    """EXAMPLE's function, or with one of EXAMPLE_MISTAKES made, from a fresh module."""
    source = EXAMPLE if mistake is None else EXAMPLE.replace(*EXAMPLE_MISTAKES[mistake])
    module = types.ModuleType("example")
    exec(compile(source, f"<gradcheck example: {mistake or 'right'}>", "exec"), module.__dict__)
    return module.ComputeGradients


def demonstration() -> dict:
    """gradcheck.check on EXAMPLE and on each of EXAMPLE_MISTAKES: {title: Result}, "right" first.
    str(result) is the table and the verdict; result.diagnosis, the verdict's lines."""
    return {title: check(example(None if title == "right" else title), "dd2424")
            for title in ("right", *EXAMPLE_MISTAKES)}

