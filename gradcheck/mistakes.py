"""The usual mistakes, each computed exactly: what a function with that mistake returns on a case,
from rnnlib's forward pass and a textbook backward pass with the mistake made (or from rnnlib's
gradients, for the mistakes outside the backward pass).
"""

import numpy as np

import rnnlib


def backward(rnn: rnnlib.RNN, x, y, h0, *, carry=True, tanh_prime_from_a=False, h0_term=True):
    """(loss, Params): a textbook per-step backward pass, min-char-rnn's, with three usual mistakes as
    switches.  carry=False drops the recurrent term W^T dL/da_{t+1} from dL/dh_t (min-char-rnn's
    dhnext); tanh_prime_from_a=True takes 1 - a_t^2 for tanh'(a_t) = 1 - h_t^2; h0_term=False leaves
    dL/da_1 h0^T out of dW.  With none of them: rnnlib.loss_and_gradients's gradients (the tests hold
    the two together to 1e-13)."""
    H = rnnlib.hidden_states(rnn, x, h0)             # (n+1, m): H[t] = h_t
    P = rnnlib.probabilities(rnn, H)                 # (n, K): P[t-1] = p_t
    loss = rnnlib.cross_entropy(P, y).item()
    A = H[:-1] @ rnn.W.T + rnn.U.T[x] + rnn.b        # (n, m): A[t-1] = a_t
    tanh_prime = 1 - A ** 2 if tanh_prime_from_a else 1 - H[1:] ** 2
    grads, dh_next = rnnlib.Params(rnn.m, rnn.K), np.zeros(rnn.m)
    for t in reversed(range(len(x))):                # index t is step t+1 of the equations: H[t + 1] = h_{t+1}
        do = P[t].copy()
        do[y[t]] -= 1                                # dL/do
        grads.c[...] += do
        grads.V[...] += np.outer(do, H[t + 1])
        da = (rnn.V.T @ do + dh_next) * tanh_prime[t]    # dL/da
        grads.b[...] += da
        grads.U[:, x[t]] += da
        if t > 0 or h0_term:
            grads.W[...] += np.outer(da, H[t])
        dh_next = rnn.W.T @ da if carry else 0
    return loss, grads


def _scaled(grads: rnnlib.Params, factor: float) -> rnnlib.Params:
    out = grads.copy()
    out.theta[...] *= factor
    return out


def _W_transposed(grads: rnnlib.Params) -> rnnlib.Params:
    out = grads.copy()
    out.W[...] = grads.W.T
    return out


# name -> (what the function computes, as a diagnosis says it; its loss and gradients on a case)
MISTAKES = {
    "recurrent term dropped": (
        "the recurrent term dropped: dL/dh_t lacks W^T dL/da_{t+1} (min-char-rnn's dhnext); alone, that changes "
        "b, U and W, not c and V",
        lambda c, e: backward(c.rnn, c.x, c.y, c.h0, carry=False)),
    "h0 term dropped": (
        "the h0 term dropped from dW: dW lacks dL/da_1 h0^T, the first step's contribution (invisible with h0 = 0)",
        lambda c, e: backward(c.rnn, c.x, c.y, c.h0, h0_term=False)),
    "tanh' from a": (
        "tanh' computed from a instead of h: 1 - a_t^2 where tanh'(a_t) = 1 - h_t^2",
        lambda c, e: backward(c.rnn, c.x, c.y, c.h0, tanh_prime_from_a=True)),
    "mean loss and gradients": (
        "the loss and gradients averaged over the sequence instead of summed: divided by n",
        lambda c, e: (e.loss / len(c.x), _scaled(e.grads, 1 / len(c.x)))),
    "mean loss": (
        "the loss averaged over the sequence instead of summed (divided by n); the gradients are the sum's",
        lambda c, e: (e.loss / len(c.x), e.grads)),
    "mean gradients": (
        "the gradients averaged over the sequence instead of summed (divided by n); the loss is the sum",
        lambda c, e: (e.loss, _scaled(e.grads, 1 / len(c.x)))),
    "inputs as targets": (
        "targets off by one: the loss and gradients are those of the inputs x_t as targets, not y_t = x_{t+1}",
        lambda c, e: rnnlib.loss_and_gradients(c.rnn, c.x, c.x, c.h0)[:2]),
    "targets[t-1]": (
        "targets off by one: the loss and gradients are those of the targets y_{t-1} (targets[t-1]), not y_t",
        lambda c, e: rnnlib.loss_and_gradients(c.rnn, c.x, np.roll(c.y, 1), c.h0)[:2]),
    "dW transposed": (
        "dW transposed: h_{t-1} dL/da_t^T summed where dL/da_t h_{t-1}^T is meant (a square matrix: its shape "
        "cannot say so)",
        lambda c, e: (e.loss, _W_transposed(e.grads))),
}
CLIPPING = ("clipping inside the loss function: the gradients are rnnlib's clipped to ±{limit:g}, as "
            "min-char-rnn.py's lossFun clips them; a gradient check needs them unclipped: clip in the "
            "training step instead")


