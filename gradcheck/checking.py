"""The check: the cases it calls a function on, the comparison with rnnlib's exact loss, gradients
and last hidden state, the Result, and the diagnosis (which usual mistake fits).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np

import rnnlib
from gradcheck.conventions import (
    CONVENTIONS,
    LETTERS,
    Convention,
    ConventionError,
    Output,
    call,
    check_arguments,
    name_of,
)
from gradcheck.mistakes import CLIPPING, MISTAKES

# An entry disagrees when |theirs - exact| > RTOL (|theirs| + |exact|) + ATOL max|exact of its array|:
# float64 rounding stays near 1e-15 of that, every mistake below lands far above it.
RTOL, ATOL = 1e-8, 1e-10

# ----------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One call: parameters with nonzero biases, a sequence x -> y (y_t = x_{t+1}) and h0 != 0."""

    rnn: rnnlib.RNN
    x: np.ndarray
    y: np.ndarray
    h0: np.ndarray

    def __str__(self):
        return f"K {self.rnn.K}, m {self.rnn.m}, n {len(self.x)}"


CASES_SEED = 25


def cases(seed: int = CASES_SEED) -> list[Case]:
    """The check's two cases, from one seeded Generator: a small one (K 7, m 5, n 12, every parameter
    ~ N(0, 0.5^2)) and a long one (K 11, m 8, n 200, N(0, 0.3^2)), on characters of skewed frequencies.
    In the long one, every array has gradient entries above 5, so that a clip to ±5 acts; its weights
    are small enough for every mistake's gradients to stay finite.  m != K, so that a transposed matrix
    shows in its shape; h0 and the biases nonzero, so that no term of the gradients vanishes."""
    rng = np.random.default_rng(seed)
    made = []
    for K, m, n, sigma in ((7, 5, 12, 0.5), (11, 8, 200, 0.3)):
        rnn = rnnlib.RNN.init(K, m, sigma=sigma, rng=rng)
        rnn.b[...], rnn.c[...] = rng.normal(0, sigma, m), rng.normal(0, sigma, K)
        frequency = 1 / np.arange(1, K + 1)
        text = rng.choice(K, n + 1, p=frequency / frequency.sum())
        made.append(Case(rnn, text[:-1], text[1:], np.tanh(rng.normal(0, 1, m))))
    return made


def exact(case: Case) -> Output:
    """rnnlib's loss, gradients and last hidden state."""
    loss, grads, h = rnnlib.loss_and_gradients(case.rnn, case.x, case.y, case.h0)
    return Output(loss, grads, h)


# ----------------------------------------------------------------------------- the check


def _disagree(theirs, exact) -> np.ndarray:
    """Entry by entry: further apart than rounding (RTOL, ATOL); NaN disagrees."""
    theirs, exact = np.asarray(theirs, dtype=np.float64), np.asarray(exact, dtype=np.float64)
    scale = np.abs(exact).max(initial=0.0)
    return ~(np.abs(theirs - exact) <= RTOL * (np.abs(theirs) + np.abs(exact)) + ATOL * scale)


@dataclass(frozen=True)
class Comparison:
    """One quantity over every case: the largest relative error (rnnlib.relative_errors, the
    assignment's measure) and absolute error, and how many entries disagree, of how many."""

    relative: float
    absolute: float
    disagree: int
    entries: int


def compare(pairs) -> Comparison:
    """pairs: (theirs, exact) arrays, one pair per case."""
    pairs = [(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)) for a, b in pairs]
    return Comparison(max(float(np.max(rnnlib.relative_errors(a, b))) for a, b in pairs),
                      max(float(np.max(np.abs(a - b))) for a, b in pairs),
                      sum(int(_disagree(a, b).sum()) for a, b in pairs), sum(b.size for _, b in pairs))


