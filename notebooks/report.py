"""The report's tables, figures and widgets: what the notebooks show, computed with rnnlib.

The notebooks narrate and call these; rnnlib.py holds the computation only.  Sections: the
published run · tables · gradient checks · training · synthesis · beyond the assignment.
"""

import asyncio
import concurrent.futures
import contextlib
import html
import inspect
import io
import json
import math
import numbers
import os
import re
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import rnnlib
import runs
from rnnlib import RNN, Corpus, History, TrainingState

# The smooth loss of the published run, the DD2424 Assignment 4 report by Rui Qu (KTH, May 2019): m = 100,
# eta = 0.1, seq_length = 25, sigma = 0.01, as that report prints it every 10,000 updates.
PUBLISHED_SMOOTH_LOSS = {0: 109.55, 10_000: 54.33, 20_000: 51.04, 30_000: 49.61, 40_000: 48.47,
                         50_000: 49.01, 60_000: 47.71, 70_000: 47.45, 80_000: 45.77, 90_000: 46.49,
                         100_000: 47.42}


def _crisp_figures() -> None:
    """Notebook figures as PNG at twice matplotlib's 100 dpi, shown at their size ("retina"): 200
    dots per inch of figure, so they stay sharp when the report is printed."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")


_crisp_figures()


def perplexity(bits_per_char):
    """2 ** bits per character: the number of equally likely characters the model's uncertainty
    amounts to, the measure other courses report beside bits per character."""
    return 2.0 ** np.asarray(bits_per_char)


def power_of_ten(x: float) -> str:
    """10 to the power of log10(x), written with superscripts: 1e-15 -> "10⁻¹⁵"."""
    exponent = round(math.log10(x))
    return "10" + str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


class Table:
    """A small table: shown as HTML in notebooks and as aligned text elsewhere.

    columns: header strings;  rows: sequences of values;  floats are shown with `float_format`.
    """

    def __init__(self, columns, rows, *, title="", float_format="{:.2e}"):
        self.columns, self.rows = list(columns), [list(row) for row in rows]
        self.title, self.float_format = title, float_format

    def _cell(self, value) -> str:
        if isinstance(value, (float, np.floating)):
            return "—" if math.isnan(value) else self.float_format.format(value)
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)

    def __repr__(self):
        cells = [self.columns] + [[self._cell(v) for v in row] for row in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(([self.title] if self.title else []) + lines)

    def _repr_html_(self):
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(self._cell(v))}</td>" for v in row) + "</tr>"
                       for row in self.rows)
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


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


def sequences(corpus: Corpus, count: int, seq_length: int = 25):
    """The first `count` training sequences (x, y) of the corpus, as train takes them."""
    return [rnnlib.sequence_at(corpus.data, e, seq_length) for e in range(0, count * seq_length, seq_length)]


GRADIENT_REFERENCES = {
    "centred differences": rnnlib.numerical_gradients,
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


def plot_error_floor(check: GradientCheck, sequence: int = 0, delta: float = 1e-4):
    """Per entry of all five arrays, log-log: the analytic gradient's distance from each reference
    against the size of the gradient, with the rounding floor of float64 centred differences,
    eps * L / 2 delta.  Needs the complex step and the float64 centred differences in the check;
    an exact agreement (distance 0) is drawn at the bottom edge."""
    import matplotlib.pyplot as plt

    g, size = check.analytic[sequence].theta, np.abs(check.references["complex step", sequence].theta)
    nonzero = size > 0  # U's columns for characters the sequence lacks: a gradient of exactly 0 everywhere
    fig, ax = plt.subplots(figsize=(8, 4.8))
    bottom = None
    for ref, colour in (("centred differences, float64", "C1"), ("complex step", "C0")):
        distance = np.abs(g - check.references[ref, sequence].theta)[nonzero]
        shown = distance > 0
        ax.loglog(size[nonzero][shown], distance[shown], ".", ms=2, alpha=0.4, color=colour,
                  label=f"{ref} (largest {distance.max():.1e})")
        low = distance[shown].min() if shown.any() else 1e-20
        bottom = low if bottom is None else min(bottom, low)
        if not shown.all():  # the reference equals the analytic gradient to the last bit: no log for 0
            ax.plot(size[nonzero][~shown], np.full((~shown).sum(), bottom / 10), "|", ms=6, color=colour,
                    label=f"{ref}: {(~shown).sum():,} entries equal to the last bit (distance 0)")
    floor = np.finfo(np.float64).eps * check.losses[sequence] / (2 * delta)
    ax.axhline(floor, color="C3", lw=1, ls="--", label=f"float64 rounding floor ε·L/2δ = {floor:.1e}")
    ax.set(xlabel="|gradient| (complex step)", ylabel="|analytic − reference|", ylim=(bottom / 30, None),
           title=f"{nonzero.sum():,} nonzero gradient entries of {size.size:,}, m = {check.analytic[sequence].m} "
                 f"(sequence {sequence + 1})")
    ax.legend(loc="center left", markerscale=3, fontsize=9)
    ax.grid(alpha=0.3, which="major")
    return fig


def error_floor_facts(check: GradientCheck, sequence: int = 0, delta: float = 1e-4) -> None:
    """The figure's facts in words: the entries left out as exactly zero, and where the float64
    centred estimate rises above its rounding floor eps·L/2δ (where its O(δ²) truncation error,
    which grows with the entry, is the larger part)."""
    g, size = check.analytic[sequence].theta, np.abs(check.references["complex step", sequence].theta)
    distance = np.abs(g - check.references["centred differences, float64", sequence].theta)
    floor = np.finfo(np.float64).eps * check.losses[sequence] / (2 * delta)
    print(f"{(size == 0).sum():,} of {size.size:,} entries have a gradient of exactly 0 by every method (the "
          f"columns of U for characters the sequence lacks) and are left out of the log-log figure.")
    edges = [0.0, 1e-3, 1e-2, 1e-1, math.inf]
    shares = []
    for low, high in zip(edges, edges[1:]):
        inside = (size > 0) & (size >= low) & (size < high)
        if inside.any():
            span = f"below {high:.0e}" if low == 0 else f"{low:.0e} and over" if high == math.inf else \
                f"{low:.0e} to {high:.0e}"
            shares.append(f"{span}: {(distance[inside] > floor).mean():.1%} of {inside.sum():,}")
    print(f"Entries whose centred estimate is further than the rounding floor ε·L/2δ = {floor:.1e} from the "
          f"analytic gradient, by |gradient|: {'; '.join(shares)}.")


def bits(smooth_loss, seq_length: int = 25):
    """A smooth loss (nats per sequence of seq_length characters) in bits per character."""
    return np.asarray(smooth_loss) / seq_length / math.log(2)


def loss_table(history: History, updates=range(0, 100_001, 10_000), published=PUBLISHED_SMOOTH_LOSS) -> Table:
    """Our smooth loss at the given updates (those the run reached) beside the published run's,
    and ours in bits per character and as perplexity."""
    rows = [[u, float(history.smooth_loss[u]), published.get(u, math.nan),
             round(round(float(history.smooth_loss[u]), 2) - published.get(u, math.nan), 2),
             float(bits(history.smooth_loss[u])), float(perplexity(bits(history.smooth_loss[u])))]
            for u in updates if u < history.updates]
    return Table(["update", "smooth loss", "published", "difference", "bits per character", "perplexity"], rows,
                 float_format="{:.2f}")


class SeedRuns:
    """Runs that differ only in the seed of U, W, V (the published run is one such draw), for
    their first `updates` updates, started at once in worker processes (runs.Runner: `runner`,
    or a new one with a worker per core but one, the notebook training its main run meanwhile).

    Each is kept in the results folder under a key of the text, its settings and the code
    (runs.cache_key), and recalled instead of trained again.  from_main: the seed of the main run,
    whose first updates are that seed's run: not started, collect takes it from the main run."""

    def __init__(self, corpus: Corpus, seeds=range(6), updates: int = 20_000, m: int = 100, *,
                 from_main: int | None = None, runner: runs.Runner | None = None):
        self.corpus, self.seeds, self.updates, self.from_main = corpus, list(seeds), updates, from_main
        self.specs = {seed: runs.Spec(m=m, seed=seed, updates=updates) for seed in self.seeds}
        self.kept = {seed: loss for seed in self.seeds if (loss := self._recall(seed)) is not None}
        self.runner, self.own_runner, self.pending, self._keeping = runner, runner is None, {}, threading.Lock()
        for seed in self.seeds:
            if seed not in self.kept and seed != from_main:
                self._start(seed)

    def _path(self, seed) -> Path:
        return rnnlib.RESULTS_DIR / "seed_runs" / f"{runs.cache_key(self.specs[seed], self.corpus.text)}.npy"

    def _recall(self, seed):
        with contextlib.suppress(OSError, ValueError):  # none kept, or a damaged file: train it again
            return np.load(self._path(seed), allow_pickle=False)
        return None

    def _start(self, seed):
        if self.runner is None:
            self.runner = runs.Runner(workers=max(1, runs.default_workers() - 1))
        future = self.runner.submit(runs.run, self.specs[seed], self.corpus.text, self.corpus.source, True)
        future.add_done_callback(lambda done: self._keep_run(seed, done))  # kept even if no one collects it
        self.pending[seed] = future

    def _keep_run(self, seed, future):
        if not future.cancelled() and future.exception() is None:
            with self._keeping:
                if seed not in self.kept:
                    self._keep(seed, future.result().history.smooth_loss)

    def _keep(self, seed, loss):
        path = self._path(seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"partial-{path.name}")  # whole or absent: replaced in one step
        np.save(partial, loss)
        os.replace(partial, path)
        self.kept[seed] = loss

    def _is_main_run(self, history: History, seed: int) -> bool:
        """Whether history is the run of this seed: its first two updates are that run's."""
        spec = self.specs[seed]
        if history is None or history.updates < spec.updates:
            return False
        first = rnnlib.train(RNN.init(self.corpus.K, m=spec.m, rng=seed), self.corpus, updates=2, rng=seed,
                             sample_every=None, progress=False)
        return np.array_equal(first.smooth_loss, history.smooth_loss[:2])

    def collect(self, main: History | None = None) -> dict:
        """{seed: smooth loss per update}, waiting for the runs still training (each is kept as
        it arrives, collected or not).  main: the main run's history, the seed from_main's run
        (trained now instead if main is not that run or stopped before `updates` updates).  A
        stop while waiting stops the workers; the runs already finished stay kept."""
        if self.runner is not None and self.own_runner:  # the main run is over: its core takes seed runs too
            self.runner.workers = runs.default_workers()
        try:
            if self.from_main is not None and self.from_main not in self.kept:
                if self._is_main_run(main, self.from_main):
                    self._keep(self.from_main, main.smooth_loss[:self.updates].copy())
                else:
                    print(f"Seed {self.from_main}'s run is trained too: the main run given is not its run, "
                          f"or stopped before {self.updates:,} updates.")
                    self._start(self.from_main)
            seeds = {future: seed for seed, future in self.pending.items()}
            for future in concurrent.futures.as_completed(seeds):
                future.result()  # a run that failed says so here
                self._keep_run(seeds[future], future)
        except KeyboardInterrupt:
            if self.runner is not None:
                self.runner.cancel()
            raise
        return {seed: self.kept[seed] for seed in self.seeds}


