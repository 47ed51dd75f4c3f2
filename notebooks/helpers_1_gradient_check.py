"""The tables, figures and sentences of notebooks/1_gradient_check.ipynb: the code of
loss_and_gradients shown from rnnlib itself, the m = 5 check's reference (long double where it is
wider than float64, else the complex step), the relative errors of the analytic gradients against
centred differences and the complex step (GradientCheck), where the float64 centred differences'
error comes from (its rounding scale, in a figure, in words and in a table), gradcheck's
demonstration, and the summary's lines.
"""

import inspect
import math

import numpy as np
from tqdm.auto import tqdm

import gradcheck
import rnnlib
from rnnlib import RNN, Corpus
from shared import Table, subplots


def show_source(function):
    """The source of one of rnnlib's functions, highlighted: the code itself, not a copy.  The
    colours are inline styles, so the static report needs no stylesheet for them."""
    from IPython.display import HTML
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    code = highlight(inspect.getsource(function), PythonLexer(), HtmlFormatter(noclasses=True, nowrap=True))
    return HTML('<pre class="source" style="font-family: var(--jp-code-font-family, monospace); font-size: '
                f'var(--jp-code-font-size, 13px); line-height: 1.35; background: #f7f7f7; padding: 0.6em">{code}</pre>')


def sequences(corpus: Corpus, count: int, seq_length: int = rnnlib.SEQ_LENGTH):
    """The first `count` training sequences (x, y) of the corpus, as train takes them."""
    return [rnnlib.sequence_at(corpus.data, e, seq_length) for e in range(0, count * seq_length, seq_length)]


# What the m = 5 check's centred differences evaluate the loss in: long double, which is 80-bit extended
# precision on x86 Linux but float64 itself on Apple silicon and Windows (the tests set it to float64).
LONG_DOUBLE = np.longdouble


def long_double_is_wider() -> bool:
    """Whether LONG_DOUBLE has a smaller machine epsilon than float64."""
    return np.finfo(LONG_DOUBLE).eps < np.finfo(np.float64).eps


def assignment_reference() -> str:
    """The reference for the m = 5 check, printed with why: centred differences with the losses in long
    double where long double is wider than float64; the complex step where it is not, since plain float64
    centred differences can put a right gradient above the assignment's threshold (the appendix measures it)."""
    eps, eps64 = float(np.finfo(LONG_DOUBLE).eps), float(np.finfo(np.float64).eps)
    if long_double_is_wider():
        print(f"Reference: centred differences, the losses in long double, which on this machine is wider than "
              f"float64 (machine epsilon {eps:.1e} against {eps64:.1e}): their rounding is {eps64 / eps:,.0f} times "
              f"smaller, so the estimate's error is its truncation, of order delta^2.")
        return "centred differences"
    print(f"Reference: the complex step. On this machine long double is no wider than float64 (machine epsilon "
          f"{eps:.1e}, as on Apple silicon and Windows), and float64 centred differences can put a right gradient "
          f"above the threshold through their rounding (the appendix shows by how much); the complex step has "
          f"no subtraction, so no such rounding.")
    return "complex step"


GRADIENT_REFERENCES = {
    "centred differences": lambda rnn, x, y, h0: rnnlib.numerical_gradients(rnn, x, y, h0, dtype=LONG_DOUBLE),
    "centred differences, float64": lambda rnn, x, y, h0: rnnlib.numerical_gradients(rnn, x, y, h0, dtype=np.float64),
    "complex step": rnnlib.complex_step_gradients,
}
CHECK_ORDER = ("b", "c", "W", "U", "V")  # the published report's row order


