"""A vanilla character-level RNN in NumPy, trained with AdaGrad (KTH DD2424, Assignment 4).

With K distinct characters and m hidden units, where each equation is computed::

    a_t = W h_{t-1} + U x_t + b      W (m, m)  U (m, K)  b (m,)   hidden_states
    h_t = tanh(a_t)                                                hidden_states
    o_t = V h_t + c                  V (K, m)  c (K,)             probabilities
    p_t = softmax(o_t)                                             softmax
    L   = sum_t -log p_t[y_t]        y_t = x_{t+1}                cross_entropy
    dL/do_t, dL/da_t (BPTT), dL/db, dL/dc, dL/dU, dL/dW, dL/dV     loss_and_gradients
    dL/dU = sum_t dL/da_t x_t^T                                    dU_columns
    ||dh_n/dh_{n-k}||_2,  dh_t/dh_{t-1} = diag(1 - h_t^2) W        jacobian_norms
    G += g^2,  theta -= eta g / sqrt(G + eps)                      AdaGrad.step
    x_{t+1} ~ softmax(o_t / T)                                     synthesize

Characters are int indices into the sorted vocabulary; ``x_t`` as a one-hot vector is only
ever used as "column x_t of U" (and dL/dU as "dL/da_t added into column x_t"), so training
with a large K touches only the columns of each sequence's characters: its cost grows gently.
Everything is computed in the dtype of the parameters: float64 by default, float32 with
RNN.init(K, dtype=np.float32) (faster; its rounding moves training about as much as another
seed does), complex128 for the complex-step gradients, which run through the very same code.

Sections, in the order data flows through them: corpus · model · loss and gradients ·
gradient checks · optimiser · training · checkpoints · synthesis.  The report's tables,
figures and widgets live beside the notebooks, in notebooks/; parallel runs in runs.py.  gradcheck,
beside this file, holds someone else's gradient function against loss_and_gradients and names the
usual mistake.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import numbers
import os
import signal
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
BOOK_PATH = ROOT / "data" / "goblet_book.txt"
CORPUS_ENV = "RNN_CORPUS"
# The report's main run, in two files, so that a stopped run never replaces a finished one:
# CHECKPOINT_PATH holds the run in progress (what resume continues), MODEL_PATH the last run that
# reached its total (what synthesis reads), replaced only when another one does.  $RNN_RESULTS
# moves both, as the tests do.
RESULTS_DIR = Path(os.environ.get("RNN_RESULTS") or ROOT / "results")
CHECKPOINT_PATH = RESULTS_DIR / "training.npz"
MODEL_PATH = RESULTS_DIR / "model.npz"

# The assignment's settings, once: every default of this library, of runs.Spec, of the commands and of
# the notebooks is taken from here.
M = 100            # hidden units
ETA = 0.1          # AdaGrad's learning rate
SEQ_LENGTH = 25    # characters per update
SIGMA = 0.01       # standard deviation of the initial U, W and V
CLIP = 5.0         # the limit on every gradient entry
DEFAULT_SEED = 0   # the main run's seed, fixed before any result was seen


def as_generator(rng=None):
    """A numpy Generator from a Generator, an int seed, or None (seed DEFAULT_SEED: runs are
    reproducible unless you ask otherwise).  The global RNG is never used."""
    rng = DEFAULT_SEED if rng is None else rng
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy.random.Generator or an int seed, not {rng!r}")


# ----------------------------------------------------------------------------- corpus


def read_text(path) -> str:
    """The text of a UTF-8 file, with line endings made uniform.

    A leading UTF-8 byte-order mark is dropped, and Windows (CRLF) and old Mac (CR) line
    endings become "\\n", so the same text gives the same vocabulary whatever system saved
    it (the course's goblet_book.txt has CRLF endings: 1,107,542 characters, K = 80, after
    this).  Raises FileNotFoundError, IsADirectoryError, or ValueError (empty file, bytes
    that are not UTF-8, with the byte offset), each naming the file and the fix.
    """
    p = Path(path)
    if p.is_dir():
        example = next((f", e.g. {f}" for f in sorted(p.glob("*.txt")) if f.is_file()), "")  # one that exists
        raise IsADirectoryError(f"{p} is a directory, not a text file: pass the path of a UTF-8 text file{example}")
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {p}. Check the path, or call load_corpus() with no path to use "
                                f"data/goblet_book.txt (or the offline default corpus)") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{p} is not UTF-8 text: byte 0x{raw[err.start]:02x} at offset {err.start} "
            f"({err.reason}). Re-save the file as UTF-8, e.g. "
            f"`iconv -f latin1 -t utf-8 in.txt > out.txt`") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        raise ValueError(f"{p} is empty: the corpus needs some text to learn from")
    return text


ENCODE_CHUNK = 2**16  # characters Corpus.encode turns into indices at a time


def _code_points(text: str) -> np.ndarray:
    """Text as uint32 code points: unlike numpy's str arrays, keeps trailing NUL characters."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def python_docs_text() -> str:
    """The offline default corpus: Python's own reference documentation (pydoc_data.topics,
    shipped with every CPython), topics in sorted order; about 465,000 characters."""
    from pydoc_data.topics import topics
    return "".join(topics[name] for name in sorted(topics))