def seed_runs(corpus: Corpus, seeds=range(6), updates: int = 20_000, m: int = 100, *,
              runner: runs.Runner | None = None) -> dict:
    """{seed: smooth loss per update} of SeedRuns: recalled from the results folder, or trained
    in worker processes now."""
    return SeedRuns(corpus, seeds, updates, m, runner=runner).collect()


def band_marks(runs: dict, published=PUBLISHED_SMOOTH_LOSS) -> list[int]:
    """The updates after the first at which the published run has a value and every seed run has
    reached: where the band of seeds exists for the published run to fall in."""
    updates = min(len(loss) for loss in runs.values())
    return [u for u in published if 0 < u < updates]


def seed_table(runs: dict, published=PUBLISHED_SMOOTH_LOSS) -> Table:
    """The smooth loss of each seed run where the published run has a value within the band, and
    after the runs' last update; the published run's below."""
    updates = min(len(loss) for loss in runs.values())
    marks = band_marks(runs, published)
    rows = [[f"seed {seed}", *(float(loss[u]) for u in marks), float(loss[updates - 1])] for seed, loss in runs.items()]
    rows.append(["published", *(published[u] for u in marks), math.nan])
    return Table(["run", *(f"update {u:,}" for u in marks), f"after {updates:,} updates"], rows,
                 float_format="{:.2f}")


