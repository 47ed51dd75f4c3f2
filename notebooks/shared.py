"""What several of the report's notebooks use, beside each notebook's own helper module
(helpers_1_gradient_check.py ... helpers_8_conclusions.py) and report_runs.py: figures as sharp PNGs, each with a
description for readers who cannot see it (DescribedFigure, made by `subplots`); bits per
character, perplexity and a bits axis (notebooks 2, 4, 6 and 7); the small Table (1, 2, 5, 6 and 7);
the finished main run, loaded or trained
(load_or_train_best: 3, 4 and 5), and a passage of its text from the start of a line (passage: 3
and 5); and the static slider's scaffold with the class that carries
a widget's static form (the temperature slider of 3, the hidden-unit browser of 5); the report's
scale (SCALE, scaled: how many updates its runs make), its verdict rule (compare, band_verdict,
across_networks: every comparison over the same seeds, each seed's value shown) and its findings
record (record_findings, findings: each Summary's lines, which notebook 8 and the abstract print).
"""

import html
import json
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import rnnlib
from rnnlib import RNN, Corpus, TrainingState


class DescribedFigure(Figure):
    """A matplotlib figure with a description of what it shows, for readers who cannot see it
    (screen readers, a text-only copy): `alt`, written from the same values as the figure's caption
    or summary.  A plot function makes one with `subplots` and ends with `return fig.describe(...)`:

        fig, ax = subplots(figsize=(9, 4))
        ax.plot(...)
        return fig.describe(f"Smooth loss against update: falls from {first:.1f} to {last:.1f}.")

    In a notebook, the figure's PNG then carries the description in its output's metadata,
    {"image/png": {"alt": ...}} (show_descriptions), and build_report's static HTML puts it in
    the <img alt="...">; a figure without one gets nbconvert's "No description has been provided"."""

    alt: str | None = None  # what the figure shows, in a sentence or three

    def describe(self, alt: str) -> "DescribedFigure":
        """Set the figure's description; returns the figure, so that a plot function can end with it."""
        self.alt = " ".join(alt.split())
        return self


def subplots(*args, **kwargs):
    """plt.subplots(*args, **kwargs), with a DescribedFigure: (fig, ax) or (fig, axes)."""
    import matplotlib.pyplot as plt

    return plt.subplots(*args, FigureClass=DescribedFigure, **kwargs)


def show_descriptions(shell) -> None:
    """Make the shell's display of a DescribedFigure the PNG every figure gets (whatever format is
    set for Figure: here "retina"), with the description added to its metadata."""
    png = shell.display_formatter.formatters["image/png"]

    def described_png(fig: DescribedFigure):
        try:
            shown = png.lookup_by_type(Figure)(fig)
        except KeyError:  # figures are not shown as PNG in this shell
            return None
        if shown is None or fig.alt is None:
            return shown
        data, metadata = shown if isinstance(shown, tuple) else (shown, {})
        return data, {**metadata, "alt": fig.alt}

    png.for_type(DescribedFigure, described_png)


def _crisp_figures() -> None:
    """Notebook figures as PNG at twice matplotlib's 100 dpi, shown at their size ("retina"): 200
    dots per inch of figure, so they stay sharp when the report is printed; a DescribedFigure's with
    its description."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        set_matplotlib_formats("retina")
        show_descriptions(shell)


_crisp_figures()


# ----------------------------------------------------------------------------- bits and tables


def bits(smooth_loss, seq_length: int = rnnlib.SEQ_LENGTH):
    """A smooth loss (nats per sequence of seq_length characters) in bits per character."""
    return np.asarray(smooth_loss) / seq_length / math.log(2)


def nats(bits_per_char, seq_length: int = rnnlib.SEQ_LENGTH):
    """Bits per character as a loss in nats per sequence of seq_length characters: bits undone."""
    return np.asarray(bits_per_char) * seq_length * math.log(2)


def bits_axis(ax) -> None:
    """A right-hand axis beside ax's smooth loss (nats per sequence) in bits per character."""
    ax.secondary_yaxis("right", functions=(bits, nats)).set_ylabel("bits per character")


def perplexity(bits_per_char):
    """2 ** bits per character: the number of equally likely characters the model's uncertainty
    amounts to, the measure other courses report beside bits per character."""
    return 2.0 ** np.asarray(bits_per_char)


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


# ----------------------------------------------------------------------------- the finished model