class Corpus:
    """A text, its vocabulary, and the whole text encoded once.

    text: str;  chars: the K distinct characters, sorted;  char_to_ind / ind_to_char: the
    two maps;  data: (len(text),) the indices, read-only, in the smallest unsigned type that
    holds K - 1 (one byte a character for K <= 256);  source: what was loaded, for display.
    chars may be given, a superset of the text's (a part of a text keeps the whole's vocabulary).
    """

    def __init__(self, text: str, source: str = "text", chars=None):
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        if not text:
            raise ValueError(f"the corpus from {source} is empty: it needs some text to learn from")
        self.text, self.source = text, source
        self.chars = tuple(sorted(set(text) if chars is None else set(chars)))
        self.char_to_ind = {ch: i for i, ch in enumerate(self.chars)}
        self.ind_to_char = dict(enumerate(self.chars))
        # code point -> index, -1 for a character outside the vocabulary, the last entry for any above them all
        self._lookup = np.full(ord(self.chars[-1]) + 2, -1, dtype=np.intp)
        self._lookup[[ord(ch) for ch in self.chars]] = np.arange(self.K)
        self.data = self.encode(text)
        self.data.flags.writeable = False

    @property
    def K(self) -> int:
        return len(self.chars)

    def __len__(self):
        return len(self.text)

    def __repr__(self):
        return f"Corpus({self.source}: {len(self.text):,} characters, K = {self.K})"

    def encode(self, s: str) -> np.ndarray:
        """(len(s),) the indices of the characters of s, in data's type.  A character outside the
        vocabulary raises ValueError naming it and its position.  Made ENCODE_CHUNK characters at
        a time, so that memory beyond the result stays small whatever the length of s."""
        indices = np.empty(len(s), dtype=np.min_scalar_type(self.K - 1))
        for start in range(0, len(s), ENCODE_CHUNK):
            codes = _code_points(s[start:start + ENCODE_CHUNK])
            chunk = self._lookup[np.minimum(codes, len(self._lookup) - 1)]
            if chunk.min() < 0:
                pos = start + int(np.argmax(chunk < 0))
                unknown = sum(map(s.count, set(s) - set(self.chars)))
                raise ValueError(
                    f"character {s[pos]!r} (U+{ord(s[pos]):04X}) at position {pos} is not in the "
                    f"vocabulary of {self.source} (K = {self.K}): use only characters of the "
                    f"training text ({unknown} unknown in all)")
            indices[start:start + ENCODE_CHUNK] = chunk
        return indices

    def split(self, fraction: float = 0.9) -> tuple[Corpus, Corpus]:
        """(train, held_out): the first `fraction` of the text and the rest, both with this
        corpus's whole vocabulary, so K is the same even for a character that sits in one part."""
        cut = round(len(self.text) * fraction)
        if not 0 < cut < len(self.text):
            raise ValueError(f"fraction must leave text on both sides of the split, not {fraction!r}")
        return (Corpus(self.text[:cut], f"{self.source}, first {fraction:.0%}", chars=self.chars),
                Corpus(self.text[cut:], f"{self.source}, last {1 - fraction:.0%}", chars=self.chars))

    def decode(self, indices) -> str:
        """The text of an int index sequence (any iterable of ints in [0, K))."""
        indices = np.asarray(indices)
        if indices.size == 0:
            return ""
        if not np.issubdtype(indices.dtype, np.integer):
            raise TypeError(f"indices must be integers, not {indices.dtype}")
        if indices.min() < 0 or indices.max() >= self.K:
            raise ValueError(f"indices must lie in [0, {self.K}); got {indices.min()}..{indices.max()}")
        return "".join(self.chars[i] for i in indices.ravel().tolist())


def display_path(path: Path) -> str:
    """The path relative to the project when it lies inside it, so reports show no home folders."""
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def default_corpus_path():
    """The file load_corpus() reads when given no path: $RNN_CORPUS if set, else
    data/goblet_book.txt if present; None when it falls back to the offline default."""
    return os.environ.get(CORPUS_ENV) or (BOOK_PATH if BOOK_PATH.is_file() else None)


def load_corpus(path=None) -> Corpus:
    """The training text.

    path given: that UTF-8 file.  path None: default_corpus_path(), the file named by
    $RNN_CORPUS if set, else data/goblet_book.txt if present; else the offline default,
    Python's reference documentation, with one printed line saying how to use the book
    instead.  See read_text for line endings, the byte-order mark and the errors raised.
    """
    if path is None:
        path = default_corpus_path()
    if path is None:
        print(f"data/goblet_book.txt not found: using the offline default corpus, Python's "
              f"reference documentation. To train on the book, copy goblet_book.txt into "
              f"{display_path(BOOK_PATH.parent)}/ (or set {CORPUS_ENV} to a text file).")
        return Corpus(python_docs_text(), source="Python reference documentation (pydoc_data)")
    return Corpus(read_text(path), source=display_path(path))


# ----------------------------------------------------------------------------- model


class Params(Mapping):
    """b (m,), c (K,), U (m, K), W (m, m), V (K, m): the parameters, or their gradients.

    The five arrays are views into one flat vector, `theta`, so that clipping, AdaGrad and
    copying are each one operation on all of them.  Read them as p.W or p["W"]; change them
    in place (p.W[...] = ...), never by rebinding.  A Mapping of the names b, c, U, W, V.

    cols, for gradients as training takes them: dU is zero outside these columns (the sorted
    distinct characters of a sequence), and U (m, len(cols)) holds only dU[:, cols].
    empty=True leaves the arrays unset, for a caller that writes every entry, instead of zeros.
    """

    def __init__(self, m: int, K: int, dtype=np.float64, cols=None, empty=False):
        self.m, self.K, self.cols = positive_int(m, "m"), positive_int(K, "K"), cols
        shapes = {"b": (m,), "c": (K,), "U": (m, K if cols is None else len(cols)), "W": (m, m), "V": (K, m)}
        total = sum(math.prod(shape) for shape in shapes.values())
        self.theta = np.empty(total, dtype=dtype) if empty else np.zeros(total, dtype=dtype)
        self._arrays, start = {}, 0
        for name, shape in shapes.items():
            size = math.prod(shape)
            self._arrays[name] = self.theta[start:start + size].reshape(shape)
            start += size

    b = property(lambda self: self._arrays["b"], doc="(m,) hidden bias")
    c = property(lambda self: self._arrays["c"], doc="(K,) output bias")
    U = property(lambda self: self._arrays["U"], doc="(m, K) input-to-hidden weights")
    W = property(lambda self: self._arrays["W"], doc="(m, m) hidden-to-hidden weights")
    V = property(lambda self: self._arrays["V"], doc="(K, m) hidden-to-output weights")

    def __getitem__(self, name):
        return self._arrays[name]

    def __iter__(self):
        return iter(self._arrays)

    def __len__(self):
        return len(self._arrays)

    def __repr__(self):
        sparse = "" if self.cols is None else f", {len(self.cols)} columns of U"
        return f"{type(self).__name__}(m={self.m}, K={self.K}, dtype={self.dtype}{sparse})"

    @property
    def dtype(self):
        return self.theta.dtype

    def astype(self, dtype):
        """A copy with every array in dtype (e.g. complex128 for complex-step checks)."""
        other = type(self)(self.m, self.K, dtype, self.cols)
        other.theta[...] = self.theta
        return other

    def copy(self):
        return self.astype(self.dtype)

    def assign(self, other: "Params") -> None:
        """Copy other's values into these arrays."""
        np.copyto(self.theta, other.theta)

    def split_at_U(self, flat=None):
        """theta, or a vector laid out like it (AdaGrad's G), as three views: b and c, U, W and V."""
        flat = self.theta if flat is None else flat
        start, stop = self.b.size + self.K, self.b.size + self.K + self.U.size
        return flat[:start], flat[start:stop].reshape(self.U.shape), flat[stop:]


class RNN(Params):
    """The network's parameters; see Params for their layout."""

    @classmethod
    def init(cls, K: int, m: int = M, sigma: float = SIGMA, rng=None, dtype=np.float64) -> "RNN":
        """b, c zero; U, W, V ~ N(0, sigma^2), drawn in that order from rng.

        dtype=np.float32 trains in single precision: RNN.init(K, dtype=np.float32).  The draws
        are the float64 ones, rounded; training, checkpoints and synthesis keep the dtype."""
        rnn = cls(m, K, dtype)  # which checks m and K
        sigma, rng = positive_number(sigma, "sigma", or_zero=True), as_generator(rng)
        for name in ("U", "W", "V"):
            rnn[name][...] = rng.normal(0.0, sigma, rnn[name].shape)
        return rnn