def band_place(value: float, band) -> str:
    """Where a value falls among the band's values, in words: "below all 6 seeds", "above 2 of the
    6 seeds", ..."""
    below = sum(v < value for v in band)
    if below == 0:
        return f"below all {len(band)} seeds"
    if below == len(band):
        return f"above all {len(band)} seeds"
    return f"within the band: above {below} of the {len(band)} seeds"


def plot_smooth_loss(history: History, runs: dict | None = None, published=PUBLISHED_SMOOTH_LOSS, ax=None):
    """The smooth loss per update, with other seeds' runs drawn thinly behind, epoch boundaries
    dashed, the published run's points marked, and bits per character on the right axis."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.5))
    for i, loss in enumerate((runs or {}).values()):
        ax.plot(np.arange(len(loss)), loss, lw=0.6, color="grey", alpha=0.6,
                label=f"{len(runs)} seeds, first {len(loss):,} updates" if i == 0 else None)
    ax.plot(np.arange(history.updates), history.smooth_loss, lw=1, color="C0", label="smooth loss (this run)")
    for start in range(history.updates_per_epoch, history.updates, history.updates_per_epoch):
        ax.axvline(start, color="grey", ls="--", lw=0.8)
    points = {u: v for u, v in published.items() if u < history.updates}
    if points:
        ax.plot(list(points), list(points.values()), "o", ms=4, color="C1", label="published run (Rui Qu, 2019)")
    ax.set(xlabel="update", ylabel="smooth loss (nats per 25 characters)",
           title=f"Smooth loss, {history.updates:,} updates (dashed lines: epoch boundaries)")
    ax.secondary_yaxis("right", functions=(bits, lambda b: np.asarray(b) * 25 * math.log(2))).set_ylabel(
        "bits per character")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax.figure


def training_summary(history: History, runs: dict, published=PUBLISHED_SMOOTH_LOSS) -> None:
    """The run's facts for the summary, as this run measured them: its best, where the published
    run falls within the band of seeds wherever the band exists, and the band's width at its end."""
    updates = min(len(loss) for loss in runs.values())
    best_bits = float(bits(history.best_loss))
    print(f"- {history.updates:,} updates; lowest smooth loss {history.best_loss:.2f} ({best_bits:.2f} bits per "
          f"character, perplexity {float(perplexity(best_bits)):.2f}) at update {history.best_update:,}.")
    for u in band_marks(runs, published):
        band = [float(loss[u]) for loss in runs.values()]
        print(f"- Update {u:,}: the published run's {published[u]:.2f} is {band_place(published[u], band)} "
              f"({min(band):.2f} to {max(band):.2f}).")
    ends = [float(loss[updates - 1]) for loss in runs.values()]
    print(f"- After {updates:,} updates the {len(ends)} seeds range from {min(ends):.2f} to {max(ends):.2f}, a spread "
          f"of {max(ends) - min(ends):.2f}; beyond that no band was measured, and the published run is one "
          f"more draw beside this one.")


def print_samples(history: History) -> None:
    """Each sample with its update number and the smooth loss then."""
    for update, text in sorted(history.samples.items()):
        print(f"--- update {update:,}, smooth loss {history.smooth_loss[update]:.2f}\n{text}\n")


# One seed, prime and length for every synthesis view (the fixed temperatures, the live explorer and its
# static copy), so that at the same temperature they all show the same text.  The prime None is the
# corpus's first character.
SAMPLE_LENGTH, SAMPLE_SEED, SAMPLE_PRIME = 300, 0, None
# The temperature slider's range, live and static.
T_MIN, T_MAX, T_STEP = 0.1, 2.0, 0.05
PRIME_PAUSE = 0.3  # seconds without a key press after which the live explorer applies a typed prime


class Sample:
    """A generated text after its prime: shown with the prime marked apart, as char-rnn prints
    its primetext before what the model wrote.  Text, escaped in HTML, whatever it holds."""

    def __init__(self, prime: str, text: str, caption: str = ""):
        self.prime, self.text, self.caption = prime, text, caption

    def __repr__(self):
        return (f"--- {self.caption}\n" if self.caption else "") + f"[prime: {self.prime!r}]\n{self.prime}{self.text}"

    def _repr_html_(self):
        caption = f"<div><b>{html.escape(self.caption)}</b></div>" if self.caption else ""
        return (f'{caption}<pre style="white-space: pre-wrap"><span style="background: #ffe8a8" title="the prime">'
                f"{html.escape(self.prime)}</span>{html.escape(self.text)}</pre>")


def sample(rnn: RNN, corpus: Corpus, n: int, *, temperature: float = 1.0, seed: int = 0, prime=None,
           caption: str = "") -> Sample:
    """n characters from rnn after the prime (default: the corpus's first character)."""
    prime = corpus.text[0] if prime is None else prime
    return Sample(prime, rnnlib.generate(rnn, corpus, n, temperature=temperature, prime=prime, rng=seed), caption)


