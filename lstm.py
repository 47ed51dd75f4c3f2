"""A character-level LSTM in NumPy, written like rnnlib (which stays the vanilla RNN): the gated
network the report compares with it at an equal number of parameters.

With K characters, m cells, and the four gates stacked in one (4m,) vector, in the order i, f, o, g::

    z_t = W h_{t-1} + U x_t + b         W (4m, m)  U (4m, K)  b (4m,)      states
    i_t = sigmoid(z_t[0:m])             input gate
    f_t = sigmoid(z_t[m:2m])            forget gate
    o_t = sigmoid(z_t[2m:3m])           output gate
    g_t = tanh(z_t[3m:4m])              the candidate cell
    c_t = f_t * c_{t-1} + i_t * g_t     the cell state   (* is elementwise)
    h_t = o_t * tanh(c_t)               the hidden state
    p_t = softmax(V h_t + c)            V (K, m)  c (K,)  (c alone, the output bias, as rnnlib's)
    L   = sum_t -log p_t[y_t]           y_t = x_{t+1}                          loss_and_gradients

and back through time, from t = n down to 1, with dL/dh_{n+1}-side terms zero at the end::

    dL/dh_t = V^T (p_t - onehot(y_t)) + W^T dL/dz_{t+1}
    dL/dc_t = dL/dh_t * o_t * (1 - tanh(c_t)^2) + dL/dc_{t+1} * f_{t+1}
    dL/dz_t = [dL/dc_t * g_t * i_t (1 - i_t),   dL/dc_t * c_{t-1} * f_t (1 - f_t),
               dL/dh_t * tanh(c_t) * o_t (1 - o_t),   dL/dc_t * i_t * (1 - g_t^2)]
    dL/dW = sum_t dL/dz_t h_{t-1}^T,  dL/dU = sum_t dL/dz_t x_t^T,  dL/db = sum_t dL/dz_t
    dL/dV = sum_t (p_t - onehot(y_t)) h_t^T,  dL/dc = sum_t (p_t - onehot(y_t))

The parameter count is 4m(m + K + 1) + K(m + 1): at K = 80, m = 45 gives 26,360, against the
RNN's 26,180 at m = 100.

    init(K, m, rng=...)                      an LSTM: b, c, U, W, V by name (net.W, net["W"]), views
                                             of one flat vector net.theta, an rnnlib.Params (and
                                             still views of it when pickled to another process)
    loss_and_gradients(net, x, y, state)     (loss, grads keyed like the parameters, state (h, c) after x)
    numerical_gradients, complex_step_gradients   the gradient checks of rnnlib, for this network, and
    gradient_errors                          the largest relative error of each parameter's gradient
    bits_per_char(net, x, state)             held-out bits per character, as rnnlib.bits_per_char,
                                             from zeros or from a given state
    train(net, corpus, ...)                  the assignment's training: AdaGrad (rnnlib.AdaGrad),
                                             clipping, seq_length, smooth loss, state carried between
                                             sequences and reset each epoch; it takes the loss function
                                             as an argument, so the tests run rnnlib's RNN through it
                                             and find rnnlib.train's losses bit for bit; its History
                                             keeps the state the last update carried out
    synthesize(net, state, x0, n, ...)       characters drawn as rnnlib.synthesize draws them, and
    generate(net, corpus, n, prime=...)      text after a prime, as rnnlib.generate writes it
    run(m, seed, updates, text, ...)         one training on the first 90 % of a text, measured on the
                                             rest and on the text it read last (last_read), from the
                                             state it ended in, and on the rest from zeros: what the
                                             report's worker processes run
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

import rnnlib
from rnnlib import CLIP, ETA, SEQ_LENGTH, SIGMA


class LSTM(rnnlib.Params):
    """b (4m,), c (K,), U (4m, K), W (4m, m), V (K, m): the parameters or their gradients, views into
    one flat vector theta (so that clipping, AdaGrad and copies are one operation), laid out as
    rnnlib.Params lays out the RNN's, whose mapping of the names it keeps.  cols is None: gradients
    are dense, which rnnlib.AdaGrad.step reads as a plain step over all of theta."""

    def __init__(self, m: int, K: int, dtype=np.float64):
        self.m, self.K, self.cols = rnnlib.positive_int(m, "m"), rnnlib.positive_int(K, "K"), None
        shapes = {"b": (4 * m,), "c": (K,), "U": (4 * m, K), "W": (4 * m, m), "V": (K, m)}
        self.theta = np.zeros(sum(math.prod(shape) for shape in shapes.values()), dtype=dtype)
        self._arrays, start = {}, 0
        for name, shape in shapes.items():
            self._arrays[name] = self.theta[start:start + math.prod(shape)].reshape(shape)
            start += math.prod(shape)

    b = property(lambda self: self._arrays["b"], doc="(4m,) the gates' biases")
    U = property(lambda self: self._arrays["U"], doc="(4m, K) input-to-gates weights")
    W = property(lambda self: self._arrays["W"], doc="(4m, m) hidden-to-gates weights")

    def astype(self, dtype) -> LSTM:
        return _from_theta(self.m, self.K, self.theta.astype(dtype))

    def __reduce__(self):  # pickled as theta, so that the arrays unpickled are views of theta again
        return _from_theta, (self.m, self.K, self.theta)

    def zero_state(self):
        """(h, c): the state each epoch starts from, zeros."""
        return np.zeros(self.m, dtype=self.dtype), np.zeros(self.m, dtype=self.dtype)


def _from_theta(m: int, K: int, theta: np.ndarray) -> LSTM:
    net = LSTM(m, K, theta.dtype)
    net.theta[...] = theta
    return net


def init(K: int, m: int, sigma: float = SIGMA, rng=None, dtype=np.float64) -> LSTM:
    """b, c zero; U, W, V ~ N(0, sigma^2), drawn in that order from rng, as rnnlib.RNN.init draws them."""
    net, rng = LSTM(m, K, dtype), rnnlib.as_generator(rng)
    for name in ("U", "W", "V"):
        net[name][...] = rng.normal(0.0, rnnlib.positive_number(sigma, "sigma", or_zero=True), net[name].shape)
    return net


def sigmoid(z):
    """1 / (1 + exp(-z)), written through tanh so that no z overflows (and complex z goes through)."""
    return 0.5 + 0.5 * np.tanh(0.5 * z)


def states(net: LSTM, x, state):
    """Z (n, 4m), the gates' inputs; H and C (n+1, m), row 0 the state given, row t h_t and c_t."""
    m, (h, c) = net.m, state
    Z = np.empty((len(x), 4 * m), dtype=np.result_type(net.dtype, h))
    H = np.empty((len(x) + 1, m), dtype=Z.dtype)
    C = np.empty_like(H)
    H[0], C[0] = h, c
    drive = net.U.T[x] + net.b                  # (n, 4m): row t-1 is U x_t + b
    for t in range(len(x)):
        Z[t] = net.W @ H[t] + drive[t]
        i, f, o = sigmoid(Z[t, :3 * m]).reshape(3, m)
        C[t + 1] = f * C[t] + i * np.tanh(Z[t, 3 * m:])
        H[t + 1] = o * np.tanh(C[t + 1])
    return Z, H, C