def positive_int(value, name: str, *, or_zero: bool = False) -> int:
    """value as an int, or ValueError naming `name` if it is not a whole number >= 1 (>= 0 with or_zero)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < (0 if or_zero else 1):
        raise ValueError(f"{name} must be a {'whole number >= 0' if or_zero else 'positive integer'}, not {value!r}")
    return int(value)


def positive_number(value, name: str, *, or_zero: bool = False) -> float:
    """value as a float, or ValueError naming `name` if it is not a finite number > 0 (>= 0 with or_zero)."""
    if isinstance(value, bool) or not (isinstance(value, numbers.Real) and math.isfinite(value)
                                       and (value >= 0 if or_zero else value > 0)):
        raise ValueError(f"{name} must be a {'finite number >= 0' if or_zero else 'positive finite number'}, "
                         f"not {value!r}")
    return float(value)


def hidden_states(rnn: RNN, x, h0) -> np.ndarray:
    """H: (n+1, m), H[0] = h0 and H[t] = h_t = tanh(W h_{t-1} + U x_t + b) for x: (n,) int indices.

    U x_t + b for every t is one gather of U's columns; only the recurrence is a loop.
    """
    W = rnn.W
    A = rnn.U.T[x] + rnn.b                      # (n, m): row t-1 is U x_t + b
    H = np.empty((len(x) + 1, rnn.m), dtype=np.result_type(A, h0))
    H[0] = h0
    h = H[0]
    for a_t, h_t in zip(A, H[1:]):
        h = np.tanh(W.dot(h) + a_t, out=h_t)
    return H


def softmax(O: np.ndarray, out=None) -> np.ndarray:
    """P: softmax of each row of O (n, K); the row's largest real part is subtracted first.
    out=O computes it in place."""
    E = np.subtract(O, O.real.max(axis=-1, keepdims=True), out=out)
    np.exp(E, out=E)
    E /= E.sum(axis=-1, keepdims=True)
    return E


def probabilities(rnn: RNN, H: np.ndarray) -> np.ndarray:
    """P: (n, K), row t-1 is p_t = softmax(V h_t + c), for H from hidden_states.

    O is made once and becomes P in place: with a large vocabulary, every further (n, K) array
    would cost about as much as the softmax itself."""
    O = H[1:] @ rnn.V.T                         # (n, K): row t-1 is V h_t, then o_t, then p_t
    O += rnn.c
    return softmax(O, out=O)


def cross_entropy(P: np.ndarray, y) -> float:
    """sum_t -log p_t[y_t] for P: (n, K) and y: (n,) int indices."""
    return -np.log(P[np.arange(len(y)), y]).sum()


def loss(rnn: RNN, x, y, h0):
    """The loss of one sequence: x, y (n,) int indices (y_t = x_{t+1}), h0 (m,)."""
    x, y = _check_sequence(rnn, x, y, h0)
    return cross_entropy(probabilities(rnn, hidden_states(rnn, x, h0)), y).item()


def bits_per_char(rnn: RNN, x, h0=None) -> float:
    """The mean over the n-1 predictions of -log2 p(x_{t+1} | x_1 ... x_t), for x: (n,) int
    indices, with the hidden state carried from h0 (default zeros) through all of x, as in
    training.  Computed in chunks of about a million probabilities, so memory stays the same
    whatever n: the loss of each chunk, continued from the last hidden state of the one before."""
    x = np.asarray(x)
    h = np.zeros(rnn.m, dtype=rnn.dtype) if h0 is None else np.asarray(h0, dtype=rnn.dtype)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"x must be a 1-D index array of at least 2 characters (one prediction), "
                         f"not shape {x.shape}")
    _check_sequence(rnn, x[:-1], x[1:], h)
    chunk, nats = max(1, 2**20 // rnn.K), 0.0
    for start in range(0, x.size - 1, chunk):
        end = min(start + chunk, x.size - 1)     # inputs x[start:end] predict x[start+1:end+1]
        H = hidden_states(rnn, x[start:end], h)  # (end-start+1, m)
        nats += cross_entropy(probabilities(rnn, H), x[start + 1:end + 1]).item()
        h = H[-1]
    return nats / (x.size - 1) / math.log(2)


def _check_sequence(rnn, x, y, h0):
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 1 or x.shape != y.shape or x.size == 0:
        raise ValueError(f"x and y must be non-empty 1-D index arrays of one length; "
                         f"got shapes {x.shape} and {y.shape}")
    if x.dtype.kind not in "iu" or y.dtype.kind not in "iu":
        raise ValueError(f"x and y must hold int character indices, not {x.dtype} and {y.dtype}")
    lowest, highest = min(x.min(), y.min()), max(x.max(), y.max())
    if lowest < 0 or highest >= rnn.K:
        raise ValueError(f"character indices must lie in [0, {rnn.K}) for this RNN; "
                         f"got {lowest}..{highest}")
    if np.shape(h0) != (rnn.m,):
        raise ValueError(f"h0 must have shape ({rnn.m},), not {np.shape(h0)}")
    return x, y


# ----------------------------------------------------------------------------- loss and gradients


def loss_and_gradients(rnn: RNN, x, y, h0, *, sparse: bool = False):
    """The loss of one sequence, its gradients, and the last hidden state.

    x, y: (n,) int indices, y_t = x_{t+1};  h0: (m,).
    Returns (loss, grads, h_n) with grads a Params of b, c, U, W, V (unclipped).
    sparse=True, as training asks when K is large: grads.U holds only the columns grads.cols of
    dU, the distinct characters of x (U x_t reads column x_t of U alone, so every other column
    of dU is zero), AdaGrad.step touches only those columns of U, and nothing of size (n, K)
    is made but P.
    """
    x, y = _check_sequence(rnn, x, y, h0)
    n = len(x)
    H = hidden_states(rnn, x, h0)               # (n+1, m)
    P = probabilities(rnn, H)                   # (n, K)
    L = cross_entropy(P, y)

    G = P                                       # dL/do_t = p_t - onehot(y_t), (n, K)
    G[np.arange(n), y] -= 1
    dH_out = G @ rnn.V                          # V^T (dL/do_t): (n, m)
    tanh_prime = 1 - H[1:] ** 2                 # dh_t/da_t, (n, m)
    W = rnn.W
    dA = np.empty_like(dH_out)                  # dL/da_t, (n, m)
    da = np.zeros(rnn.m, dtype=dA.dtype)        # dL/da_{n+1} = 0
    for dh_t, tanh_prime_t, da_t in zip(dH_out[::-1], tanh_prime[::-1], dA[::-1]):
        # dL/da_t = (V^T dL/do_t + W^T dL/da_{t+1}) * tanh'(a_t), from t = n down to 1
        da = np.multiply(dh_t + da.dot(W), tanh_prime_t, out=da_t)

    cols = np.unique(x) if sparse else None     # (k,) the characters of x
    grads = Params(rnn.m, rnn.K, dtype=dA.dtype, cols=cols, empty=True)   # every entry is set below
    np.sum(dA, axis=0, out=grads.b)
    np.sum(G, axis=0, out=grads.c)
    if sparse:  # dU = dA^T X as below, where only the columns cols of X are nonzero
        grads.U[...] = dU_columns(dA, x, cols)
    else:
        X = np.zeros((n, rnn.K), dtype=dA.dtype)  # the one-hot inputs, for dU = sum_t dA_t x_t^T
        X[np.arange(n), x] = 1
        np.dot(dA.T, X, out=grads.U)
    np.dot(dA.T, H[:-1], out=grads.W)
    np.dot(G.T, H[1:], out=grads.V)
    return L.item(), grads, H[-1].copy()


def dU_columns(dA: np.ndarray, x, cols) -> np.ndarray:
    """dU[:, cols] for dU = dA^T X = sum_t dA_t x_t^T, X the (n, K) one-hot rows of x, without X:
    dA_t is added into column x_t, for t = 1, ..., n in turn, so the cost does not grow with K.

    dA: (n, m), the gradients dL/da_t;  x: (n,) int indices;  cols: (k,) sorted column indices,
    every x_t among them.  Returns (m, k).  The sums run in t order, the order in which
    OpenBLAS's product dA^T X adds the same terms: the dense form's dU, bit for bit in float64
    (in float32 some OpenBLAS kernels add in another order, and the two agree to rounding).
    """
    m, k = dA.shape[1], len(cols)
    dU = np.zeros((m, k), dtype=dA.dtype)
    # dU[:, x_t] += dA_t for t in order: np.add.at on the flat entries (dU[i, j] is entry i k + j),
    # all one-dimensional, its fast path (np.add.at(dU.T, x, dA) takes 3x as long)
    entries = np.arange(m) * k + np.searchsorted(cols, x)[:, None]    # (n, m): where dA_t[i] goes
    np.add.at(dU.reshape(-1), entries.reshape(-1), dA.reshape(-1))
    return dU


def jacobian_norms(rnn: RNN, x, h0) -> np.ndarray:
    """(n,): entry k-1 is ||dh_n/dh_{n-k}||_2 for k = 1, ..., n, x: (n,) int indices read from h0.

    How far back a gradient reaches: back-propagation carries dL/dh_n to h_{n-k} through
    dh_n/dh_{n-k}, the product of the step Jacobians dh_t/dh_{t-1} = diag(1 - h_t^2) W from
    t = n down to t = n-k+1, built here one factor at a time.  ||.||_2 is the largest singular value.
    """
    x, _ = _check_sequence(rnn, x, x, h0)
    H = hidden_states(rnn, x, np.asarray(h0, dtype=rnn.dtype))    # (n+1, m)
    n = len(x)
    J = np.eye(rnn.m, dtype=H.dtype)            # dh_n/dh_n
    norms = np.empty(n)
    for k in range(1, n + 1):
        t = n - k + 1
        # dh_n/dh_{t-1} = dh_n/dh_t diag(1 - h_t^2) W, the diagonal applied as a scaling of J's columns
        J = (J * (1 - H[t] ** 2)) @ rnn.W
        norms[k - 1] = np.linalg.norm(J, 2)
    return norms


# ----------------------------------------------------------------------------- gradient checks


def numerical_gradients(rnn: RNN, x, y, h0, delta: float = 1e-4, dtype=np.longdouble) -> Params:
    """Centred differences (L(θ+δ) − L(θ−δ)) / 2δ for every entry of b, c, U, W, V.

    The loss is evaluated in `dtype`.  In float64 a loss near 100 carries a rounding error
    near 1e-14, which the division by 2δ turns into an absolute error near 1e-10: enough to
    dominate the relative error of the many tiny entries.  The default, long double, is 80-bit
    extended precision on x86 Linux, which puts that error 2,000 times lower, so the estimate's
    error is the O(δ²) truncation; on Apple silicon and Windows long double is float64 itself
    (notebook 1 then checks against complex_step_gradients).  dtype=np.float64 gives the plain
    float64 estimate.
    Returns a float64 Params.
    """
    rnn = rnn.astype(dtype)
    h0 = np.asarray(h0, dtype=dtype)
    grads = Params(rnn.m, rnn.K)
    for name, theta in rnn.items():
        g = grads[name]
        for i in np.ndindex(theta.shape):
            old = theta[i]
            theta[i] = old + delta
            up = loss(rnn, x, y, h0)
            theta[i] = old - delta
            down = loss(rnn, x, y, h0)
            theta[i] = old
            g[i] = (up - down) / (2 * delta)
    return grads


def complex_step_gradients(rnn: RNN, x, y, h0, eps: float = 1e-30) -> Params:
    """Im L(θ + iε) / ε for every entry: a derivative with no subtraction, so no rounding floor."""
    z = rnn.astype(np.complex128)
    h0 = np.asarray(h0, dtype=np.complex128)
    grads = Params(rnn.m, rnn.K)
    for name, theta in z.items():
        g = grads[name]
        for i in np.ndindex(theta.shape):
            old = theta[i]
            theta[i] = old + 1j * eps
            g[i] = loss(z, x, y, h0).imag / eps
            theta[i] = old
    return grads


def relative_errors(a, b) -> np.ndarray:
    """|a − b| / max(1e-8, |a| + |b|), entry by entry."""
    a, b = np.asarray(a), np.asarray(b)
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))


def relative_error(a, b) -> float:
    """The largest of relative_errors(a, b): the assignment's measure."""
    return float(np.max(relative_errors(a, b)))