def show_temperatures(rnn: RNN, corpus: Corpus, temperatures=(0.5, 0.75, 1.0, 1.5), n: int = SAMPLE_LENGTH,
                      seed: int = SAMPLE_SEED, prime=SAMPLE_PRIME) -> None:
    """A text of n characters at each temperature, all from the same seed and prime."""
    from IPython.display import display

    for T in temperatures:
        display(sample(rnn, corpus, n, temperature=T, seed=seed, prime=prime, caption=f"temperature {T}"))


WORD = re.compile(r"[^\W\d_]+")  # a run of letters


def temperature_effects(rnn: RNN, corpus: Corpus, temperatures=np.round(np.arange(0.1, 2.01, 0.1), 2),
                        seeds=range(5), n: int = 1000, prime=None) -> dict:
    """For each temperature T, means over the seeds of n generated characters: the entropy of
    the distribution each character was drawn from, softmax(o / T), in bits; the share of
    the generated words that occur in the training text; and the share of distinct words among
    them (lower: more repetition)."""
    prime = corpus.text[0] if prime is None else prime
    known = set(WORD.findall(corpus.text))
    entropy, words, distinct = (np.zeros((len(temperatures), len(seeds))) for _ in range(3))
    for i, T in enumerate(temperatures):
        for j, seed in enumerate(seeds):
            text = rnnlib.generate(rnn, corpus, n, temperature=T, prime=prime, rng=seed)
            x = corpus.encode(prime + text)[:-1]      # the inputs that gave each drawn character
            H = rnnlib.hidden_states(rnn, x, np.zeros(rnn.m))
            P = rnnlib.softmax((H[len(prime):] @ rnn.V.T + rnn.c) / T)   # (n, K)
            entropy[i, j] = -(P * np.log2(np.maximum(P, 1e-300))).sum(axis=1).mean()
            found = WORD.findall(text)
            words[i, j] = np.mean([w in known for w in found]) if found else math.nan
            distinct[i, j] = len(set(found)) / len(found) if found else math.nan
    return {"temperature": np.asarray(temperatures), "entropy": entropy.mean(axis=1),
            "known words": np.nanmean(words, axis=1), "distinct words": np.nanmean(distinct, axis=1),
            "seeds": len(seeds), "n": n}


def plot_temperature_effects(effects: dict):
    """Entropy and the share of real words against the temperature, side by side."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    T = effects["temperature"]
    left.plot(T, effects["entropy"], "o-", ms=3)
    left.set(xlabel="temperature T", ylabel="bits", title="Entropy of the next-character distribution")
    right.plot(T, 100 * effects["known words"], "o-", ms=3, color="C2")
    right.set(xlabel="temperature T", ylabel="%", ylim=(0, 100), title="Generated words found in the training text")
    for ax in (left, right):
        ax.axvline(1.0, color="grey", lw=0.8, ls="--")
        ax.grid(alpha=0.3)
    fig.suptitle(f"Means over {effects['seeds']} seeds of {effects['n']:,} characters each", fontsize=10)
    fig.tight_layout()
    return fig


def effects_table(effects: dict, temperatures=(0.2, 0.5, 1.0, 1.5, 2.0)) -> Table:
    """Some rows of temperature_effects."""
    rows = [[f"{T:.2f}", float(e), 100 * float(w), 100 * float(d)]
            for T, e, w, d in zip(effects["temperature"], effects["entropy"], effects["known words"],
                                  effects["distinct words"])
            if np.isclose(temperatures, T).any()]
    return Table(["temperature", "entropy (bits)", "words found in the training text (%)", "distinct words (%)"],
                 rows, float_format="{:.2f}")


def synthesis_summary(effects: dict, low: float = 0.5, high: float = 1.5) -> None:
    """The summary's facts, from the measured effects: real and distinct words at T = 1 and at a
    lower and a higher temperature, and whether lowering T repeated words more."""
    at = {name: dict(zip(np.round(effects["temperature"], 2).tolist(), effects[name].tolist()))
          for name in ("known words", "distinct words", "entropy")}
    for T in (low, 1.0, high):
        print(f"- T = {T:.2f}: {100 * at['known words'][T]:.1f} % of the generated words occur in the training "
              f"text, {100 * at['distinct words'][T]:.1f} % of them are distinct, entropy {at['entropy'][T]:.2f} bits.")
    lower, upper = at["distinct words"][low], at["distinct words"][1.0]
    print(f"- From T = 1.00 down to T = {low:.2f} the share of distinct words "
          + (f"falls from {100 * upper:.1f} % to {100 * lower:.1f} %: the real words come with more repetition."
             if lower < upper else f"does not fall ({100 * upper:.1f} % to {100 * lower:.1f} %): no more "
             f"repetition was measured."))


def static_temperature_slider(rnn: RNN, corpus: Corpus, *, temperature=1.0, length=SAMPLE_LENGTH,
                              seed=SAMPLE_SEED, prime=SAMPLE_PRIME) -> str:
    """The temperature slider without a kernel, as one self-contained piece of HTML: a text of
    `length` characters sampled now at every step from T_MIN to T_MAX, a plain range input with
    a readout of T, and a few lines of JavaScript that show the text for the chosen T, after
    the prime, marked as in the fixed-temperature texts."""
    prime = corpus.text[0] if prime is None else prime
    steps = round((T_MAX - T_MIN) / T_STEP)
    texts = {f"{T:.2f}": rnnlib.generate(rnn, corpus, length, temperature=T, prime=prime, rng=seed)
             for T in (round(T_MIN + i * T_STEP, 2) for i in range(steps + 1))}
    start = f"{min(max(round(temperature / T_STEP) * T_STEP, T_MIN), T_MAX):.2f}"
    # Inside <script> only "</" (a closing tag) and "<!--" change the parse: with every "<" written as
    # \u003c, any generated text stays data, and the script sets it with textContent, so it stays text.
    data = json.dumps(texts, ensure_ascii=False).replace("<", "\\u003c")
    return f"""<div class="static-temperature-slider">
<label>temperature <input type="range" min="{T_MIN}" max="{T_MAX}" step="{T_STEP}" value="{start}"
 aria-label="temperature" style="width: 24em; vertical-align: middle"> <output>{start}</output></label>
