"""Count-based character models: interpolated Kneser-Ney (or absolute discounting) n-grams, the
baseline the report holds the RNN against.

With K characters, a history c = x_{t-n+1} ... x_{t-1} and c' = c without its first character::

    p_n(w | c) = max(N(c w) - D_n, 0) / N(c .)  +  D_n T(c) / N(c .)  p_{n-1}(w | c')     interpolate
    p_0(w)     = 1 / K
    N(c w): how often c w occurs (the top order), or, with kneser_ney, how many distinct characters
            precede c w in the text (every lower order: its "continuation count")
    N(c .) = sum_w N(c w),   T(c) = the number of w with N(c w) > 0
    a history never seen (N(c .) = 0) gives p_n = p_{n-1}

absolute_discounting is the same with N the plain count at every order.  A discount 0 < D <= 1
keeps every seen N(c w) - D >= 0, so each p_n sums to 1 over the K characters.

    count(data, K, n)          -> Counts: every order's tables, once (np.unique on integer codes)
    NGram(counts, n, discounts) one model of order n <= counts.n; .probabilities(x) gives
                               p(x_t | up to n-1 characters before it) for t = 1 ... len(x)-1;
                               .distribution(history) the (K,) probabilities after a history;
                               .contexts, the number of distinct histories it stores
    bits_per_char(model, x)    the mean of -log2 p(x_t | ...) over t = 1 ... len(x)-1: what
                               rnnlib.bits_per_char measures for the RNN, on the same predictions
    tune(data, K, n)           discounts D_1 ... D_n chosen on the last `fraction` of data, with
                               counts from the rest: on a slice of the training part, never on the
                               held-out part
    fit(data, K, n)            tune, then count all of data: the models n = 1 ... n, by order

An n-gram of characters g_0 ... g_j is the integer sum_i g_i K^(j-i) (first character most
significant), so its history is code // K and its shorter suffix code % K^j; counting is
np.unique over those integers, looking up is np.searchsorted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

GRID = np.round(np.arange(0.05, 1.0001, 0.05), 2)  # the discounts tune tries at each order


def _grams(data: np.ndarray, length: int, K: int) -> np.ndarray:
    """(len(data) - length + 1,) int64: the code of every `length` characters of data, in order."""
    codes = np.zeros(len(data) - length + 1, dtype=np.int64)
    for i in range(length):
        codes = codes * K + data[i:len(data) - length + 1 + i]
    return codes


@dataclass(frozen=True)
class Table:
    """One order's counts: grams (sorted codes of the (j+1)-grams c w with N(c w) > 0) and N;
    histories (sorted codes of their j-character histories c), N(c .) and T(c)."""

    grams: np.ndarray
    N: np.ndarray
    histories: np.ndarray
    total: np.ndarray
    types: np.ndarray


def _table(grams: np.ndarray, N: np.ndarray, K: int) -> Table:
    histories, first = np.unique(grams // K, return_index=True)  # grams sorted: each history's grams in a run
    return Table(grams, N, histories, np.add.reduceat(N, first), np.diff(np.append(first, len(grams))))


@dataclass(frozen=True)
class Counts:
    """Every order's tables for models up to order n over K characters: raw[j] with plain counts and
    continuation[j] with continuation counts (j < n - 1), for histories of j characters."""

    K: int
    n: int
    raw: tuple
    continuation: tuple


def count(data, K: int, n: int) -> Counts:
    """The tables of models up to order n (histories of up to n - 1 characters) over data, (N,) int
    character indices below K."""
    data = np.asarray(data, dtype=np.int64)
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"n must be a positive integer, not {n!r}")
    if K ** n >= 2**63:
        raise ValueError(f"n = {n} is too large for K = {K}: codes of n characters must fit in 64 bits; "
                         f"use n <= {int(63 / math.log2(K))}")
    if data.ndim != 1 or len(data) < n + 1:
        raise ValueError(f"data must be a 1-D index array longer than n = {n}, not shape {data.shape}")
    if data.min() < 0 or data.max() >= K:
        raise ValueError(f"character indices must lie in [0, {K}), not {data.min()}..{data.max()}")
    raw, continuation = [], []
    longer = None  # the unique (j+2)-grams, whose suffixes give the (j+1)-grams' continuation counts
    for j in range(n - 1, -1, -1):  # from the longest grams down, so each order reuses the one above
        grams, N = np.unique(_grams(data, j + 1, K), return_counts=True)
        raw.append(_table(grams, N, K))
        if j < n - 1:
            continued, N_plus = np.unique(longer % K ** (j + 1), return_counts=True)
            continuation.append(_table(continued, N_plus, K))
        longer = grams
    return Counts(K, n, tuple(reversed(raw)), tuple(reversed(continuation)))


def _lookup(table: Table, grams: np.ndarray, K: int, valid: np.ndarray):
    """N(c w), N(c .) and T(c) for each gram code c w (zeros where not valid, or never seen)."""
    def find(keys, codes):
        i = np.minimum(np.searchsorted(keys, codes), len(keys) - 1)
        return i, valid & (keys[i] == codes)
    g, seen = find(table.grams, grams)
    h, known = find(table.histories, grams // K)
    return (np.where(seen, table.N[g], 0), np.where(known, table.total[h], 0), np.where(known, table.types[h], 0))


def interpolate(lower: np.ndarray, N, total, types, D: float) -> np.ndarray:
    """p_j = max(N - D, 0) / total + D types / total p_{j-1}, or p_{j-1} where total = 0."""
    seen = total > 0
    return np.where(seen, (np.maximum(N - D, 0) + D * types * lower) / np.where(seen, total, 1), lower)


def windows(x, n: int) -> np.ndarray:
    """(len(x) - 1, n) int64: row t-1 holds x_{t-n+1} ... x_t for t = 1 ... len(x) - 1, with -1
    for the characters before x_0 (no history there)."""
    x = np.asarray(x, dtype=np.int64)
    padded = np.concatenate([np.full(n - 1, -1, dtype=np.int64), x])
    return np.lib.stride_tricks.sliding_window_view(padded, n)[1:]


def _levels(rows: np.ndarray, K: int):
    """For each order j = 0 ... n-1 of rows (N, n) (last column the predicted character): the codes
    of the last j + 1 characters, and whether all of them exist."""
    n = rows.shape[1]
    code = np.zeros(len(rows), dtype=np.int64)
    for j in range(n):
        column = rows[:, n - 1 - j]
        code = code + np.maximum(column, 0) * K ** j
        yield code, column >= 0


@dataclass(frozen=True)
class NGram:
    """The model of order n (histories of n - 1 characters) on counts, with discounts D_1 ... D_n,
    interpolated Kneser-Ney, or absolute discounting with kneser_ney=False."""

    counts: Counts
    n: int
    discounts: tuple
    kneser_ney: bool = True

    def __post_init__(self):
        if not 1 <= self.n <= self.counts.n:
            raise ValueError(f"n must lie in 1 ... {self.counts.n} (the order counted), not {self.n}")
        if len(self.discounts) < self.n or not all(0 < D <= 1 for D in self.discounts[:self.n]):
            raise ValueError(f"give n = {self.n} discounts in (0, 1], not {self.discounts}")

    @property
    def K(self) -> int:
        return self.counts.K

    def table(self, j: int) -> Table:
        """The counts of order j: plain at the top, continuation counts below it with Kneser-Ney."""
        top = j == self.n - 1 or not self.kneser_ney
        return self.counts.raw[j] if top else self.counts.continuation[j]

    @property
    def contexts(self) -> int:
        """The number of distinct histories the model stores, over its orders (the empty one included)."""
        return sum(len(self.table(j).histories) for j in range(self.n))

    def conditional(self, rows) -> np.ndarray:
        """(N,) p(w | history) for rows (N, n): each row a history of n - 1 characters, -1 where
        there is none, then the character w."""
        rows = np.asarray(rows, dtype=np.int64)
        p = np.full(len(rows), 1 / self.K)
        for j, (code, valid) in enumerate(_levels(rows[:, -self.n:], self.K)):
            p = interpolate(p, *_lookup(self.table(j), code, self.K, valid), self.discounts[j])
        return p

    def probabilities(self, x) -> np.ndarray:
        """(len(x) - 1,) p(x_t | the up to n - 1 characters before it) for t = 1 ... len(x) - 1."""
        return self.conditional(windows(x, self.n))

    def distribution(self, history) -> np.ndarray:
        """(K,) the probability of each character after history (its last n - 1 characters count)."""
        last = list(history)[-(self.n - 1):] if self.n > 1 else []
        front = [-1] * (self.n - 1 - len(last)) + last
        return self.conditional([front + [w] for w in range(self.K)])


def bits_per_char(model: NGram, x) -> float:
    """The mean of -log2 p(x_t | ...) over t = 1 ... len(x) - 1, as rnnlib.bits_per_char."""
    return float(-np.log2(model.probabilities(x)).mean())


def tune(data, K: int, n: int, fraction: float = 0.1, kneser_ney: bool = True, grid=GRID) -> tuple:
    """(D_1, ..., D_n): each order's discount from grid, chosen in turn from order 1 up, as the one
    that gives the model of that order the fewest bits per character on the last `fraction` of data,
    counted on the rest (the orders below keep the discounts chosen for them)."""
    data = np.asarray(data, dtype=np.int64)
    cut = round(len(data) * (1 - fraction))
    counts, rows = count(data[:cut], K, n), windows(data[cut:], n)
    lower, discounts = np.full(len(rows), 1 / K), []
    for j, (code, valid) in enumerate(_levels(rows, K)):
        top = _lookup(counts.raw[j], code, K, valid)
        bits = [-np.log2(interpolate(lower, *top, D)).mean() for D in grid]
        discounts.append(float(grid[int(np.argmin(bits))]))
        below = counts.continuation[j] if kneser_ney and j < n - 1 else counts.raw[j]
        lower = interpolate(lower, *_lookup(below, code, K, valid), discounts[-1])
    return tuple(discounts)


def fit(data, K: int, n: int, fraction: float = 0.1, kneser_ney: bool = True) -> list:
    """[the model of order 1, ..., of order n] on data, its discounts tuned on data's last `fraction`."""
    discounts = tune(data, K, n, fraction, kneser_ney)
    counts = count(data, K, n)
    return [NGram(counts, order, discounts[:order], kneser_ney) for order in range(1, n + 1)]
