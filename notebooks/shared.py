"""What several of the report's notebooks use, beside each notebook's own helper module
(helpers_1_gradient_check.py ... helpers_6_beyond.py): figures as sharp PNGs, each with a
description for readers who cannot see it (DescribedFigure, made by `subplots`); bits per
character, perplexity and a bits axis (notebooks 2, 4 and 6); the small Table (1, 2, 5 and 6);
the entropy of a distribution (3 and 5); the finished main run, loaded or trained
(load_or_train_best: 3, 4 and 5); and the static slider's scaffold with the class that carries
a widget's static form (the temperature slider of 3, the hidden-unit browser of 5).
"""

import html
import json
import math
import numbers
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