<p>Sampled when this report was built: {length:,} characters at each temperature from {T_MIN:.2f} to \
{T_MAX:.2f} in steps of {T_STEP}, with seed {seed}. Drag the slider or use the arrow keys.</p>
<p class="on-paper" style="display: none">On paper: this slider lives in the HTML copy of the report \
(build/report.html); the texts at fixed temperatures above are its texts at those positions.</p>
<pre style="border: 1px solid #ccc; padding: 0.5em; white-space: pre-wrap; font-family: var(--jp-code-font-family, \
monospace); font-size: var(--jp-code-font-size, 13px); line-height: var(--jp-code-line-height, 1.3)">\
<span style="background: #ffe8a8" title="the prime">{html.escape(prime)}</span><span class="continuation">\
{html.escape(texts[start])}</span></pre>
<script type="application/json">{data}</script>
<script>
(function (box) {{
  var texts = JSON.parse(box.querySelector('script[type="application/json"]').textContent);
  var slider = box.querySelector("input"), readout = box.querySelector("output");
  var text = box.querySelector("pre .continuation");
  slider.addEventListener("input", function () {{
    readout.textContent = Number(slider.value).toFixed(2);
    text.textContent = texts[readout.textContent];
  }});
}})(document.currentScript.parentElement);
</script>
</div>"""


def temperature_explorer(rnn: RNN, corpus: Corpus, *, temperature=1.0, length=SAMPLE_LENGTH, seed=SAMPLE_SEED,
                         prime=SAMPLE_PRIME):
    """Sliders for temperature (0.1–2.0) and length, a seed box, a prime box, and the text they
    give (the prime, then the continuation), re-sampled from rnn whenever one of them changes:
    the prime as it is typed, once typing pauses (no Enter needed).  A prime with characters
    outside the vocabulary shows a message naming them instead.
    Returns the ipywidgets box."""
    import ipywidgets as widgets

    style, layout = {"description_width": "10em"}, widgets.Layout(width="36em")  # labels in full, aligned
    controls = {
        "temperature": widgets.FloatSlider(value=temperature, min=T_MIN, max=T_MAX, step=T_STEP,
                                           description="temperature", readout_format=".2f",
                                           continuous_update=False, style=style, layout=layout),
        "length": widgets.IntSlider(value=length, min=20, max=2000, step=10, description="length (characters)",
                                    continuous_update=False, style=style, layout=layout),
        "seed": widgets.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed", style=style,
                                       layout=widgets.Layout(width="20em")),
        "prime": widgets.Text(value=corpus.text[0] if prime is None else prime, description="prime text",
                              continuous_update=True, style=style, layout=layout),
    }
    text = widgets.Output(layout=widgets.Layout(border="1px solid #ccc", padding="0.5em"))

    def resample(_=None):
        given = controls["prime"].value
        unknown = sorted(set(given) - set(corpus.chars))
        if not given or unknown:
            why = (f"{', '.join(map(repr, unknown))} {'is' if len(unknown) == 1 else 'are'} not in the vocabulary"
                   if unknown else "the prime is empty")
            shown = {"text/plain": f"{why}: the training text ({corpus.source}) has {corpus.K} distinct "
                                   f"characters, and the prime must use only those (at least one)."}
        else:
            text_now = sample(rnn, corpus, controls["length"].value, seed=controls["seed"].value,
                              temperature=controls["temperature"].value, prime=given)
            shown = {"text/plain": repr(text_now), "text/html": text_now._repr_html_()}
        text.outputs = ({"output_type": "display_data", "data": shown, "metadata": {}},)

    pending = []

    def resample_soon(_=None):
        """For the prime, which changes at every key: re-sample once typing pauses for PRIME_PAUSE s."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not in a kernel's event loop (a script, a test): at once
            return resample()
        for handle in pending:
            handle.cancel()
        pending[:] = [loop.call_later(PRIME_PAUSE, resample)]

    for name, control in controls.items():
        control.observe(resample_soon if name == "prime" else resample, names="value")
    resample()
    box = widgets.VBox([*controls.values(), text])
    box.controls, box.text = controls, text
    # JupyterLab and Voila show the widget; a static copy of the notebook, which runs no widgets, shows
    # the output's HTML form instead: the same slider over texts sampled now.
    static = static_temperature_slider(rnn, corpus, temperature=temperature, length=length, seed=seed, prime=prime)
    box._repr_mimebundle_ = lambda **kwargs: {**widgets.VBox._repr_mimebundle_(box, **kwargs), "text/html": static}
    return box


def load_or_train_best(corpus: Corpus, path=None, *, checkpoint=None, m=100, sigma=0.01, epochs=4,
                       seed=rnnlib.DEFAULT_SEED, **train_args) -> TrainingState:
    """The last finished main run, if it was trained on this very corpus: its .best is the best
    model.  path: default rnnlib.MODEL_PATH, which only a run that reached its end writes, so a
    stopped re-run of notebooks/2_training.ipynb leaves it as it was.  Without one, finishes the
    run in checkpoint (default: training.npz beside path, where notebook 2 trains) if it was
    trained on this corpus, else trains the main run with the assignment's settings, saying why."""
    path = Path(path or rnnlib.MODEL_PATH)
    checkpoint = Path(checkpoint or path.with_name(rnnlib.CHECKPOINT_PATH.name))
    reason = "there is no finished model yet"
    if path.is_file():
        try:
            saved = rnnlib.load_checkpoint(path)
        except ValueError as err:  # damaged, or written by another version of rnnlib
            saved, reason = None, f"the model there cannot be read ({err})"
        if saved is not None and saved.trained_on(corpus):
            return saved
        if saved is not None:
            reason = f"the model there was trained on another text ({saved.source})"
    run = _run_on(checkpoint, corpus)
    if run is None:
        print(f"Training on {corpus.source}, as {reason} ({rnnlib.display_path(path)}): m = {m}, "
              f"{epochs} epochs, seed {seed}.")
        rnnlib.train(RNN.init(corpus.K, m=m, sigma=sigma, rng=seed), corpus, epochs=epochs, rng=seed,
                     checkpoint=checkpoint, finished=path, **train_args)
        return rnnlib.load_checkpoint(path)
    if run.update < run.total:
        print(f"Finishing the run in {rnnlib.display_path(checkpoint)} (stopped at update {run.update:,} of "
              f"{run.total:,}), as {reason} ({rnnlib.display_path(path)}).")
        rnnlib.resume(checkpoint, corpus, progress=train_args.get("progress", True))
        run = rnnlib.load_checkpoint(checkpoint)
    rnnlib.save_checkpoint(path, run)  # a finished run that did not know where its model goes
    return rnnlib.load_checkpoint(path)