def load_or_train_best(corpus: Corpus, path=None, *, checkpoint=None, m=rnnlib.M, sigma=rnnlib.SIGMA, epochs=4,
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
        updates = scaled(epochs * rnnlib.updates_per_epoch(len(corpus.data), rnnlib.SEQ_LENGTH))  # as notebook 2
        print(f"Training on {corpus.source}, as {reason} ({rnnlib.display_path(path)}): m = {m}, "
              f"{epochs} epochs ({updates:,} updates at the report's scale {SCALE:g}), seed {seed}.")
        rnnlib.train(RNN.init(corpus.K, m=m, sigma=sigma, rng=seed), corpus, epochs=epochs, updates=updates,
                     rng=seed, checkpoint=checkpoint, finished=path, **train_args)
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


def passage(corpus: Corpus, length: int, at: float = 0.5) -> str:
    """length characters of the text from the start of the first line after the fraction `at`
    of it: read from h = 0, as training reads the text's start, the network is then on familiar
    ground (begun inside a word, a state of zeros can lead it astray for hundreds of characters)."""
    start = corpus.text.find("\n", int(len(corpus.text) * at)) + 1   # 0, the text's start, if there is none
    return corpus.text[start:start + length]


# ----------------------------------------------------------------------------- static sliders


def range_input(label: str, name: str, low, high, step, value) -> str:
    """A plain slider, labelled, with a readout of its value: an HTML range input that needs no
    kernel.  name: what it chooses, for screen readers."""
    return (f'<label>{label} <input type="range" min="{low}" max="{high}" step="{step}" value="{value}"\n'
            f' aria-label="{name}" style="width: 24em; vertical-align: middle"> <output>{value}</output></label>')


def slider_script(data, on_input: str) -> str:
    """The data a static slider shows, as JSON, and the few lines of inline script that run
    on_input (JavaScript that sees `box`, the element around the script, `data`, `slider` and
    its `readout`) whenever the slider moves: the slider's live half, which needs no kernel."""
    # Inside <script> only "</" (a closing tag) and "<!--" change the parse: with every "<" written as
    # \u003c, any generated text stays data, and on_input sets it with textContent, so it stays text.
    data = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return f"""<script type="application/json">{data}</script>
<script>
(function (box) {{
  var data = JSON.parse(box.querySelector('script[type="application/json"]').textContent);
  var slider = box.querySelector("input"), readout = box.querySelector("output");
  slider.addEventListener("input", function () {{
{on_input}
  }});
}})(document.currentScript.parentElement);
</script>"""


@dataclass(repr=False, eq=False)
class StaticForm:
    """A live widget (ipywidgets) that has a static form too: JupyterLab and Voilà show the widget;
    a static copy of the notebook (build_report.static_copy, GitHub's viewer), which runs no
    widgets, shows the output's HTML form, `html`, instead."""

    widget: object  # the ipywidgets widget shown live
    html: str       # what stands for it without a kernel

    def _repr_mimebundle_(self, **kwargs):
        return {**self.widget._repr_mimebundle_(**kwargs), "text/html": self.html}


# ----------------------------------------------------------------------------- the report's scale


def _scale() -> float:
    """RNN_REPORT_SCALE, a positive number (default 1): the tests run the notebooks at a fraction."""
    value = os.environ.get("RNN_REPORT_SCALE", "1")
    try:
        return rnnlib.positive_number(float(value), "RNN_REPORT_SCALE")
    except ValueError:
        raise ValueError(f"RNN_REPORT_SCALE must be a positive number such as 1 or 0.05, not {value!r}: "
                         f"set it so, or unset it for the whole report") from None


# The one knob every notebook reads: the updates of the report's runs (and the stretches notebook 4
# measures its gradients' reach on) are multiplied by it (1: the report).
SCALE = _scale()


def scaled(count: int) -> int:
    """count times SCALE, at least 1: how many updates a run the report describes as `count` updates
    makes (or how many stretches a measurement the report describes as `count` stretches reads)."""
    return max(1, round(count * SCALE))


# ----------------------------------------------------------------------------- the verdict rule

SEEDS = 3      # every comparison runs seeds rnnlib.DEFAULT_SEED, 1, 2 (at least this many) for each setting
EDGE = 0.25    # a result within this fraction of the rule's threshold, either side, sits at the edge
VERDICT_RULE = (
    f"Every comparison runs the same seeds (at least {SEEDS}) for each setting and shows each seed's value. A "
    f"difference of the means no larger than the larger of the two settings' seed ranges (highest minus lowest) is "
    f"no detectable difference; a larger one is a difference. A difference within {EDGE:.0%} of that range, either "
    f"side, sits at the edge of the rule: too close to call. A single value (the published run) is one more draw "
    f"when it lies within the band of the seeds or at its edge (within {EDGE:.0%} of the band's width beyond one of "
    f"its ends), and outside the band beyond that.")


def _values(by_seed: dict, name: str) -> np.ndarray:
    if len(by_seed) < SEEDS:
        raise ValueError(f"{name} has {len(by_seed)} seeds' values: the verdict rule needs at least {SEEDS}; "
                         f"run more seeds")
    values = np.array([float(v) for v in by_seed.values()])
    if not np.isfinite(values).all():
        raise ValueError(f"{name} has a value that is not finite ({values.tolist()}): compare finite values only")
    return values


@dataclass(frozen=True)
class Comparison:
    """Two settings measured over the same seeds, and the rule's verdict on them (compare)."""

    names: tuple       # the two settings' names
    values: tuple      # ({seed: value}, {seed: value})
    difference: float  # mean of the first minus mean of the second
    threshold: float   # the larger of the two seed ranges
    verdict: str       # "no detectable difference", "at the edge" or "a difference"

    def words(self, lower: str = "lower") -> str:
        """The verdict in words that carry no number: what the rule says of the two settings."""
        a, b = self.names
        if self.verdict == "a difference":
            first, second = (a, b) if self.difference < 0 else (b, a)
            return f"{first} {lower} than {second}: the difference of the means exceeds the seeds' spread"
        if self.verdict == "at the edge":
            return (f"{a} against {b} at the edge of the rule: the difference of the means is about the seeds' "
                    f"spread, too close to call")
        return f"{a} against {b}: no detectable difference, within the seeds' spread"

    def sentence(self, number: str = "{:.2f}", lower: str = "lower") -> str:
        """The verdict with every seed's value and the numbers the rule compares."""
        shown = "; ".join(f"{name}: " + ", ".join(number.format(v) for v in by_seed.values())
                          for name, by_seed in zip(self.names, self.values))
        seeds = ", ".join(str(seed) for seed in self.values[0])
        return (f"{self.words(lower)} (seeds {seeds}; {shown}; difference of the means "
                f"{number.format(self.difference)}, largest seed range {number.format(self.threshold)}).")


def compare(a: dict, b: dict, names=("the first", "the second")) -> Comparison:
    """The verdict rule (VERDICT_RULE) on two settings measured over the same seeds: a and b map
    each seed to its value.  Raises ValueError for other seeds, fewer than SEEDS, or a value
    that is not finite."""
    if list(a) != list(b):
        raise ValueError(f"{names[0]} has seeds {list(a)} and {names[1]} {list(b)}: compare the same seeds, "
                         f"in the same order")
    va, vb = _values(a, names[0]), _values(b, names[1])
    difference, threshold = float(va.mean() - vb.mean()), float(max(np.ptp(va), np.ptp(vb)))
    if abs(abs(difference) - threshold) <= EDGE * threshold:
        verdict = "at the edge"
    else:
        verdict = "a difference" if abs(difference) > threshold else "no detectable difference"
    return Comparison(tuple(names), (dict(a), dict(b)), difference, threshold, verdict)


def band_verdict(value: float, band: dict) -> str:
    """Where one value lies against the band of the seeds' values ({seed: value}), in words without
    numbers: "within the band of the N seeds or at its edge" when it lies inside the band or within
    EDGE of the band's width beyond one of its ends (one more draw, as far as N seeds can tell),
    else "below (above) the band of the N seeds, beyond its edge"."""
    values = _values(band, "the band")
    low, high = values.min(), values.max()
    n, margin = len(values), EDGE * (high - low)
    if value < low - margin:
        return f"below the band of the {n} seeds, beyond its edge"
    if value > high + margin:
        return f"above the band of the {n} seeds, beyond its edge"
    return f"within the band of the {n} seeds or at its edge: one more draw"


def across_networks(counts: dict, what: str, strongest: dict) -> str:
    """What holds across networks, counted: counts maps each network (a seed) to how many of its
    units show a feature, strongest to its strongest value.  "units {what} in 2 of the 3 networks
    (seed 0: 3 units, seed 1: 0, seed 2: 1; the strongest per network: seed 0 0.81, ...)" (what:
    plural, "follow ...").  The words are the same whatever the counts: which network crosses a
    threshold moves with the seed and the machine's rounding, and the counts and values show it."""
    counts = {seed: int(k) for seed, k in counts.items()}
    if len(counts) < SEEDS:
        raise ValueError(f"{len(counts)} networks: say what holds across at least {SEEDS}; train more seeds")
    held = sum(k > 0 for k in counts.values())
    per = ", ".join(f"seed {seed}: {k}" for seed, k in counts.items())
    shown = ", ".join(f"seed {seed} {strongest[seed]:.2f}" for seed in counts)
    return (f"units {what} in {held} of the {len(counts)} networks (units per network: {per}; the strongest per "
            f"network: {shown})")


# ----------------------------------------------------------------------------- the findings record


def findings_path(notebook: str) -> Path:
    return rnnlib.RESULTS_DIR / "findings" / f"{notebook}.json"


def record_findings(notebook: str, lines: list) -> None:
    """Print a Summary's lines and keep them in the results folder under the notebook's name (e.g.
    "2_training"), where notebook 8 and the report's abstract read them (findings)."""
    for line in lines:
        print(f"- {line}")
    path = findings_path(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"notebook": notebook, "scale": SCALE, "lines": list(lines)}, ensure_ascii=False,
                               indent=1), encoding="utf-8")


def finding_scales(folder=None) -> dict:
    """{notebook: the scale its findings were recorded at} (see findings)."""
    return {name: kept["scale"] for name, kept in _records(folder).items()}


def findings(folder=None) -> dict:
    """{notebook: its Summary's lines} as record_findings kept them, in the notebooks' order; a
    damaged record is left out."""
    return {name: kept["lines"] for name, kept in _records(folder).items()}


def _records(folder=None) -> dict:
    folder = Path(folder or rnnlib.RESULTS_DIR / "findings")
    kept = {}
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            kept[path.stem] = dict(lines=list(record["lines"]), scale=float(record["scale"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return kept