class GradientCheck(Table):
    """Relative errors of loss_and_gradients against reference gradients: a row per
    parameter (b, c, W, U, V), a column per (reference, sequence)."""

    def __init__(self, rnn: RNN, seqs, references=("centred differences",), h0=None, progress=True):
        h0 = np.zeros(rnn.m) if h0 is None else h0
        self.losses, self.analytic = zip(*(rnnlib.loss_and_gradients(rnn, x, y, h0)[:2] for x, y in seqs))
        self.references = {}                        # (reference, sequence index) -> Params
        columns, errors = [], []
        pairs = [(ref, i) for ref in references for i in range(len(seqs))]
        for ref, i in tqdm(pairs, desc=f"{rnn.theta.size:,} entries, each reference", unit="reference",
                           disable=not progress):
            other = self.references[ref, i] = GRADIENT_REFERENCES[ref](rnn, *seqs[i], h0)
            columns.append(f"{ref}, sequence {i + 1}")
            errors.append([rnnlib.relative_error(self.analytic[i][name], other[name]) for name in CHECK_ORDER])
        self.errors = np.array(errors).T            # (parameters, columns)
        super().__init__(["parameter", *columns],
                         [[name, *row] for name, row in zip(CHECK_ORDER, self.errors.tolist())],
                         title=f"relative errors, m = {rnn.m}")

    def assert_below(self, threshold: float, reference: str | None = None) -> None:
        """Raise AssertionError naming every error at or above threshold (in the columns of one
        reference, or all); print one line saying all is well otherwise."""
        cols = [j for j, (ref, _) in enumerate(self.references) if reference in (None, ref)]
        bad = [f"{CHECK_ORDER[i]} ({self.columns[1 + j]}): {self.errors[i, j]:.2e}"
               for i in range(len(CHECK_ORDER)) for j in cols if not self.errors[i, j] < threshold]
        if bad or not cols:
            raise AssertionError(f"relative errors not below {threshold:.0e}: {'; '.join(bad) or 'no such column'}")
        print(f"All below {threshold:.0e}: b, c, W, U, V ({reference or 'every reference'}).")

    def worst(self, reference: str) -> tuple[float, str]:
        """The largest relative error in the columns of one reference, and where: "V, sequence 2"."""
        cols = [j for j, (ref, _) in enumerate(self.references) if ref == reference]
        block = self.errors[:, cols]
        i, k = np.unravel_index(np.argmax(block), block.shape)
        return float(block[i, k]), f"{CHECK_ORDER[i]}, sequence {list(self.references)[cols[k]][1] + 1}"


def threshold_verdict(check: GradientCheck, reference: str, threshold: float = 1e-6) -> None:
    """One line: whether a reference's largest relative error is below the threshold, and where it is."""
    error, where = check.worst(reference)
    if error < threshold:
        print(f"{reference}: largest relative error {error:.2e} ({where}), below {threshold:.0e}.")
    else:
        print(f"{reference}: largest relative error {error:.2e} ({where}), above {threshold:.0e}: a check "
              f"against plain float64 centred differences can fail with a right gradient.")


def error_anatomy(check: GradientCheck, estimate: str, exact: str = "complex step", sequence: int = 0) -> Table:
    """Where an estimate's relative error comes from, per parameter: its largest absolute
    error against the exact gradient, the analytic gradient's, and the size of the entry
    whose relative error is worst.  Needs both references in the check."""
    rows = []
    for name in CHECK_ORDER:
        g, est = check.analytic[sequence][name], check.references[estimate, sequence][name]
        ref = check.references[exact, sequence][name]
        ratio = rnnlib.relative_errors(g, est)
        worst = np.unravel_index(np.argmax(ratio), ratio.shape)
        rows.append([name, float(np.abs(est - ref).max()), float(np.abs(g - ref).max()),
                     float(np.abs(ref).max()), float(abs(ref[worst])), float(ratio[worst])])
    return Table(["parameter", "max abs error, estimate", "max abs error, analytic", "largest |gradient|",
                  "|gradient| at the worst entry", "worst relative error"], rows,
                 title=f"{estimate} against the {exact} (sequence {sequence + 1})")