def _run_on(checkpoint: Path, corpus: Corpus) -> TrainingState | None:
    """The run saved at checkpoint if it is readable and was trained on corpus, else None."""
    try:
        run = rnnlib.load_checkpoint(checkpoint)
    except (OSError, ValueError):  # none, or damaged: there is nothing to finish
        return None
    return run if run.trained_on(corpus) else None


# ----------------------------------------------------------------------------- runs in the background


def _printing(function, args, kwargs):
    """function(*args, **kwargs) in a worker: (its value, what it printed).  Its progress bars, on
    stderr, are dropped: the notebook shows none for a run it does not train itself."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        value = function(*args, **kwargs)
    return value, printed.getvalue()


class Background:
    """A notebook's independent runs, training in worker processes (a runs.Runner) while its
    cells go on.  submit(name, function, *args, **kwargs) starts function (one of this module's:
    the workers import it) as soon as a worker is free, in the order submitted; result(name)
    waits for it and prints what it printed.  A stop while waiting stops them all."""

    def __init__(self, workers: int | None = None):
        self.runner, self.jobs = runs.Runner(workers=workers), {}

    def submit(self, name: str, function, *args, **kwargs) -> None:
        self.jobs[name] = self.runner.submit(_printing, function, args, kwargs)

    def result(self, name: str):
        try:
            value, printed = self.jobs[name].result()
        except KeyboardInterrupt:
            self.runner.cancel()
            raise
        print(printed, end="")
        return value


# ----------------------------------------------------------------------------- beyond the assignment


def held_out_run(corpus: Corpus, fraction: float = 0.9, epochs: int = 4, seed: int = rnnlib.DEFAULT_SEED,
                 m: int = 100, eval_every: int = 10_000) -> History:
    """Train with the assignment's settings on the first `fraction` of the text.  Every eval_every
    updates and after the last one, the same parameters are measured on two texts of the same
    length: the rest of the text, which the network never sees (history.eval_bpc[u]), and the
    last stretch of the training part (history.train_bpc[u]); u counts the updates done.  The
    run goes from one measurement to the next by rnnlib.resume, bit for bit one run."""
    train_part, held_out = corpus.split(fraction)
    seen = train_part.data[-len(held_out.data):]
    print(f"training on {train_part.source} ({len(train_part):,} characters), measuring on "
          f"{held_out.source} ({len(held_out):,}) and on as many of the training part's last characters")
    rnn = RNN.init(corpus.K, m=m, rng=seed)
    total = epochs * rnnlib.updates_per_epoch(len(train_part.data), 25)
    marks = [*range(eval_every, total, eval_every), total]
    eval_bpc, train_bpc = {}, {}

    def measure(u, rnn):
        eval_bpc[u], train_bpc[u] = rnnlib.bits_per_char(rnn, held_out.data), rnnlib.bits_per_char(rnn, seen)

    measure(0, rnn)
    with tempfile.TemporaryDirectory() as folder, tqdm(total=total, unit="update") as bar:
        path = Path(folder) / "held_out.npz"
        history = rnnlib.train(rnn, train_part, updates=marks[0], rng=seed, sample_every=None, checkpoint=path,
                               progress=False)
        measure(marks[0], rnn)
        bar.update(marks[0])
        for u in marks[1:]:
            rnn, history = rnnlib.resume(path, train_part, updates=u, progress=False)
            measure(u, rnn)
            bar.update(u - bar.n)
    history.eval_bpc, history.train_bpc, history.train_characters = eval_bpc, train_bpc, len(train_part)
    return history


def generalisation_table(history: History, updates=(0, 10_000, 50_000, 100_000)) -> Table:
    """Bits per character of the same parameters on the held-out part and on as much training
    text, and the held-out perplexity, at the given updates (those measured) and after the last."""
    marks = [u for u in updates if u in history.eval_bpc] + [max(history.eval_bpc)]
    rows = [[u, history.train_bpc[u], history.eval_bpc[u], history.eval_bpc[u] - history.train_bpc[u],
             float(perplexity(history.train_bpc[u])), float(perplexity(history.eval_bpc[u]))]
            for u in dict.fromkeys(marks)]
    return Table(["after updates", "training text", "held out", "held out − training",
                  "perplexity, training text", "perplexity, held out"], rows,
                 title="bits per character, the same parameters on both", float_format="{:.3f}")


def generalisation_verdict(history: History) -> float:
    """Print what the measurement of held_out_run supports, drawn from its last measurement and
    the first one after training began; return the last gap in bits per character."""
    u, first = max(history.eval_bpc), min(k for k in history.eval_bpc if k > 0)
    held, seen = history.eval_bpc[u], history.train_bpc[u]
    gap, first_gap = held - seen, history.eval_bpc[first] - history.train_bpc[first]
    print(f"After {u:,} updates: {held:.3f} bits per character held out, {seen:.3f} on as much training text "
          f"(gap {gap:+.3f}; after {first:,} updates {first_gap:+.3f}).")
    if gap > 0.1 * seen:
        print("The held-out text is predicted clearly worse than the training text: the network has begun to fit "
              "the text it trains on.")
    elif gap < -0.1 * seen:
        print("The held-out part is predicted clearly better than the training text: that part is easier.")
    elif abs(gap) > 0.02 * seen:
        print(f"The held-out text is predicted {'worse' if gap > 0 else 'better'} than the training text by "
              f"{abs(gap) / seen:.1%} of the bits: a small gap, {'wider' if abs(gap) > abs(first_gap) else 'no wider'} "
              f"than after {first:,} updates.")
    else:
        print(f"The network predicts text it never saw about as well as the text it trained on (a gap of "
              f"{abs(gap) / seen:.1%} of the bits): it has not memorised its training text. With "
              f"{history.best.theta.size:,} parameters for {history.train_characters:,} characters, a gap this "
              f"small is what a network limited by its size gives; it does not show that the network learned "
              f"more than the statistics it can hold.")
    return gap


def plot_generalisation(history: History):
    """Bits per character on the held-out part and on as much training text, the same parameters,
    against the update; the training smooth loss in the same unit, light, behind them."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(np.arange(history.updates), bits(history.smooth_loss), lw=0.8, color="grey", alpha=0.6,
            label="training smooth loss (a lagged average over past sequences)")
    ax.plot(list(history.train_bpc), list(history.train_bpc.values()), "s-", ms=3, color="C0",
            label="training text, as long as the held-out part")
    ax.plot(list(history.eval_bpc), list(history.eval_bpc.values()), "o-", ms=3, color="C3",
            label="held out (never trained on)")
    ax.set_ylim(None, 1.05 * max(history.eval_bpc[k] for k in history.eval_bpc if k > 0))
    for start in range(history.updates_per_epoch, history.updates, history.updates_per_epoch):
        ax.axvline(start, color="grey", ls="--", lw=0.8)
    ax.set(xlabel="update", ylabel="bits per character", title="Training and held-out loss")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def text_features(text: str) -> dict:
    """Simple features of each character of text, as it is read: (n,) float arrays."""
    chars = np.array(list(text))
    letter = np.array([ch.isalpha() for ch in text], dtype=float)
    position = np.zeros(len(text))  # 1 for a word's first letter, 2 for its second, ...; 0 outside words
    for t in range(len(text)):
        position[t] = letter[t] * (position[t - 1] + 1 if t else 1)
    line_start = np.r_[1.0, (chars[:-1] == "\n").astype(float)]
    quotes = np.cumsum(chars == '"') % 2  # odd after an opening quotation mark
    return {"a letter just read": letter, "a space just read": (chars == " ").astype(float),
            "position in the word": position, "start of a line": line_start,
            "inside quotation marks": np.maximum(quotes, chars == '"').astype(float)}


