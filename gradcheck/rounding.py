"""Your own centred-difference check, explained: the error rounding alone gives it at your step δ and
dtype, measured as notebook 1 measures it, and whether that explains your numbers or it is a bug.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

import rnnlib

# Rounding alone keeps a right gradient's centred differences within this many times eps L / 2 delta:
# measured against rnnlib's exact gradients at steps too small for truncation to show (float64 at 1e-6
# and 1e-7, float32 at 1e-3): up to 3.1 times.  tests/test_gradcheck.py measures it again.
ROUNDING_MARGIN = 4


def rounding_floor(delta: float, loss: float, dtype=np.float64) -> float:
    """eps L / 2 delta: the error rounding gives the centred difference (L(θ+δ) − L(θ−δ)) / 2δ computed
    in dtype (eps its machine epsilon) at a loss near L, as notebook 1 draws it."""
    return float(np.finfo(np.dtype(dtype)).eps * abs(loss) / (2 * delta))


@dataclass(frozen=True)
class Explanation:
    """explain_finite_differences's answer: its lines, and `rounding`: True when rounding explains the
    numbers given, False when it cannot, None when no numbers were given."""

    lines: list
    rounding: bool | None

    def __str__(self):
        return "\n".join(textwrap.fill(line, 100, break_on_hyphens=False) for line in self.lines)


def explain_finite_differences(delta: float, loss: float, dtype=np.float64, *, analytic=None, numerical=None,
                               relative_error=None, gradient=None, threshold: float = 1e-6) -> Explanation:
    """Whether rounding explains the error of your own centred-difference check, at step delta in dtype,
    on a sequence whose loss is near `loss`.

    Give your analytic and numerical gradients (two arrays, or two dicts of arrays under the same names),
    or a relative error and the size |g| of the entry it is at (gradient), or a relative error alone, or
    none (then: what rounding allows at each size of entry).  An entry's difference is rounding when it is
    within ROUNDING_MARGIN times rounding_floor; the answer is yes when that holds for every entry whose
    relative error (rnnlib.relative_errors) is above `threshold`.
    """
    delta, floor = rnnlib.positive_number(delta, "delta"), rounding_floor(delta, loss, dtype)
    sizes = ", ".join(f"{min(1.0, floor / (2 * g)):.0e} at {g:.0e}" for g in (1e-8, 1e-6, 1e-4, 1e-2, 1.0))
    lines = [f"Centred differences at δ = {delta:g} in {np.dtype(dtype).name}, loss near {loss:.4g}: rounding alone "
             f"gives each entry an error up to about ε·L/2δ = {floor:.1e} (ε = {np.finfo(np.dtype(dtype)).eps:.1e}; "
             f"a right gradient stays within {ROUNDING_MARGIN} times that), so a relative error near "
             f"{floor:.1e} / 2|g| at an entry of size |g|: {sizes}."]
    no = ("No: not rounding. A bug, unless δ is large enough for the O(δ²) truncation error to show: at δ/10 "
          "truncation falls 100-fold and rounding grows 10-fold, while a bug's difference stays. gradcheck.check "
          "names the usual mistakes.")
    yes = ("Yes: rounding explains it; the gradient is right as far as this check can see. A check rounding "
           "cannot fail: centred differences in long double (rnnlib.numerical_gradients), the complex step, or "
           "gradcheck.check.")
    if analytic is not None and numerical is not None:
        if not isinstance(analytic, Mapping):
            analytic, numerical = {"gradient": analytic}, {"gradient": numerical}
        worst = 0.0
        for name, a in analytic.items():
            a, n = np.asarray(a, dtype=np.float64), np.asarray(numerical[name], dtype=np.float64)
            flagged = rnnlib.relative_errors(a, n) > threshold
            ratio = float((np.abs(a - n)[flagged] / floor).max(initial=0.0))
            worst = max(worst, ratio)
            lines.append(f"{name}: {flagged.sum():,} of {a.size:,} entries have a relative error above {threshold:g}"
                         + (f" (the largest {rnnlib.relative_error(a, n):.1e}); their differences reach {ratio:.2g} "
                            f"times ε·L/2δ." if flagged.any() else "."))
        return Explanation(lines + [yes if worst <= ROUNDING_MARGIN else no], worst <= ROUNDING_MARGIN)
    if relative_error is None:
        return Explanation(lines, None)
    relative_error = rnnlib.positive_number(relative_error, "relative_error")
    if gradient is None:
        largest = ROUNDING_MARGIN * floor / (2 * relative_error)
        return Explanation(lines + [f"A relative error of {relative_error:.1e} is rounding at an entry no larger than "
                                    f"{largest:.1e}; at a larger entry it is not rounding."], None)
    ratio = 2 * relative_error * abs(gradient) / floor   # relative error = |difference| / (|a| + |n|)
    lines.append(f"A relative error of {relative_error:.1e} at an entry of size {abs(gradient):.1e} is a difference "
                 f"of {2 * relative_error * abs(gradient):.1e}: {ratio:.2g} times ε·L/2δ.")
    return Explanation(lines + [yes if ratio <= ROUNDING_MARGIN else no], ratio <= ROUNDING_MARGIN)