def _check(net: LSTM, x, y, state):
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 1 or x.shape != y.shape or x.size == 0 or x.dtype.kind not in "iu" or y.dtype.kind not in "iu":
        raise ValueError(f"x and y must be non-empty 1-D int index arrays of one length; got {x.shape}, {y.shape}")
    if min(x.min(), y.min()) < 0 or max(x.max(), y.max()) >= net.K:
        raise ValueError(f"character indices must lie in [0, {net.K}) for this LSTM")
    if len(state) != 2 or any(np.shape(s) != (net.m,) for s in state):
        raise ValueError(f"state must be the pair (h, c), each of shape ({net.m},)")
    return x, y


def loss(net: LSTM, x, y, state) -> float:
    """The loss of one sequence (complex for complex parameters: the complex step reads its .imag)."""
    x, y = _check(net, x, y, state)
    _, H, _ = states(net, x, state)
    return rnnlib.cross_entropy(rnnlib.softmax(H[1:] @ net.V.T + net.c), y).item()


def loss_and_gradients(net: LSTM, x, y, state):
    """(loss, grads, (h_n, c_n)) for x, y: (n,) int indices (y_t = x_{t+1}), state (h_0, c_0);
    grads an LSTM of the gradients (unclipped), keyed like the parameters.  See the module's equations."""
    x, y = _check(net, x, y, state)
    n, m = len(x), net.m
    Z, H, C = states(net, x, state)
    P = rnnlib.softmax(H[1:] @ net.V.T + net.c)  # (n, K)
    L = rnnlib.cross_entropy(P, y)
    G = P                                       # dL/do_t = p_t - onehot(y_t), (n, K)
    G[np.arange(n), y] -= 1
    gates = sigmoid(Z[:, :3 * m])               # (n, 3m): i, f, o
    I, F, O = gates[:, :m], gates[:, m:2 * m], gates[:, 2 * m:]
    Gc, tanh_C = np.tanh(Z[:, 3 * m:]), np.tanh(C[1:])    # (n, m) each: g_t and tanh(c_t)
    # What does not depend on the recursion, for every t at once: dL/dz_t = dL/dc_t * by_c[t] + dL/dh_t * by_h[t],
    # each (4, m) a row per gate, and dc_t/dh_t through o_t
    by_c, by_h = np.zeros((n, 4, m), dtype=Z.dtype), np.zeros((n, 4, m), dtype=Z.dtype)
    by_c[:, 0], by_c[:, 1], by_c[:, 3] = Gc * I * (1 - I), C[:-1] * F * (1 - F), I * (1 - Gc ** 2)
    by_h[:, 2] = tanh_C * O * (1 - O)
    through_o = O * (1 - tanh_C ** 2)           # dc_t/dh_t, (n, m)
    F_next = np.vstack([F[1:], np.zeros((1, m), dtype=Z.dtype)])   # f_{t+1}, zero past the end
    dH_out = G @ net.V                          # V^T dL/do_t, (n, m)
    dZ = np.empty((n, 4, m), dtype=Z.dtype)     # dL/dz_t, a row per gate
    dz, dc = np.zeros(4 * m, dtype=Z.dtype), np.zeros(m, dtype=Z.dtype)
    for t in range(n - 1, -1, -1):
        dh = dH_out[t] + dz @ net.W
        dc = dh * through_o[t] + dc * F_next[t]
        dz = np.add(dc * by_c[t], dh * by_h[t], out=dZ[t]).reshape(4 * m)
    dZ = dZ.reshape(n, 4 * m)
    grads = LSTM(m, net.K, dtype=Z.dtype)
    np.sum(dZ, axis=0, out=grads.b)
    np.sum(G, axis=0, out=grads.c)
    np.add.at(grads.U.T, x, dZ)                 # dU = sum_t dz_t x_t^T: dz_t added into column x_t
    np.dot(dZ.T, H[:-1], out=grads.W)
    np.dot(G.T, H[1:], out=grads.V)
    return L.item(), grads, (H[-1].copy(), C[-1].copy())