# A unit whose best correlation with a feature shares less of its variance than NULL_R2 (r² below it)
# is reported as a null result, below WEAK_R2 as a weak correlation; one whose activation follows its
# input drive U x_t at least as closely as ECHO_R2 (r²) as an echo of the character just read.
NULL_R2, WEAK_R2, ECHO_R2 = 0.05, 0.25, 0.5


def unit_correlations(rnn: RNN, corpus: Corpus, passage: str, untrained: RNN | None = None):
    """The hidden states over passage (from h = 0) and, for each feature of text_features, the
    unit whose activation correlates most with it (r); beside it, the correlation of that unit
    with its input drive U x_t alone (how much it merely echoes the character just read) and,
    given the untrained network, the best correlation any of its units reaches with the feature
    (what training added).  Returns (H: (n, m), Table)."""
    x = corpus.encode(passage)
    H = rnnlib.hidden_states(rnn, x, np.zeros(rnn.m))[1:]

    def standardised(A):
        return (A - A.mean(axis=0)) / np.maximum(A.std(axis=0), 1e-12)

    Hc, drive = standardised(H), standardised(rnn.U[:, x].T)          # (n, m) each
    H0 = None if untrained is None else standardised(rnnlib.hidden_states(untrained, x, np.zeros(untrained.m))[1:])
    rows = []
    for name, f in text_features(passage).items():
        f = standardised(f)
        r = Hc.T @ f / len(f)                                          # (m,) correlation per unit
        unit = int(np.argmax(np.abs(r)))
        row = [name, unit, float(r[unit]), float(Hc[:, unit] @ drive[:, unit] / len(f))]
        if H0 is not None:
            row.append(float(np.abs(H0.T @ f / len(f)).max()))
        rows.append(row)
    columns = ["feature", "unit", "correlation r", "r with its input U x_t"]
    return H, Table(columns + (["best |r| before training"] if H0 is not None else []), rows, float_format="{:+.2f}",
                    title=f"the best-correlated of {rnn.m} units, over {len(passage):,} characters")


def unit_finding(r: float, r_input: float) -> str:
    """What a feature's best correlation r shows, given the unit's correlation with its input drive."""
    if r * r < NULL_R2:
        return f"a null result (r² = {r * r:.3f}): no unit tracks this feature"
    if r_input ** 2 >= ECHO_R2:
        return f"largely an echo of the character just read (r = {r_input:+.2f} with U x_t)"
    if r * r < WEAK_R2:
        return f"a weak correlation (r² = {r * r:.2f})"
    if r_input ** 2 >= r * r:
        return (f"partly an echo of the character just read (r² = {r_input ** 2:.2f} with U x_t, {r * r:.2f} with "
                f"the feature)")
    return f"tracked beyond the input (r² = {r * r:.2f} with the feature, {r_input ** 2:.2f} with U x_t)"


def unit_caption(feature: str, unit: int, r: float, r_input: float, *rest) -> str:
    """A unit's caption, with what its correlation shows (unit_finding)."""
    return f"unit {unit}: {feature} (r = {r:+.2f}): {unit_finding(r, r_input)}"


def units_summary(units: Table) -> None:
    """One line per feature: its unit and what the correlation shows."""
    for feature, unit, r, r_input, *_ in units.rows:
        print(f"- {feature}: unit {unit}, r = {r:+.2f}: {unit_finding(r, r_input)}.")