@dataclass
class Result:
    """A check: the function's output and rnnlib's on each case, per quantity their Comparison
    ("loss", b, c, U, W, V, "h"; "h" only when the function returns it), the matrices that came back
    transposed (letter -> their shape), and the diagnosis.  print() shows the table and the verdict."""

    function: str
    convention: Convention
    cases: list
    theirs: list
    exact: list
    transposed: dict
    comparisons: dict
    diagnosis: list

    @property
    def ok(self) -> bool:
        """The loss, the gradients and the last hidden state all equal rnnlib's to rounding."""
        return not self.transposed and not any(c.disagree for c in self.comparisons.values())

    def label(self, key: str, prose: bool = False) -> str:
        """A quantity's name in the table (dWxh (dU), loss, last hidden state), or in a sentence."""
        if key in LETTERS:
            name = "d" + self.convention.names[key]
            return (name + (f" (d{key})" if name != "d" + key else "")
                    + (" transposed" if key in self.transposed else ""))
        return ("the " if prose else "") + {"loss": "loss", "h": "last hidden state"}[key]

    def rows(self) -> list[list]:
        """[quantity, max relative error, max absolute error, entries that disagree] per quantity."""
        return [[self.label(key), c.relative, c.absolute,
                 f"{c.disagree:,} of {c.entries:,}" + (f" ({c.disagree / c.entries:.0%})" if c.disagree else "")]
                for key, c in self.comparisons.items()]

    def __str__(self):
        header = ["", "max relative error", "max absolute error", "entries that disagree"]
        cells = [header] + [[row[0], f"{row[1]:.1e}", f"{row[2]:.1e}", row[3]] for row in self.rows()]
        widths = [max(len(row[i]) for row in cells) for i in range(4)]
        table = ["  ".join([row[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(row[1:], widths[1:])])
                 for row in cells]
        cases_line = " and ".join(str(case) for case in self.cases)
        verdict = [textwrap.fill(line, 100, subsequent_indent="    ", break_on_hyphens=False)
                   for line in self.diagnosis]
        return "\n".join([f"{self.function} ({self.convention.name} convention) against rnnlib's exact gradients",
                          f"on {len(self.cases)} cases: {cases_line} (K characters, m hidden units, n steps)", "",
                          *table, "", *verdict])


def check(function, convention="min-char-rnn", seed: int = CASES_SEED) -> Result:
    """Call `function` on the cases (seed) as `convention` says (a name of CONVENTIONS, or a
    Convention), compare what it returns with rnnlib's, and diagnose.  ConventionError (one line)
    when the function does not fit the convention; an exception raised by the function itself
    propagates as it is."""
    if isinstance(convention, str):
        if convention not in CONVENTIONS:
            raise ConventionError(f"no convention {convention!r}; there are {', '.join(CONVENTIONS)}, or give a "
                                  f"gradcheck.Convention")
        convention = CONVENTIONS[convention]
    check_arguments(function, convention)
    chosen, transposed = cases(seed), {}
    theirs = [call(function, convention, case, transposed) for case in chosen]
    right = [exact(case) for case in chosen]
    comparisons = {"loss": compare((t.loss, e.loss) for t, e in zip(theirs, right))}
    for letter in LETTERS:
        comparisons[letter] = compare((t.grads[letter], e.grads[letter]) for t, e in zip(theirs, right))
    if all(t.h is not None for t in theirs):
        comparisons["h"] = compare((t.h, e.h) for t, e in zip(theirs, right))
    result = Result(name_of(function), convention, chosen, theirs, right, transposed, comparisons, [])
    result.diagnosis[:] = diagnose(result)
    return result


def _listed(words) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _fits(theirs: Output, loss: float, grads: rnnlib.Params) -> bool:
    return not _disagree(theirs.loss, loss).any() and \
        not any(_disagree(theirs.grads[letter], grads[letter]).any() for letter in LETTERS)


def diagnose(result: Result) -> list[str]:
    """The verdict's lines: equal to rounding, or which quantities differ, then each usual mistake
    (MISTAKES, alone or followed by clipping to ±limit) whose loss and gradients equal the function's
    on every case; none named where none fits."""
    if result.ok:
        worst = max(c.relative for c in result.comparisons.values())
        return [f"Verdict: equal to rnnlib's to rounding (largest relative error {worst:.0e}): the gradients "
                f"are right."]
    lines = []
    if result.transposed:
        names = result.convention.names
        lines.append("Transposed: " + "; ".join(f"d{names[k]} comes back {shape}, the transpose of {names[k]}'s "
                                                f"{shape[::-1]}" for k, shape in result.transposed.items())
                     + " (the table compares them transposed back).")
    differ = [result.label(k, prose=True) for k, c in result.comparisons.items() if c.disagree]
    same = [result.label(k, prose=True) for k, c in result.comparisons.items() if not c.disagree]
    if not differ:
        return ["Verdict: the values equal rnnlib's, in another layout.", *lines]
    lines.insert(0, f"Verdict: {_listed(differ)} differ{'s' * (len(differ) == 1)}"
                 + (f"; {_listed(same)} match{'es' * (len(same) == 1)}." if same else "."))
    if "h" in result.comparisons and result.comparisons["h"].disagree:
        return lines + ["The last hidden state differs, so the forward pass does: no usual mistake of the "
                        "backward pass fits."]
    found = []
    for name, (description, gradients) in {"none": ("", lambda c, e: (e.loss, e.grads)), **MISTAKES}.items():
        hypotheses = [gradients(case, e) for case, e in zip(result.cases, result.exact)]
        if name != "none" and all(_fits(t, *h) for t, h in zip(result.theirs, hypotheses)):
            found.append(f"Diagnosis: {description}.")
            continue
        # clipped: the limit is the largest entry the function returned, where that is below the hypothesis's
        limits = [np.abs(t.grads.theta).max() for t in result.theirs]
        acted = [lim < np.abs(g.theta).max() * (1 - RTOL) for lim, (_, g) in zip(limits, hypotheses)]
        clipped = [(loss, rnnlib.clip_gradients(g.copy(), lim)) for lim, (loss, g) in zip(limits, hypotheses)]
        if any(acted) and all(_fits(t, *h) for t, h in zip(result.theirs, clipped)):
            limit = max(lim for lim, a in zip(limits, acted) if a)
            found.append(f"Diagnosis: {CLIPPING.format(limit=limit)}." if name == "none" else
                         f"Diagnosis: {description}; and then clipped to ±{limit:g} inside the function.")
    narrow = {t.dtype.name for t in result.theirs if t.dtype.kind == "f" and t.dtype.itemsize < 8}
    if narrow and not found:
        found.append(f"Its gradients come back in {_listed(sorted(narrow))}, whose rounding (ε = "
                     f"{max(np.finfo(d).eps for d in narrow):.0e}) is above the float64 rounding this check allows: "
                     f"check a float64 version.")
    return lines + (found or ["No usual mistake fits exactly: look at the arrays that differ."])