# ----------------------------------------------------------------------------- gradient checks


def numerical_gradients(net: LSTM, x, y, state, delta: float = 1e-4, dtype=np.longdouble) -> LSTM:
    """Centred differences (L(θ+δ) − L(θ−δ)) / 2δ for every entry, the loss evaluated in dtype
    (long double by default, as rnnlib.numerical_gradients: see there why)."""
    wide, state = net.astype(dtype), tuple(np.asarray(s, dtype=dtype) for s in state)
    grads = LSTM(net.m, net.K)
    for i in range(wide.theta.size):
        old = wide.theta[i]
        wide.theta[i] = old + delta
        up = loss(wide, x, y, state)
        wide.theta[i] = old - delta
        grads.theta[i] = (up - loss(wide, x, y, state)) / (2 * delta)
        wide.theta[i] = old
    return grads


def complex_step_gradients(net: LSTM, x, y, state, eps: float = 1e-30) -> LSTM:
    """Im L(θ + iε) / ε for every entry: no subtraction, so no rounding floor."""
    z, state = net.astype(np.complex128), tuple(np.asarray(s, dtype=np.complex128) for s in state)
    grads = LSTM(net.m, net.K)
    for i in range(z.theta.size):
        z.theta[i] += 1j * eps
        grads.theta[i] = loss(z, x, y, state).imag / eps
        z.theta[i] -= 1j * eps
    return grads