class Coloured:
    """Text coloured by one unit's activation in [-1, 1]: red positive, blue negative.  The
    characters are escaped, so any text shows as text."""

    def __init__(self, text: str, activation, caption: str):
        self.text, self.activation, self.caption = text, np.asarray(activation), caption

    def _repr_html_(self):
        spans = "".join(
            f'<span style="background: rgba({"220, 50, 40" if a > 0 else "40, 90, 220"}, {0.6 * abs(a):.2f})">'
            f"{html.escape(ch)}</span>" for ch, a in zip(self.text, self.activation.tolist()))
        return (f"<div><b>{html.escape(self.caption)}</b></div>"
                f'<pre style="white-space: pre-wrap; line-height: 1.6">{spans}</pre>')

    def __repr__(self):
        return f"{self.caption}\n{self.text}"


def plot_unit_heatmap(H, text: str, units, start: int = 0, length: int = 60):
    """The activations of the given units over length characters of text, as a heat map, sized
    for the printed page: no wider than its text, labels of 8 pt."""
    import matplotlib.pyplot as plt

    units = list(units)
    fig, ax = plt.subplots(figsize=(7, 0.17 * len(units) + 1.3))
    image = ax.imshow(H[start:start + length, units].T, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(length), [repr(ch)[1:-1] for ch in text[start:start + length]], fontsize=8,
                  family="monospace")
    ax.set_yticks(range(len(units)), [f"unit {u}" for u in units], fontsize=8)
    ax.set_title(f"{len(units)} hidden units over {length} characters (red +1, blue −1)", fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01).ax.tick_params(labelsize=8)
    return fig


def rounding_spread(corpus: Corpus, runs: int = 10, updates: int = 2_000, scale: float = 1e-15,
                    seed: int = rnnlib.DEFAULT_SEED, m: int = 100):
    """The smooth loss of runs from the same initial parameters, each multiplied entry by entry
    by (1 + scale z), z ~ N(0, 1): (runs + 1, updates), the unchanged run first."""
    start = RNN.init(corpus.K, m=m, rng=seed)
    losses = []
    for i in tqdm(range(runs + 1), desc=f"{runs} nudged runs and the original", unit="run"):
        rnn = start.copy()
        if i:
            rnn.theta *= 1 + scale * np.random.default_rng(i).standard_normal(rnn.theta.size)
        losses.append(rnnlib.train(rnn, corpus, updates=updates, rng=seed, sample_every=None,
                                   progress=False).smooth_loss)
    return np.array(losses)


def plot_spread(losses, seed_losses: dict | None = None, scale: float = 1e-15):
    """The nudged runs' smooth loss, and where each ends, beside the seed runs' at that update."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    steps = np.arange(losses.shape[1])
    for loss in losses[1:]:
        ax.plot(steps, loss, lw=0.6, color="C1", alpha=0.7)
    ax.plot(steps, losses[0], lw=1.2, color="C0", label="unchanged parameters")
    ax.plot([], [], lw=0.6, color="C1", label=f"{len(losses) - 1} runs nudged by {power_of_ten(scale)} of each entry")
    if seed_losses:
        ends = [loss[losses.shape[1] - 1] for loss in seed_losses.values()]
        ax.plot([losses.shape[1] - 1] * len(ends), ends, "x", color="k", label=f"{len(ends)} seeds, same update")
    ax.set(xlabel="update", ylabel="smooth loss", title="Identical runs but for rounding-sized nudges")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def spread_summary(losses, runs: dict | None = None, scale: float = 1e-15) -> dict:
    """Print how far apart the nudged runs end, beside the seed runs after as many updates, and
    how the two spreads compare; return the standard deviations."""
    updates = losses.shape[1]
    ends = losses[:, -1]
    spread = {"rounding": float(ends.std())}
    print(f"After {updates:,} updates, {len(ends)} runs that differ by a relative {power_of_ten(scale)} in each "
          f"starting entry: smooth loss {ends.min():.2f} to {ends.max():.2f} (range {ends.max() - ends.min():.2f}, "
          f"standard deviation {ends.std():.2f}).")
    if runs:
        seeds = np.array([loss[updates - 1] for loss in runs.values()])
        spread["seeds"] = float(seeds.std())
        print(f"After {updates:,} updates, {len(seeds)} seeds: {seeds.min():.2f} to {seeds.max():.2f} (range "
              f"{seeds.max() - seeds.min():.2f}, standard deviation {seeds.std():.2f}).")
        print(f"The nudged runs spread {spread['rounding'] / spread['seeds']:.2f} times as much as the seeds "
              f"(standard deviations); this was measured after {updates:,} updates only.")
    return spread


def dtype_runs(corpus: Corpus, updates: int = 20_000, seed: int = rnnlib.DEFAULT_SEED, m: int = 100) -> dict:
    """{dtype name: (smooth loss, seconds per update)} for the same run in float64 and float32."""
    runs = {}
    for dtype in (np.float64, np.float32):
        rnn = RNN.init(corpus.K, m=m, rng=seed, dtype=dtype)
        start = time.perf_counter()
        history = rnnlib.train(rnn, corpus, updates=updates, rng=seed, sample_every=None)
        runs[np.dtype(dtype).name] = history.smooth_loss, (time.perf_counter() - start) / updates
    return runs


def plot_dtypes(runs: dict):
    """The smooth loss of each dtype's run, side by side."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(runs), figsize=(9, 3.4), sharey=True)
    for ax, (name, (loss, seconds)) in zip(axes, runs.items()):
        ax.plot(np.arange(len(loss)), loss, lw=1)
        ax.set_title(f"{name}: {seconds * 1e6:.0f} µs per update, last {loss[-1]:.2f}", fontsize=10)
        ax.set_xlabel("update")
        ax.xaxis.set_major_locator(plt.MaxNLocator(4))  # half a page wide: few enough labels not to touch
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("smooth loss")
    fig.tight_layout()
    return fig
