"""The report's tables, figures and widgets: what the notebooks show, computed with rnnlib.

The notebooks narrate and call these; rnnlib.py holds the computation only.  Sections: the
published run · tables · gradient checks · training · synthesis · beyond the assignment.
"""

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
import threading
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import rnnlib
import runs
from rnnlib import RNN, Corpus, History, TrainingState

# The smooth loss of the published run (m = 100, eta = 0.1, seq_length = 25, sigma = 0.01).
PUBLISHED_SMOOTH_LOSS = {0: 109.55, 10_000: 54.33, 20_000: 51.04, 30_000: 49.61, 40_000: 48.47,
                         50_000: 49.01, 60_000: 47.71, 70_000: 47.45, 80_000: 45.77, 90_000: 46.49,
                         100_000: 47.42}


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
    return HTML('<pre style="font-family: var(--jp-code-font-family, monospace); font-size: '
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
    fig, ax = plt.subplots(figsize=(8, 4.8))
    bottom = 1e-22
    for ref, colour in (("centred differences, float64", "C1"), ("complex step", "C0")):
        distance = np.abs(g - check.references[ref, sequence].theta)
        ax.loglog(np.maximum(size, bottom), np.maximum(distance, bottom), ".", ms=2, alpha=0.4, color=colour,
                  label=f"{ref} (largest {distance.max():.1e})")
    floor = np.finfo(np.float64).eps * check.losses[sequence] / (2 * delta)
    ax.axhline(floor, color="C3", lw=1, ls="--", label=f"float64 rounding floor eps·L/2δ = {floor:.1e}")
    ax.set(xlabel="|gradient| (complex step)", ylabel="|analytic − reference|", ylim=(bottom / 2, None),
           title=f"Gradient entries, m = {check.analytic[sequence].m} (sequence {sequence + 1})")
    ax.legend(loc="upper left", markerscale=6)
    ax.grid(alpha=0.3, which="major")
    return fig


def bits(smooth_loss, seq_length: int = 25):
    """A smooth loss (nats per sequence of seq_length characters) in bits per character."""
    return np.asarray(smooth_loss) / seq_length / math.log(2)


def loss_table(history: History, updates=range(0, 100_001, 10_000), published=PUBLISHED_SMOOTH_LOSS) -> Table:
    """Our smooth loss at the given updates (those the run reached) beside the published run's,
    and ours in bits per character."""
    rows = [[u, float(history.smooth_loss[u]), published.get(u, math.nan),
             round(round(float(history.smooth_loss[u]), 2) - published.get(u, math.nan), 2),
             float(bits(history.smooth_loss[u]))]
            for u in updates if u < history.updates]
    return Table(["update", "smooth loss", "published", "difference", "bits per character"], rows,
                 float_format="{:.2f}")


class SeedRuns:
    """Runs that differ only in the seed of U, W, V (the published run is one such draw), for
    their first `updates` updates, started at once in worker processes (runs.Runner: `runner`,
    or a new one with a worker per core but one, the notebook training its main run meanwhile).

    Each is kept in the results folder under a key of the text, its settings and the code
    (runs.cache_key), and recalled instead of trained again.  from_main: the seed of the main run,
    whose first updates are that seed's run: not started, collect takes it from the main run."""

    def __init__(self, corpus: Corpus, seeds=range(6), updates: int = 20_001, m: int = 100, *,
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


def seed_runs(corpus: Corpus, seeds=range(6), updates: int = 20_001, m: int = 100, *,
              runner: runs.Runner | None = None) -> dict:
    """{seed: smooth loss per update} of SeedRuns: recalled from the results folder, or trained
    in worker processes now."""
    return SeedRuns(corpus, seeds, updates, m, runner=runner).collect()


def seed_table(runs: dict, every: int = 10_000) -> Table:
    """The smooth loss of each seed run every `every` updates, beside the published run's."""
    updates = min(len(loss) for loss in runs.values())
    marks = list(range(every, updates, every))
    rows = [[f"seed {seed}", *(float(loss[u]) for u in marks)] for seed, loss in runs.items()]
    rows.append(["published", *(PUBLISHED_SMOOTH_LOSS.get(u, math.nan) for u in marks)])
    return Table(["run", *(f"update {u:,}" for u in marks)], rows, float_format="{:.2f}")


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
        ax.plot(list(points), list(points.values()), "o", ms=4, color="C1", label="published run")
    ax.set(xlabel="update", ylabel="smooth loss (nats per 25 characters)",
           title=f"Smooth loss, {history.updates:,} updates (dashed lines: epoch boundaries)")
    ax.secondary_yaxis("right", functions=(bits, lambda b: np.asarray(b) * 25 * math.log(2))).set_ylabel(
        "bits per character")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax.figure


def training_summary(history: History, runs: dict) -> None:
    """The run's facts for the summary, as this run measured them."""
    at = min(len(loss) for loss in runs.values()) - 1
    ours = [round(float(history.smooth_loss[u]), 2) - v for u, v in PUBLISHED_SMOOTH_LOSS.items()
            if 0 < u < history.updates]
    seeds = [float(loss[at]) for loss in runs.values()]
    print(f"- {history.updates:,} updates; lowest smooth loss {history.best_loss:.2f} "
          f"({float(bits(history.best_loss)):.2f} bits per character) at update {history.best_update:,}.")
    if ours:
        print(f"- Against the published run, from update 10,000 on: {min(ours):+.2f} to {max(ours):+.2f}.")
    print(f"- {len(seeds)} seeds at update {at:,}: {min(seeds):.2f} to {max(seeds):.2f}, "
          f"a spread of {max(seeds) - min(seeds):.2f}.")


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
    the distribution each character was drawn from, softmax(o / T), in bits; and the share of
    the generated words that occur in the training text."""
    prime = corpus.text[0] if prime is None else prime
    known = set(WORD.findall(corpus.text))
    entropy, words = np.zeros((len(temperatures), len(seeds))), np.zeros((len(temperatures), len(seeds)))
    for i, T in enumerate(temperatures):
        for j, seed in enumerate(seeds):
            text = rnnlib.generate(rnn, corpus, n, temperature=T, prime=prime, rng=seed)
            x = corpus.encode(prime + text)[:-1]      # the inputs that gave each drawn character
            H = rnnlib.hidden_states(rnn, x, np.zeros(rnn.m))
            P = rnnlib.softmax((H[len(prime):] @ rnn.V.T + rnn.c) / T)   # (n, K)
            entropy[i, j] = -(P * np.log2(np.maximum(P, 1e-300))).sum(axis=1).mean()
            found = WORD.findall(text)
            words[i, j] = np.mean([w in known for w in found]) if found else math.nan
    return {"temperature": np.asarray(temperatures), "entropy": entropy.mean(axis=1),
            "known words": np.nanmean(words, axis=1), "seeds": len(seeds), "n": n}


def plot_temperature_effects(effects: dict):
    """Entropy and the share of real words against the temperature, side by side."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
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


def effects_table(effects: dict, temperatures=(0.5, 0.75, 1.0, 1.5, 2.0)) -> Table:
    """Some rows of temperature_effects."""
    rows = [[f"{T:.2f}", float(e), 100 * float(w)]
            for T, e, w in zip(effects["temperature"], effects["entropy"], effects["known words"])
            if np.isclose(temperatures, T).any()]
    return Table(["temperature", "entropy (bits)", "words found in the training text (%)"], rows,
                 float_format="{:.2f}")


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
    give (the prime, then the continuation), re-sampled from rnn whenever one of them changes.
    A prime with characters outside the vocabulary shows a message naming them instead.
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
                              continuous_update=False, style=style, layout=layout),
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

    for control in controls.values():
        control.observe(resample, names="value")
    resample()
    box = widgets.VBox([*controls.values(), text])
    box.controls, box.text = controls, text
    # JupyterLab and Voila show the widget; a static copy of the notebook, which runs no widgets, shows
    # the output's HTML form instead: the same slider over texts sampled now.
    static = static_temperature_slider(rnn, corpus, temperature=temperature, length=length, seed=seed, prime=prime)
    box._repr_mimebundle_ = lambda **kwargs: {**widgets.VBox._repr_mimebundle_(box, **kwargs), "text/html": static}
    return box


def load_or_train_best(corpus: Corpus, path=None, *, m=100, sigma=0.01, epochs=4, seed=1,
                       **train_args) -> TrainingState:
    """The training checkpoint at path if it was trained on this very corpus; otherwise train
    with the assignment's settings (printing why), checkpointing there.  Its .best is the
    best model.  path: default rnnlib.CHECKPOINT_PATH, where notebooks/2_training.ipynb trains."""
    path = Path(path or rnnlib.CHECKPOINT_PATH)
    reason = "there is no checkpoint yet"
    if path.is_file():
        try:
            saved = rnnlib.load_checkpoint(path)
        except ValueError as err:  # damaged, or written by another version of rnnlib
            saved, reason = None, f"the checkpoint there cannot be read ({err})"
        if saved is not None and saved.trained_on(corpus):
            if saved.update < saved.total:
                print(f"The run in {rnnlib.display_path(path)} stopped at update {saved.update:,} of "
                      f"{saved.total:,}: its best model so far is used (rnnlib.resume finishes it).")
            return saved
        if saved is not None:
            reason = f"the checkpoint there was trained on another text ({saved.source})"
    print(f"Training on {corpus.source}, as {reason}: m = {m}, {epochs} epochs, seed {seed}.")
    rnnlib.train(RNN.init(corpus.K, m=m, sigma=sigma, rng=seed), corpus, epochs=epochs, rng=seed,
          checkpoint=path, **train_args)
    return rnnlib.load_checkpoint(path)


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


def held_out_run(corpus: Corpus, fraction: float = 0.9, epochs: int = 4, seed: int = 1, m: int = 100,
                 eval_every: int = 10_000) -> History:
    """Train with the assignment's settings on the first `fraction` of the text, measuring the
    bits per character on the rest, which the network never sees, every eval_every updates and
    once more after the last one: history.eval_bpc[u] is measured after u updates."""
    train_part, held_out = corpus.split(fraction)
    print(f"training on {train_part.source} ({len(train_part):,} characters), "
          f"measuring on {held_out.source} ({len(held_out):,})")
    rnn = RNN.init(corpus.K, m=m, rng=seed)
    history = rnnlib.train(rnn, train_part, epochs=epochs, rng=seed, sample_every=None, eval_data=held_out.data,
                           eval_every=eval_every)
    history.eval_bpc[history.updates] = rnnlib.bits_per_char(rnn, held_out.data)
    return history


def training_bits(history: History, u: int) -> float:
    """The training smooth loss after u updates in bits per character (after the last one for u
    = history.updates, which has no smooth loss of its own)."""
    return float(bits(history.smooth_loss[min(u, history.updates - 1)]))


def generalisation_table(history: History, updates=(10_000, 50_000, 100_000)) -> Table:
    """Training smooth loss and held-out loss, both in bits per character, at the given updates
    (those the run reached) and at the last measurement."""
    marks = [u for u in updates if u in history.eval_bpc] + [max(history.eval_bpc)]
    rows = [[u, training_bits(history, u), history.eval_bpc[u], history.eval_bpc[u] - training_bits(history, u)]
            for u in dict.fromkeys(marks)]
    return Table(["update", "training (smooth loss)", "held out", "held out − training"], rows,
                 title="bits per character", float_format="{:.3f}")


def generalisation_verdict(history: History) -> float:
    """Print one line drawn from the last measurement; return the gap in bits per character."""
    u = max(history.eval_bpc)
    held, trained = history.eval_bpc[u], training_bits(history, u)
    gap = held - trained
    verdict = ("the network generalises: it predicts text it never saw about as well as the text it trains on"
               if abs(gap) < 0.2 else
               "the held-out text is predicted clearly worse than the training text"
               if gap > 0 else "the held-out part happens to be easier than the training text")
    print(f"After {u:,} updates: {held:.3f} bits per character held out, {trained:.3f} in training "
          f"(gap {gap:+.3f}): {verdict}.")
    return gap


def plot_generalisation(history: History):
    """Training smooth loss and held-out bits per character against the update."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(np.arange(history.updates), bits(history.smooth_loss), lw=1, label="training (smooth loss)")
    ax.plot(list(history.eval_bpc), list(history.eval_bpc.values()), "o-", ms=4, color="C3",
            label="held out (never trained on)")
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


def unit_correlations(rnn: RNN, corpus: Corpus, passage: str):
    """The hidden states over passage (from h = 0) and, for each feature of text_features, the
    unit whose activation correlates most with it.  Returns (H: (n, m), Table)."""
    H = rnnlib.hidden_states(rnn, corpus.encode(passage), np.zeros(rnn.m))[1:]
    Hc = (H - H.mean(axis=0)) / np.maximum(H.std(axis=0), 1e-12)
    rows = []
    for name, f in text_features(passage).items():
        r = Hc.T @ ((f - f.mean()) / max(f.std(), 1e-12)) / len(f)     # (m,) correlation per unit
        unit = int(np.argmax(np.abs(r)))
        rows.append([name, unit, float(r[unit])])
    return H, Table(["feature", "unit", "correlation r"], rows, float_format="{:+.2f}",
                    title=f"the best-correlated of {rnn.m} units, over {len(passage):,} characters")


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


def plot_unit_heatmap(H, text: str, units, start: int = 0, length: int = 100):
    """The activations of the given units over length characters of text, as a heat map."""
    import matplotlib.pyplot as plt

    units = list(units)
    fig, ax = plt.subplots(figsize=(14, 0.3 * len(units) + 1.2))
    image = ax.imshow(H[start:start + length, units].T, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(length), [repr(ch)[1:-1] for ch in text[start:start + length]], fontsize=7,
                  family="monospace")
    ax.set_yticks(range(len(units)), [f"unit {u}" for u in units], fontsize=7)
    ax.set_title(f"{len(units)} hidden units over {length} characters (red +1, blue −1)")
    fig.colorbar(image, ax=ax, fraction=0.02, pad=0.01)
    return fig


def rounding_spread(corpus: Corpus, runs: int = 10, updates: int = 2_000, scale: float = 1e-15,
                    seed: int = 1, m: int = 100):
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


def plot_spread(losses, seed_losses: dict | None = None):
    """The nudged runs' smooth loss, and where each ends, beside the seed runs' at that update."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    steps = np.arange(losses.shape[1])
    for loss in losses[1:]:
        ax.plot(steps, loss, lw=0.6, color="C1", alpha=0.7)
    ax.plot(steps, losses[0], lw=1.2, color="C0", label="unchanged parameters")
    ax.plot([], [], lw=0.6, color="C1", label=f"{len(losses) - 1} runs nudged by one part in 10^15")
    if seed_losses:
        ends = [loss[losses.shape[1] - 1] for loss in seed_losses.values()]
        ax.plot([losses.shape[1] - 1] * len(ends), ends, "x", color="k", label=f"{len(ends)} seeds, same update")
    ax.set(xlabel="update", ylabel="smooth loss", title="Identical runs but for rounding-sized nudges")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def spread_summary(losses, runs: dict | None = None) -> dict:
    """Print how far apart the nudged runs end, beside the seed runs at the same update; return
    the spreads."""
    at = losses.shape[1] - 1
    ends = losses[:, at]
    spread = {"rounding": float(ends.max() - ends.min())}
    print(f"Update {at:,}, {len(ends)} runs that differ by one part in 10^15: smooth loss {ends.min():.2f} to "
          f"{ends.max():.2f} (spread {spread['rounding']:.2f}, standard deviation {ends.std():.2f}).")
    if runs:
        seeds = np.array([loss[at] for loss in runs.values()])
        spread["seeds"] = float(seeds.max() - seeds.min())
        print(f"Update {at:,}, {len(seeds)} seeds: {seeds.min():.2f} to {seeds.max():.2f} "
              f"(spread {spread['seeds']:.2f}, standard deviation {seeds.std():.2f}).")
    return spread


def dtype_runs(corpus: Corpus, updates: int = 20_000, seed: int = 1, m: int = 100) -> dict:
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

    fig, axes = plt.subplots(1, len(runs), figsize=(10, 3.6), sharey=True)
    for ax, (name, (loss, seconds)) in zip(axes, runs.items()):
        ax.plot(np.arange(len(loss)), loss, lw=1)
        ax.set(xlabel="update", title=f"{name}: {seconds * 1e6:.0f} µs per update, last {loss[-1]:.2f}")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("smooth loss")
    fig.tight_layout()
    return fig