def rounding_scale(check: GradientCheck, sequence: int = 0, delta: float = 1e-4) -> float:
    """eps L / 2 delta: the typical size of the rounding error of float64 centred differences at the
    sequence's loss L, not a bound (two losses each off by up to eps L give up to 2 eps L / 2 delta, and a
    loss summed over many steps carries more than one rounding)."""
    return float(np.finfo(np.float64).eps * check.losses[sequence] / (2 * delta))


def plot_error_floor(check: GradientCheck, sequence: int = 0, delta: float = 1e-4):
    """Per entry of all five arrays, log-log: the analytic gradient's distance from each reference
    against the size of the gradient, with the rounding scale of float64 centred differences,
    eps * L / 2 delta, and twice it.  Needs the complex step and the float64 centred differences in the
    check; an exact agreement (distance 0) is drawn at the bottom edge."""
    g, size = check.analytic[sequence].theta, np.abs(check.references["complex step", sequence].theta)
    nonzero = size > 0  # U's columns for characters the sequence lacks: a gradient of exactly 0 everywhere
    fig, ax = subplots(figsize=(8, 4.8))
    bottom, largest = None, {}
    for ref, colour in (("centred differences, float64", "C1"), ("complex step", "C0")):
        distance = np.abs(g - check.references[ref, sequence].theta)[nonzero]
        shown = distance > 0
        largest[ref] = distance.max()
        ax.loglog(size[nonzero][shown], distance[shown], ".", ms=2, alpha=0.4, color=colour,
                  label=f"{ref} (largest {distance.max():.1e})")
        low = distance[shown].min() if shown.any() else 1e-20
        bottom = low if bottom is None else min(bottom, low)
        if not shown.all():  # the reference equals the analytic gradient to the last bit: no log for 0
            ax.plot(size[nonzero][~shown], np.full((~shown).sum(), bottom / 10), "|", ms=6, color=colour,
                    label=f"{ref}: {(~shown).sum():,} entries equal to the last bit (distance 0)")
    scale = rounding_scale(check, sequence, delta)
    ax.axhline(2 * scale, color="C3", lw=1, ls=":", label=f"2ε·L/2δ = {2 * scale:.1e}: two losses each off by ε·L")
    ax.axhline(scale, color="C3", lw=1, ls="--",
               label=f"float64 rounding scale ε·L/2δ = {scale:.1e} (typical, not a bound)")
    ax.set(xlabel="|gradient| (complex step)", ylabel="|analytic − reference|", ylim=(bottom / 30, None),
           title=f"{nonzero.sum():,} nonzero gradient entries of {size.size:,}, m = {check.analytic[sequence].m} "
                 f"(sequence {sequence + 1})")
    ax.legend(loc="center left", markerscale=3, fontsize=9)
    ax.grid(alpha=0.3, which="major")
    return fig.describe(
        f"Log-log scatter of the {nonzero.sum():,} nonzero gradient entries at m = {check.analytic[sequence].m}: the "
        f"distance of the analytic gradient from each reference against the size of the gradient. The distances "
        f"from the float64 centred differences reach {largest['centred differences, float64']:.1e}, around a "
        f"dashed line at their typical rounding scale {scale:.1e} and a dotted one at twice it; those from the "
        f"complex step reach only {largest['complex step']:.1e}, far below them.")