def gradient_errors(net: LSTM, x, y, state) -> dict:
    """{name: (largest relative error against centred differences, against the complex step)}: the
    analytic gradients of loss_and_gradients checked as rnnlib's are (rnnlib.relative_error)."""
    _, grads, _ = loss_and_gradients(net, x, y, state)
    centred, complex_step = numerical_gradients(net, x, y, state), complex_step_gradients(net, x, y, state)
    return {name: (rnnlib.relative_error(grads[name], centred[name]),
                   rnnlib.relative_error(grads[name], complex_step[name])) for name in grads}


# ----------------------------------------------------------------------------- measuring, training, sampling


def bits_per_char(net: LSTM, x, state=None, chunk: int = 10_000) -> float:
    """The mean over the n-1 predictions of -log2 p(x_{t+1} | x_1 ... x_t), the state carried from
    `state` (default zeros) through all of x, a chunk of characters at a time."""
    x, nats = np.asarray(x), 0.0
    state = net.zero_state() if state is None else state
    for start in range(0, x.size - 1, chunk):
        end = min(start + chunk, x.size - 1)
        _, H, C = states(net, x[start:end], state)
        nats += rnnlib.cross_entropy(rnnlib.softmax(H[1:] @ net.V.T + net.c), x[start + 1:end + 1]).item()
        state = H[-1], C[-1]
    return nats / (x.size - 1) / math.log(2)


@dataclass(eq=False)
class History:
    """What train records: smooth_loss (updates,), the smooth loss after each update's loss; best, a
    copy of the parameters at the lowest smooth loss, with best_loss and best_update; updates_per_epoch;
    state, the state the last update carried out (what the next one would have started from)."""

    smooth_loss: np.ndarray
    best: LSTM
    best_loss: float
    best_update: int
    updates_per_epoch: int
    state: tuple | None = None


def train(net, corpus: rnnlib.Corpus, *, updates: int, seq_length: int = SEQ_LENGTH, eta: float = ETA,
          clip: float = CLIP, loss_and_gradients=loss_and_gradients, on_update=None) -> History:
    """Train net in place for `updates` updates as rnnlib.train does: each update takes the next
    seq_length characters x and their successors y, carries the state over from the previous
    sequence (net.zero_state() at the start of each epoch), clips every gradient entry to [-clip,
    clip] and takes one rnnlib.AdaGrad step; the smooth loss is 0.999 of the last plus 0.001 of this
    update's loss.  loss_and_gradients(net, x, y, state) -> (loss, grads, state): this module's, or
    any network's with the same signature and a zero_state (the tests pass rnnlib's RNN).
    on_update(u, net), if given, after every update u = 1, 2, ... (what a run measures along the way)."""
    updates, s = rnnlib.positive_int(updates, "updates"), rnnlib.positive_int(seq_length, "seq_length")
    data, per_epoch = corpus.data, rnnlib.updates_per_epoch(len(corpus.data), s)
    optimiser, smooth_loss = rnnlib.AdaGrad(eta=rnnlib.positive_number(eta, "eta")), np.empty(updates)
    history = History(smooth_loss, net.copy(), math.inf, 0, per_epoch)
    state, e, smooth = net.zero_state(), 0, math.nan
    for u in range(updates):
        if len(data) - e < s + 1:               # too little text left: a new epoch
            state, e = net.zero_state(), 0
        L, grads, state = loss_and_gradients(net, *rnnlib.sequence_at(data, e, s), state)
        if not math.isfinite(L):
            raise FloatingPointError(f"the loss at update {u} is {L}: try a smaller eta (now {eta})")
        smooth = L if u == 0 else 0.999 * smooth + 0.001 * L
        smooth_loss[u] = smooth
        if smooth < history.best_loss:
            history.best.theta[...] = net.theta
            history.best_loss, history.best_update = smooth, u
        rnnlib.clip_gradients(grads, clip)
        optimiser.step(net, grads)
        e += s
        if on_update is not None:
            on_update(u + 1, net)
    history.state = state
    return history


