"""What several of the report's notebooks use, beside each notebook's own helper module
(helpers_1_gradient_check.py ... helpers_6_beyond.py): figures as sharp PNGs; bits per
character, perplexity and a bits axis (notebooks 2, 4 and 6); the small Table (1, 2, 5 and 6);
the entropy of a distribution (3 and 5); the finished main run, loaded or trained
(load_or_train_best: 3, 4 and 5); and the static slider's scaffold with the class that carries
a widget's static form (the temperature slider of 3, the hidden-unit browser of 5); the report's
scale (SCALE, scaled: how many updates its runs make) and its verdict rule (compare: two settings
over the same seeds, each seed's value shown).
"""

import html
import json
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import rnnlib
from rnnlib import RNN, Corpus, TrainingState


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


def entropy_bits(P) -> np.ndarray:
    """(n,) entropy of each row of P, in bits: -sum_k p_k log2 p_k."""
    return -(P * np.log2(np.maximum(P, 1e-300))).sum(axis=1)


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


# The one knob every notebook reads: the updates of the report's runs are multiplied by it (1: the report).
SCALE = _scale()


def scaled(updates: int) -> int:
    """updates times SCALE, at least 1: how many updates a run the report describes as `updates` makes."""
    return max(1, round(updates * SCALE))


# ----------------------------------------------------------------------------- the verdict rule

SEEDS = 3      # every comparison runs seeds rnnlib.DEFAULT_SEED, 1, 2 (at least this many) for each setting
EDGE = 0.25    # a result within this fraction of the rule's threshold, either side, sits at the edge
VERDICT_RULE = (
    f"Every comparison runs the same seeds (at least {SEEDS}) for each setting and shows each seed's value. A "
    f"difference of the means no larger than the larger of the two settings' seed ranges (highest minus lowest) is "
    f"no detectable difference; a larger one is a difference. A difference within {EDGE:.0%} of that range, either "
    f"side, sits at the edge of the rule: too close to call. A single value (the published run) is within the "
    f"band of the seeds or outside it, and at the edge when it lies within {EDGE:.0%} of the band's width of one "
    f"of its ends.")


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