def error_floor_facts(check: GradientCheck, sequence: int = 0, delta: float = 1e-4, small: float = 1e-3) -> dict:
    """The figure's facts in words: the entries left out as exactly zero; where the float64 centred
    estimate lies further than its rounding scale eps·L/2δ from the analytic gradient (where its O(δ²)
    truncation error, which grows with the entry, is the larger part); and, among the entries below
    `small`, where rounding is the larger part, the largest distance in units of that scale.
    Returns {"scale", "largest"}: the scale and that largest distance."""
    g, size = check.analytic[sequence].theta, np.abs(check.references["complex step", sequence].theta)
    distance = np.abs(g - check.references["centred differences, float64", sequence].theta)
    scale = rounding_scale(check, sequence, delta)
    print(f"{(size == 0).sum():,} of {size.size:,} entries have a gradient of exactly 0 by every method (the "
          f"columns of U for characters the sequence lacks) and are left out of the log-log figure.")
    edges = [0.0, 1e-3, 1e-2, 1e-1, math.inf]
    shares = []
    for low, high in zip(edges, edges[1:]):
        inside = (size > 0) & (size >= low) & (size < high)
        if inside.any():
            span = f"below {high:.0e}" if low == 0 else f"{low:.0e} and over" if high == math.inf else \
                f"{low:.0e} to {high:.0e}"
            shares.append(f"{span}: {(distance[inside] > scale).mean():.1%} of {inside.sum():,}")
    print(f"Entries whose centred estimate is further than the rounding scale ε·L/2δ = {scale:.1e} from the "
          f"analytic gradient, by |gradient|: {'; '.join(shares)}.")
    largest = float(distance[(size > 0) & (size < small)].max())
    bound = "above even" if largest > 2 * scale else "below"
    print(f"Among the entries below {small:.0e}, where rounding is the larger part, the largest distance is "
          f"{largest:.1e}, {largest / scale:.1f} times ε·L/2δ, {bound} the 2ε·L/2δ that two losses each off by "
          f"ε·L would give: ε·L/2δ is the rounding's typical scale, not a floor under it nor a bound over it.")
    return dict(scale=scale, largest=largest)


def demonstration() -> dict:
    """gradcheck.demonstration() shown: for the right implementation and each of the three usual
    mistakes, its title, then the check's table and verdict.  Returns {title: gradcheck.Result}."""
    results = gradcheck.demonstration()
    for title, result in results.items():
        print(f"--- ComputeGradients, {'right' if title == 'right' else 'which ' + title}\n{result}\n")
    return results


def summary(check5: GradientCheck, reference: str, check100: GradientCheck, demonstrated: dict,
            threshold: float = 1e-6) -> None:
    """The notebook's findings, one line each, from its checks and the demonstration (over every
    entry of b, c, U, W and V; which array holds the largest error varies with the machine's rounding,
    and the tables above say)."""
    error5, _ = check5.worst(reference)
    named = {"centred differences": "centred differences in long double"}.get(reference, f"the {reference}")
    print(f"- m = {check5.analytic[0].m}, against {named}: largest relative error {error5:.2e}, "
          f"{'below' if error5 < threshold else 'not below'} the assignment's {threshold:.0e}.")
    exact, _ = check100.worst("complex step")
    print(f"- m = {check100.analytic[0].m}, against the complex step: largest relative error {exact:.2e}, "
          f"agreement to rounding.")
    plain, _ = check100.worst("centred differences, float64")
    anatomy = error_anatomy(check100, "centred differences, float64")
    estimate, analytic = max(row[1] for row in anatomy.rows), max(row[2] for row in anatomy.rows)
    print(f"- Plain float64 centred differences at m = {check100.analytic[0].m}: largest relative error {plain:.2e} "
          f"on an entry whose gradient is itself tiny. Against the complex step their largest absolute "
          f"error is {estimate:.1e}, the analytic gradient's {analytic:.1e}: the estimate's own error (its rounding "
          f"and truncation), not a wrong gradient.")
    broken = {title: result for title, result in demonstrated.items() if title != "right"}
    named = [title for title, result in broken.items()
             if not result.ok and any(line.startswith("Diagnosis:") for line in result.diagnosis)]
    print(f"- gradcheck: the right implementation {'passes' if demonstrated['right'].ok else 'does not pass'}; "
          f"{len(named)} of the {len(broken)} broken ones are caught with their mistake named"
          + (f" ({'; '.join(named)})." if named else "."))