def synthesize(net: LSTM, state, x0: int, n: int, temperature: float = 1.0, rng=None) -> np.ndarray:
    """(n,) int indices drawn one at a time from softmax(o_t / T), each the next input, from the
    state (h, c) and the input x0, by inverse CDF on u ~ U[0, 1) as rnnlib.synthesize draws."""
    T, rng = rnnlib.positive_number(temperature, "temperature"), rnnlib.as_generator(rng)
    Y, x = [], int(x0)
    for u in rng.random(rnnlib.positive_int(n, "n", or_zero=True)).tolist():
        _, H, C = states(net, [x], state)
        state = H[-1], C[-1]
        o = (net.V @ state[0] + net.c) / T
        cdf = np.cumsum(np.exp(o - o.max()))
        x = int(cdf[:-1].searchsorted(u * cdf[-1], side="right"))
        Y.append(x)
    return np.array(Y, dtype=np.intp)


def generate(net: LSTM, corpus: rnnlib.Corpus, n: int, *, temperature: float = 1.0, prime: str = "\n",
             rng=None) -> str:
    """n characters of text that follow `prime`, as rnnlib.generate writes them: the prime's characters
    run through the network from zeros first, the last of them the first input."""
    x = corpus.encode(prime)
    _, H, C = states(net, x[:-1], net.zero_state())
    return corpus.decode(synthesize(net, (H[-1], C[-1]), int(x[-1]), n, temperature=temperature, rng=rng))


def last_read(data, updates: int, seq_length: int, length: int):
    """The last `length` characters (fewer at the start of an epoch) of data that `updates` updates of
    seq_length read, up to the last target of the last update: the training text a run has just read."""
    k = (updates - 1) % rnnlib.updates_per_epoch(len(data), seq_length) + 1   # updates into the last epoch
    return data[max(0, k * seq_length + 1 - length):k * seq_length + 1]


@dataclass(eq=False)
class Run:
    """What run gives: the settings, the smooth loss, held_out_bpc and training_bpc (the final
    parameters on the held-out part and on as much of the training text last read, last_read, each
    read from the state the training ended in), held_out_from_zeros (the held-out part read from a
    zero state instead), CPU seconds of training, and the final network (for samples and its cells)."""

    m: int
    seed: int
    updates: int
    history: History
    held_out_bpc: float
    training_bpc: float
    held_out_from_zeros: float
    seconds: float
    net: LSTM


def run(m: int, seed: int, updates: int, text: str, held_out: float = 0.1, sigma: float = SIGMA) -> Run:
    """init(K, m, rng=seed) trained for `updates` updates on the first 1 - held_out of text,
    measured on the rest and on as many characters of the training text it read last, from the state
    its training ended in (a network's state from zeros can settle where training never took it), and
    on the rest from zeros."""
    corpus = rnnlib.Corpus(text)
    train_part, rest = corpus.split(1 - held_out)
    net = init(corpus.K, m, sigma=sigma, rng=seed)
    start = time.process_time()  # CPU time: other work on the machine does not count
    history = train(net, train_part, updates=updates)
    seconds = time.process_time() - start
    seen = last_read(train_part.data, updates, SEQ_LENGTH, len(rest.data))
    return Run(m, seed, updates, history, bits_per_char(net, rest.data, history.state),
               bits_per_char(net, seen, history.state), bits_per_char(net, rest.data), seconds, net)
