"""A deliberately plain RNN: one-hot vectors, one loop per pass, no tricks.

An independent implementation of the assignment's equations, written straight from the
maths, to check rnnlib against (tests) and to time rnnlib against (benchmarks/bench.py).
"""

import numpy as np


def one_hot(k, K):
    v = np.zeros((K, 1))
    v[k] = 1.0
    return v


def loss_and_gradients(b, c, U, W, V, x, y, h0):
    """b (m,), c (K,), U (m, K), W (m, m), V (K, m); x, y lists of ints; h0 (m,).
    Returns loss, (db, dc, dU, dW, dV), h_n, with vectors as columns internally."""
    K, m = V.shape
    b, c, h = b.reshape(m, 1), c.reshape(K, 1), h0.reshape(m, 1)
    hs, ps, xs = {-1: h}, {}, {}
    loss = 0.0
    for t in range(len(x)):
        xs[t] = one_hot(x[t], K)
        a = W @ hs[t - 1] + U @ xs[t] + b
        hs[t] = np.tanh(a)
        o = V @ hs[t] + c
        e = np.exp(o - np.max(o))
        ps[t] = e / np.sum(e)
        loss += -np.log(ps[t][y[t], 0])

    db, dc = np.zeros_like(b), np.zeros_like(c)
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    da_next = np.zeros((m, 1))
    for t in reversed(range(len(x))):
        do = ps[t] - one_hot(y[t], K)
        dc += do
        dV += do @ hs[t].T
        dh = V.T @ do + W.T @ da_next
        da = dh * (1 - hs[t] ** 2)
        db += da
        dU += da @ xs[t].T
        dW += da @ hs[t - 1].T
        da_next = da
    return loss, (db.ravel(), dc.ravel(), dU, dW, dV), hs[len(x) - 1].ravel()


def adagrad_update(params, grads, memory, eta=0.1, eps=1e-8, clip=5):
    """One training update as min-char-rnn writes it: clip (unless clip is None), then AdaGrad,
    per parameter."""
    for theta, g, G in zip(params, grads, memory):
        if clip is not None:
            np.clip(g, -clip, clip, out=g)
        G += g * g
        theta -= eta * g / np.sqrt(G + eps)