# ----------------------------------------------------------------------------- optimiser


@dataclass(eq=False)
class AdaGrad:
    """G += g²;  θ -= η g / sqrt(G + ε), elementwise over all parameters at once (for sparse
    gradients, over all but the columns of U that have no gradient, which it would leave as they are).

    G, the running sum of squared gradients (laid out like Params.theta), is the
    optimiser's whole state; it starts at zero on the first step."""

    eta: float = ETA
    eps: float = 1e-8
    G: np.ndarray | None = None

    def step(self, rnn: Params, grads: Params) -> None:
        """Update rnn's parameters in place.

        With sparse gradients (grads.cols set, as training makes them) U and G change in those
        columns only: AdaGrad leaves an entry whose gradient is zero exactly as it is (G += 0,
        theta -= 0), so this is the dense step bit for bit, without its passes over all of U."""
        if self.G is None:
            self.G = np.zeros_like(rnn.theta)
        if grads.cols is None:
            self._step(rnn.theta, grads.theta, self.G)
            return
        # self._step(rnn.theta, dense grads.theta, self.G), in three parts: b and c; W and V; U's columns cols
        (bc, U, WV), (g_bc, dU, g_WV), (G_bc, G_U, G_WV) = rnn.split_at_U(), grads.split_at_U(), rnn.split_at_U(self.G)
        self._step(bc, g_bc, G_bc)
        self._step(WV, g_WV, G_WV)
        cols = grads.cols
        U_cols, G_cols = U.take(cols, axis=1), G_U.take(cols, axis=1)  # (m, k) copies, C-ordered like dU
        self._step(U_cols, dU, G_cols)
        U[:, cols], G_U[:, cols] = U_cols, G_cols

    def _step(self, theta, g, G):
        # G += g**2;  theta -= eta * g / np.sqrt(G + eps), through one temporary (four cost 4.6x)
        tmp = np.empty_like(g)
        G += np.square(g, out=tmp)
        np.sqrt(np.add(G, self.eps, out=tmp), out=tmp)
        theta -= np.multiply(np.divide(g, tmp, out=tmp), self.eta, out=tmp)


def clip_gradients(grads: Params, limit: float = CLIP) -> Params:
    """Clip every gradient entry to [-limit, limit], in place."""
    np.clip(grads.theta, -limit, limit, out=grads.theta)
    return grads


def clipped_counts(grads: Params, limit: float = CLIP) -> np.ndarray:
    """(5,) the number of entries of b, c, U, W, V whose magnitude exceeds limit: those clipping
    changes.  Sparse gradients give the dense counts, as the columns they leave out are zero."""
    if np.abs(grads.theta).max() <= limit:  # most updates clip nothing: one pass over theta tells
        return np.zeros(5, dtype=np.int64)
    return np.array([np.count_nonzero(np.abs(g) > limit) for g in grads.values()])


# ----------------------------------------------------------------------------- training


@dataclass(eq=False, slots=True)  # slots: only the declared fields, nothing attached from outside
class History:
    """What train records.

    smooth_loss: (updates,) the smooth loss after each update's loss, update 0 first;
    samples: {update: text}; best: a copy of the RNN at the lowest smooth loss (the
    parameters that gave that loss), with best_loss and best_update;
    updates_per_epoch: where the epochs start; interrupted: stopped early by Ctrl-C;
    clipped: (updates, 5) ints, row u the number of gradient entries of b, c, U, W, V whose
    magnitude exceeded the clipping limit at update u (CLIP, 5, when training does not clip);
    -1 in a run resumed from a checkpoint written before they were counted.
    """

    smooth_loss: np.ndarray
    samples: dict
    best: RNN
    best_loss: float
    best_update: int
    updates_per_epoch: int
    interrupted: bool = False
    clipped: np.ndarray = field(default_factory=lambda: np.zeros((0, 5), dtype=np.int64))

    @property
    def updates(self) -> int:
        return len(self.smooth_loss)


def sequence_at(data: np.ndarray, e: int, seq_length: int):
    """The training sequence starting at e: x = data[e:e+s] and its successors y = data[e+1:e+s+1]."""
    return data[e:e + seq_length], data[e + 1:e + seq_length + 1]


def updates_per_epoch(n_chars: int, seq_length: int) -> int:
    """Sequences start at e = 0, s, 2s, ... while e + s + 1 <= n_chars: (n_chars − 1) // s."""
    return (n_chars - 1) // seq_length


@dataclass(eq=False, slots=True)
class TrainingState:
    """The complete state of a training run between two updates: what a checkpoint file holds
    and what `resume` continues from.

    rnn: the current parameters; history: smooth losses, samples and the best model so far;
    clip: the limit gradients are clipped to (None: no clipping);
    optimiser: AdaGrad with its memory G; rng: the sampling generator; update: updates done;
    epoch and e: where the next sequence starts; h: the hidden state carried into it;
    smooth: the current smooth loss; total: the number of updates the run aims at;
    finished: where the state goes once update reaches total (or None), see train.
    """

    rnn: RNN
    history: History
    optimiser: AdaGrad
    rng: np.random.Generator
    update: int
    epoch: int
    e: int
    h: np.ndarray
    smooth: float
    total: int
    seq_length: int
    sample_every: int | None
    sample_length: int
    checkpoint_every: int
    chars: tuple
    corpus_sha256: str
    source: str
    clip: float | None = CLIP
    finished: Path | None = None

    @property
    def best(self) -> RNN:
        return self.history.best

    def trained_on(self, corpus: Corpus) -> bool:
        """Whether this run was trained on exactly corpus's text."""
        return self.corpus_sha256 == text_fingerprint(corpus.text)

    def vocabulary_difference(self, corpus: Corpus) -> str | None:
        """None when corpus has exactly this run's characters, else what differs, e.g. "missing 'é', extra ''"."""
        if corpus.chars == self.chars:
            return None
        missing, extra = sorted(set(self.chars) - set(corpus.chars)), sorted(set(corpus.chars) - set(self.chars))
        return f"missing {''.join(missing)!r}, extra {''.join(extra)!r}"

    @property
    def best_loss(self) -> float:
        return self.history.best_loss

    @property
    def best_update(self) -> int:
        return self.history.best_update

    def __repr__(self):
        return (f"TrainingState(update {self.update:,} of {self.total:,}, epoch {self.epoch + 1}, "
                f"m = {self.rnn.m}, K = {self.rnn.K}, trained on {self.source}; best smooth loss "
                f"{self.best_loss:.2f} at update {self.best_update:,})")


def text_fingerprint(text: str) -> str:
    """SHA-256 of the text's UTF-8 bytes: which corpus a checkpoint was trained on."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def train(rnn: RNN, corpus: Corpus, *, epochs=None, updates=None, seq_length: int = SEQ_LENGTH,
          eta: float = ETA, clip: float | None = CLIP, sample_every=10_000, sample_length: int = 200, rng=None,
          progress: bool = True, checkpoint=None, checkpoint_every: int = 10_000,
          on_update=None, finished=None) -> History:
    """Train rnn in place with AdaGrad on corpus; return the History.

    Runs `epochs` epochs or `updates` updates, whichever ends first (give at least one).
    Each update takes the next seq_length characters x and their successors y, carries h
    over from the previous sequence (zeros at the start of each epoch), clips the gradients
    to [-clip, clip] and takes one AdaGrad step.  Every `sample_every` updates (update 0 included;
    None for never) a `sample_length`-character sample is drawn from the current h and input
    character with rng (history.samples[update]).  on_update(state), if given, is called after
    every update, once it is whole: state is the TrainingState, with state.update the number of
    updates done, state.rnn the parameters after them and state.history the record so far (a
    terminal prints each sample from it as it is drawn; runs.run measures the held-out text; a
    notebook records what it alone needs).  Training runs in rnn's dtype: float64, or float32 from
    RNN.init(K, dtype=np.float32).  With a vocabulary larger than 4 seq_length, dL/dU and U's
    AdaGrad step cover only the columns of each sequence's characters (the others have no
    gradient): the same step (bit for bit in float64), at a cost that grows gently with K.

    clip: the limit on each gradient entry (None: no clipping); history.clipped counts, at each
    update, the entries of each gradient beyond it (beyond CLIP, 5, when None).

    checkpoint: a path; the complete training state is written there (atomically) every
    `checkpoint_every` updates and when training ends; `resume` continues from it.
    finished: a path written (atomically, in the same format) only when the run reaches its
    total, by this call or by a `resume` of its checkpoint, which remembers it: the last
    finished run, which a stopped or failed one never replaces (the report's MODEL_PATH).
    Ctrl-C (or a notebook's stop button) stops at the end of the current update, writes the
    checkpoint and raises TrainingStopped, a KeyboardInterrupt that says what was saved and
    the statement that continues, so that the caller stops too.  That error, a non-finite
    loss (FloatingPointError naming the update) and a failed
    checkpoint write (OSError naming the file) all carry the history so far as `.history`; rnn
    keeps the parameters of the last complete update, and a checkpoint already written stays.
    """
    seq_length = positive_int(seq_length, "seq_length")
    eta = positive_number(eta, "eta")
    if rnn.K != corpus.K:
        raise ValueError(f"the RNN has K = {rnn.K} outputs but the corpus has K = {corpus.K} "
                         f"characters: make it with RNN.init(corpus.K, ...)")
    if len(corpus.data) < seq_length + 1:
        raise ValueError(f"the corpus ({corpus.source}) has {len(corpus.data)} characters, fewer "
                         f"than seq_length + 1 = {seq_length + 1}: use a longer text or a "
                         f"shorter seq_length")
    clip = None if clip is None else positive_number(clip, "clip")
    per_epoch = updates_per_epoch(len(corpus.data), seq_length)
    state = TrainingState(
        rnn=rnn, optimiser=AdaGrad(eta=eta), rng=as_generator(rng), update=0, epoch=0, e=0,
        h=np.zeros(rnn.m, dtype=rnn.dtype), smooth=math.nan, clip=clip,
        history=History(smooth_loss=np.empty(0), samples={}, best=rnn.copy(), best_loss=math.inf,
                        best_update=0, updates_per_epoch=per_epoch),
        total=_total_updates(per_epoch, epochs, updates), seq_length=seq_length,
        sample_every=None if sample_every is None else positive_int(sample_every, "sample_every"),
        sample_length=positive_int(sample_length, "sample_length"),
        checkpoint_every=positive_int(checkpoint_every, "checkpoint_every"),
        chars=corpus.chars, corpus_sha256=text_fingerprint(corpus.text), source=corpus.source,
        finished=None if finished is None else Path(finished))
    return _run(state, corpus, checkpoint, progress, on_update)


def resume(path, corpus: Corpus, *, epochs=None, updates=None, progress: bool = True, on_update=None):
    """Continue the run saved at path until it has done `epochs` epochs or `updates` updates in
    all (default: the total the run that wrote the checkpoint aimed at), checkpointing to path
    on the same schedule, and writing the `finished` path the run was given, if any, once it
    reaches that total; on_update as in train, for the updates done from now on.
    Returns (rnn, history), bit for bit what one uninterrupted run to those totals gives."""
    state = load_checkpoint(path)
    difference = state.vocabulary_difference(corpus)
    if difference:
        raise ValueError(f"{path} was trained on a vocabulary of {len(state.chars)} characters "
                         f"({state.source}); this corpus ({corpus.source}) has {corpus.K}: {difference}. "
                         f"Resume with the text it was trained on")
    if not state.trained_on(corpus):
        warnings.warn(f"{corpus.source} is not the text {path} was trained on ({state.source}), "
                      f"though it has the same characters: training goes on, but not as the "
                      f"original run would have", OtherTextWarning, stacklevel=2)
    if epochs is not None or updates is not None:
        state.total = _total_updates(state.history.updates_per_epoch, epochs, updates)
    if state.update >= state.total:
        raise ValueError(f"{path} has done {state.update:,} updates already, and {state.total:,} "
                         f"were asked for: ask for more, e.g. resume(path, corpus, "
                         f"updates={state.update + state.checkpoint_every})")
    history = _run(state, corpus, path, progress, on_update)
    return state.rnn, history


def _total_updates(per_epoch, epochs, updates) -> int:
    if epochs is None and updates is None:
        raise ValueError("give epochs=N or updates=N (or both: training stops at whichever comes first)")
    return min(per_epoch * positive_int(epochs, "epochs") if epochs is not None else math.inf,
               positive_int(updates, "updates") if updates is not None else math.inf)


class OtherTextWarning(UserWarning):
    """resume's warning that the corpus has the checkpoint's characters but is another text."""


def _run(state: TrainingState, corpus: Corpus, checkpoint, progress, on_update=None) -> History:
    """The training loop, from state to state.total updates; see train."""
    rnn, history, s, data = state.rnn, state.history, state.seq_length, corpus.data
    # room for the whole run: after each update, history's arrays are views of the part done
    smooth_loss, clipped = np.empty(state.total), np.empty((state.total, 5), dtype=np.int64)
    smooth_loss[:state.update], clipped[:state.update] = history.smooth_loss, history.clipped
    bar = saved_at = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=state.total, initial=state.update, unit="update", mininterval=0.5)
    try:
        with _stop_requests() as stop_requested:
            while state.update < state.total and not stop_requested():
                if len(data) - state.e < s + 1:   # too little text left: a new epoch
                    state.epoch, state.e = state.epoch + 1, 0
                    state.h = np.zeros(rnn.m, dtype=rnn.dtype)
                _update(state, *sequence_at(data, state.e, s), corpus, smooth_loss, clipped)
                history.smooth_loss, history.clipped = smooth_loss[:state.update], clipped[:state.update]
                if on_update is not None:  # after the update, which is whole
                    on_update(state)
                if checkpoint is not None and state.update % state.checkpoint_every == 0:
                    save_checkpoint(checkpoint, state)
                    saved_at = state.update
                if bar is not None and (state.update % 100 == 0 or state.update == state.total):
                    bar.update(state.update - bar.n)
                    bar.set_postfix(smooth_loss=f"{state.smooth:.2f}", refresh=False)
        history.interrupted = state.update < state.total
        if checkpoint is not None and saved_at != state.update:
            save_checkpoint(checkpoint, state)
        if state.finished is not None and not history.interrupted:
            save_checkpoint(state.finished, state)
    except (FloatingPointError, OSError) as err:  # a diverged loss, a failed checkpoint write
        err.history = history
        raise
    finally:
        if bar is not None:  # the bar ends at the update the run ended at, whatever its refresh step
            bar.update(state.update - bar.n)
            bar.close()
    if history.interrupted:  # stop the caller too: a notebook's Run All, a script, a test run
        raise TrainingStopped(state, checkpoint)
    return history


class TrainingStopped(KeyboardInterrupt):
    """A run stopped on request (Ctrl-C, a notebook's stop button) after a whole update.

    A KeyboardInterrupt, so that a script or a notebook's Run All stops too; in IPython it
    shows as the few lines of .lines (what was saved, and the statement that continues),
    not as a traceback.  history: the run so far; checkpoint: where it was saved (or None);
    hint: the statement that continues it (or None)."""

    def __init__(self, state: TrainingState, checkpoint=None):
        self.history, self.checkpoint = state.history, checkpoint
        done = f"Interrupted after update {state.update:,} of {state.total:,}"
        if checkpoint is None:
            self.hint = None
            self.lines = [f"{done}: no checkpoint was asked for, so there is nothing to resume from."]
        else:
            self.hint = f"rnn, history = rnnlib.resume({str(checkpoint)!r}, corpus)"
            model = state.finished
            kept = ("" if model is None else
                    f" The finished model in {model} is unchanged." if model.is_file() else
                    f" There is no finished model yet ({model} is written when a run reaches its end).")
            self.lines = [f"{done}: the run so far is saved in {checkpoint}.{kept}",
                          "To continue it (to the same end, bit for bit), then the cells below:",
                          f"    {self.hint}"]
        super().__init__(" ".join(line.strip() for line in self.lines))

    def _render_traceback_(self):
        return self.lines


def _update(state: TrainingState, x, y, corpus: Corpus, smooth_loss: np.ndarray, clipped: np.ndarray) -> None:
    """One training update: loss and gradients, smooth loss, best model, sample, clipping, AdaGrad."""
    rnn, history, u = state.rnn, state.history, state.update
    L, grads, h_next = loss_and_gradients(rnn, x, y, state.h, sparse=sparse_U_pays(rnn.K, state.seq_length))
    if not math.isfinite(L):
        raise FloatingPointError(
            f"the loss at update {u} is {L}: training stopped, and the parameters are those "
            f"before it. Try a smaller eta (now {state.optimiser.eta}) or check the input")
    state.smooth = L if u == 0 else 0.999 * state.smooth + 0.001 * L
    smooth_loss[u] = state.smooth
    if state.smooth < history.best_loss:
        history.best.assign(rnn)
        history.best_loss, history.best_update = state.smooth, u
    if state.sample_every is not None and u % state.sample_every == 0:
        history.samples[u] = corpus.decode(synthesize(rnn, state.h, x[0], state.sample_length, rng=state.rng))
    clipped[u] = clipped_counts(grads, state.clip or CLIP)  # counted against CLIP when not clipping
    if state.clip is not None:
        clip_gradients(grads, state.clip)
    state.optimiser.step(rnn, grads)
    state.h, state.e, state.update = h_next, state.e + state.seq_length, u + 1


def sparse_U_pays(K: int, seq_length: int) -> bool:
    """Whether training takes dU as its nonzero columns alone (at most seq_length of the K): once
    K > 4 seq_length.  Below that, gathering and scattering the columns costs more than the zero
    columns it skips (at K = 80 and seq_length 25, 3% more)."""
    return K > 4 * seq_length


@contextlib.contextmanager
def _stop_requests():
    """Turn the first Ctrl-C (SIGINT: a notebook's interrupt button too) into a request to stop
    after the current update; a second one interrupts at once.  Yields a function that tells
    whether a stop was requested.  A KeyboardInterrupt raised inside the loop other than by
    SIGINT (which the handler keeps from raising) is taken as a request too: the state is
    whole if it came before the update changed anything, e.g. from the loss computation."""
    requested, forced = [], []

    def handler(signum, frame):
        if requested:
            forced.append(signum)
            raise KeyboardInterrupt
        requested.append(signum)
        # in a notebook (an IPython kernel) the stop button sends the signal, and nothing reads Ctrl-C
        again = "the stop button" if "ipykernel" in sys.modules else "Ctrl-C"
        print(f"\nStopping after this update (press {again} again to stop at once, saving nothing) ...", flush=True)

    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.SIG_IGN:  # a process that ignores Ctrl-C goes on ignoring it
        with contextlib.suppress(ValueError):  # not the main thread: signals cannot be caught there
            signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: bool(requested)
    except KeyboardInterrupt:
        if forced:  # the state may be half updated: save nothing, stop now
            raise
        requested.append("KeyboardInterrupt")
    finally:
        if previous is not None and signal.getsignal(signal.SIGINT) is handler:
            signal.signal(signal.SIGINT, previous)


# ----------------------------------------------------------------------------- checkpoints

CHECKPOINT_FORMAT = "rnnlib-checkpoint"
CHECKPOINT_VERSION = 1


def save_checkpoint(path, state: TrainingState) -> Path:
    """Write state to path as a .npz of plain arrays, atomically: a temporary file in the same
    folder, flushed to disk, then renamed over path, so a crash never leaves half a file."""
    path = Path(path)
    history = state.history
    samples = sorted(history.samples.items())
    G = state.optimiser.G if state.optimiser.G is not None else np.zeros_like(state.rnn.theta)
    fields = {
        "format": np.array(CHECKPOINT_FORMAT), "version": CHECKPOINT_VERSION,
        "chars": _code_points("".join(state.chars)), "corpus_sha256": np.array(state.corpus_sha256),
        "source": _code_points(state.source),
        "m": state.rnn.m, "K": state.rnn.K, "seq_length": state.seq_length,
        "eta": state.optimiser.eta, "eps": state.optimiser.eps,
        "sample_every": state.sample_every or 0, "sample_length": state.sample_length,
        "checkpoint_every": state.checkpoint_every, "total": state.total,
        "theta": state.rnn.theta, "G": G, "rng": np.array(json.dumps(state.rng.bit_generator.state)),
        "update": state.update, "epoch": state.epoch, "e": state.e, "h": state.h, "smooth": state.smooth,
        "best_theta": history.best.theta, "best_loss": history.best_loss, "best_update": history.best_update,
        "updates_per_epoch": history.updates_per_epoch, "smooth_loss": history.smooth_loss[:state.update],
        "sample_updates": np.array([u for u, _ in samples], dtype=np.int64),
        "sample_lengths": np.array([len(text) for _, text in samples], dtype=np.int64),
        "sample_texts": _code_points("".join(text for _, text in samples)),
        "finished": np.array("" if state.finished is None else _relative_to(state.finished, path.parent)),
        "clip": math.nan if state.clip is None else state.clip,  # nan: no clipping
        # signed, for the -1 of a count unknown; the smallest type that holds every count
        "clipped": history.clipped[:state.update].astype(np.min_scalar_type(-state.rnn.theta.size)),
    }
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            np.savez(f, **fields)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:  # a full disk, a read-only folder: keep the last good file, say what to do
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise OSError(err.errno, f"could not write the checkpoint {path} ({err.strerror or err}); the "
                                 f"previous checkpoint there, if any, is intact. Free some space, or give "
                                 f"another checkpoint path") from err
    return path


def _relative_to(path: Path, folder: Path) -> str:
    """path from folder (so that a results folder moved whole keeps its links), or absolute."""
    try:
        return os.path.relpath(path, folder)
    except ValueError:  # another drive, on Windows
        return str(Path(path).resolve())


def _text(codes: np.ndarray) -> str:
    return np.asarray(codes, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")


def load_checkpoint(path) -> TrainingState:
    """The training state saved at path.  Reads plain arrays only (allow_pickle=False), so a
    file can never make this run code; anything missing, damaged or foreign is a ValueError
    naming the file (FileNotFoundError when there is no file)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}: train with checkpoint={str(path)!r} first")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory: give the checkpoint file's path")
    try:
        with np.load(path, allow_pickle=False) as f:
            fields = {name: f[name] for name in f.files}
    except Exception as err:  # zipfile, OSError, ValueError...: all mean "not a readable .npz"
        raise ValueError(f"{path} is not a readable checkpoint ({type(err).__name__}: {err}); it "
                         f"may be truncated or not an rnnlib checkpoint at all. Use an intact "
                         f"copy, or train again") from None
    if str(fields.get("format", "")) != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is an .npz file but not an rnnlib checkpoint: give the path of a "
                         f"checkpoint that rnnlib's training wrote")
    if fields.get("version", None) is None or int(fields["version"]) != CHECKPOINT_VERSION:
        raise ValueError(f"{path} has checkpoint format version {fields.get('version')}; this rnnlib "
                         f"reads version {CHECKPOINT_VERSION}: use the rnnlib that wrote it")
    try:
        state = _checkpoint_from_fields(fields)
        state.finished = path.parent / str(fields["finished"]) if str(fields.get("finished", "")) else None
        return state
    except Exception as err:
        raise ValueError(f"{path} is a damaged checkpoint ({type(err).__name__}: {err}): use an "
                         f"intact copy, or train again") from None


def _checkpoint_from_fields(f: dict) -> TrainingState:
    m, K, update = int(f["m"]), int(f["K"]), int(f["update"])
    rnn, best = RNN(m, K, dtype=f["theta"].dtype), RNN(m, K, dtype=f["theta"].dtype)
    rnn.theta[...], best.theta[...] = f["theta"], f["best_theta"]  # shapes must match exactly
    G = np.array(f["G"], dtype=rnn.dtype)
    if G.shape != rnn.theta.shape or f["h"].shape != (m,) or f["smooth_loss"].shape != (update,):
        raise ValueError("array shapes disagree with m, K and the update count")
    chars, lengths = tuple(_text(f["chars"])), f["sample_lengths"]
    if len(chars) != K or f["sample_updates"].shape != lengths.shape or lengths.sum() != f["sample_texts"].size:
        raise ValueError("the vocabulary or the samples do not fit the network")
    texts, ends = _text(f["sample_texts"]), np.cumsum(lengths).tolist()
    rng_state = json.loads(str(f["rng"]))
    rng = np.random.Generator(getattr(np.random, rng_state["bit_generator"])())
    rng.bit_generator.state = rng_state
    # a checkpoint from before the counts were kept: all unknown (-1), under the assignment's clipping
    counts, clip = f.get("clipped", np.full((update, 5), -1)), float(f.get("clip", CLIP))
    clipped = counts.astype(np.int64)
    if counts.dtype.kind == "u":  # an earlier rnnlib saved unknown (-1) unsigned: the type's largest value
        clipped[counts == np.iinfo(counts.dtype).max] = -1
    if clipped.shape != (update, 5):
        raise ValueError("the clipping counts disagree with the update count")
    history = History(smooth_loss=np.array(f["smooth_loss"], dtype=float),
                      samples={u: texts[end - n:end] for u, n, end in
                               zip(f["sample_updates"].tolist(), lengths.tolist(), ends)},
                      best=best, best_loss=float(f["best_loss"]), best_update=int(f["best_update"]),
                      updates_per_epoch=int(f["updates_per_epoch"]), clipped=clipped)
    return TrainingState(
        rnn=rnn, history=history, optimiser=AdaGrad(eta=float(f["eta"]), eps=float(f["eps"]), G=G),
        rng=rng, update=update, epoch=int(f["epoch"]), e=int(f["e"]), h=np.array(f["h"], dtype=rnn.dtype),
        smooth=float(f["smooth"]), total=int(f["total"]), seq_length=int(f["seq_length"]),
        sample_every=int(f["sample_every"]) or None, sample_length=int(f["sample_length"]),
        checkpoint_every=int(f["checkpoint_every"]), chars=chars,
        corpus_sha256=str(f["corpus_sha256"]), source=_text(f["source"]),
        clip=None if math.isnan(clip) else positive_number(clip, "the clipping limit"))

# ----------------------------------------------------------------------------- synthesis


def synthesize(rnn: RNN, h0, x0: int, n: int, temperature: float = 1.0, rng=None) -> np.ndarray:
    """(n,) int indices drawn one at a time from p_t = softmax(o_t / T), starting from the
    hidden state h0 and the input character x0; each drawn character is the next input.

    Drawn by inverse CDF: the first index whose cumulative probability exceeds u ~ U[0, 1).
    The temperature T divides the logits: T < 1 sharpens, T > 1 flattens.
    """
    T, n = positive_number(temperature, "temperature"), positive_int(n, "n", or_zero=True)
    if not 0 <= x0 < rnn.K:
        raise ValueError(f"x0 must be a character index in [0, {rnn.K}), not {x0}")
    rng = as_generator(rng)
    W = rnn.W
    UbT = rnn.U.T + rnn.b                       # (K, m): row k is U x + b for x = onehot(k)
    Vc = np.concatenate([rnn.V, rnn.c[:, None]], axis=1)   # o = V h + c = [V c] [h; 1]
    h1 = np.ones(rnn.m + 1, dtype=rnn.dtype)
    h = h1[:-1]
    h[:] = h0
    o = np.empty(rnn.K, dtype=rnn.dtype)
    cdf = np.empty_like(o)
    cdf_head = cdf[:-1]                         # searching K-1 edges keeps the index < K
    Y = []
    x = int(x0)
    for u in rng.random(n).tolist():
        np.tanh(W.dot(h) + UbT[x], out=h)       # h = tanh(W h + U x + b)
        Vc.dot(h1, out=o)                       # o = V h + c
        # x ~ p = softmax(o / T): the first k with cumsum(p)[k] > u, found on exp((o - max o) / T)
        # unnormalised, with u scaled by its sum instead (exp(<= 0) cannot overflow, whatever T)
        o -= np.maximum.reduce(o)
        o /= T
        np.add.accumulate(np.exp(o, out=o), out=cdf)
        x = cdf_head.searchsorted(u * cdf[-1], side="right")
        Y.append(x)
    return np.array(Y, dtype=np.intp)


def generate(rnn: RNN, corpus: Corpus, n: int, *, temperature: float = 1.0, prime: str | None = None,
             h0=None, rng=None) -> str:
    """n characters of text that follow `prime` (default: the corpus's first character).

    The prime's characters run through the network first to warm up the hidden state
    (from h0, default zeros); a character outside the vocabulary raises ValueError naming it.
    """
    if rnn.K != corpus.K:
        raise ValueError(f"the RNN has K = {rnn.K} outputs but the corpus has K = {corpus.K}")
    if prime is None:
        prime = corpus.text[0]
    if not prime:
        raise ValueError("prime must hold at least one character: the first input")
    x = corpus.encode(prime)
    h = np.zeros(rnn.m, dtype=rnn.dtype) if h0 is None else np.asarray(h0, dtype=rnn.dtype)
    h = hidden_states(rnn, x[:-1], h)[-1]
    return corpus.decode(synthesize(rnn, h, x[-1], n, temperature=temperature, rng=rng))
