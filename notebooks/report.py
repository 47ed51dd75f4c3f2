"""The report's tables, figures and widgets: what the notebooks show, computed with rnnlib.

The notebooks narrate and call these; rnnlib.py holds the computation only.  Sections: the
published run · tables · gradient checks · training · synthesis.
"""

import html
import json
import math
import numbers
from pathlib import Path

import numpy as np

import rnnlib
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

    def __init__(self, rnn: RNN, seqs, references=("centred differences",), h0=None):
        h0 = np.zeros(rnn.m) if h0 is None else h0
        self.analytic = [rnnlib.loss_and_gradients(rnn, x, y, h0)[1] for x, y in seqs]
        self.references = {}                        # (reference, sequence index) -> Params
        columns, errors = [], []
        for ref in references:
            for i, (x, y) in enumerate(seqs):
                other = self.references[ref, i] = GRADIENT_REFERENCES[ref](rnn, x, y, h0)
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


def loss_table(history: History, updates=range(0, 100_001, 10_000), published=PUBLISHED_SMOOTH_LOSS) -> Table:
    """Our smooth loss at the given updates (those the run reached) beside the published run's."""
    rows = [[u, float(history.smooth_loss[u]), published.get(u, math.nan),
             round(round(float(history.smooth_loss[u]), 2) - published.get(u, math.nan), 2)]
            for u in updates if u < history.updates]
    return Table(["update", "smooth loss", "published", "difference"], rows, float_format="{:.2f}")


def seed_table(corpus: Corpus, seeds, updates: int = 20_001, every: int = 10_000, m: int = 100) -> Table:
    """How much the initialisation matters: the smooth loss at every `every` updates for
    networks that differ only in the seed of U, W, V (the published run is one such draw)."""
    marks = list(range(every, updates, every))
    rows = []
    for seed in seeds:
        history = rnnlib.train(RNN.init(corpus.K, m=m, rng=seed), corpus, updates=updates, sample_every=None,
                        progress=False)
        rows.append([f"seed {seed}", *(float(history.smooth_loss[u]) for u in marks)])
    rows.append(["published", *(PUBLISHED_SMOOTH_LOSS.get(u, math.nan) for u in marks)])
    return Table(["run", *(f"update {u:,}" for u in marks)], rows, float_format="{:.2f}")


def plot_smooth_loss(history: History, published=PUBLISHED_SMOOTH_LOSS, ax=None):
    """The smooth loss per update, epoch boundaries dashed, the published run's points marked."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.5))
    ax.plot(np.arange(history.updates), history.smooth_loss, lw=1, label="smooth loss (this run)")
    for start in range(history.updates_per_epoch, history.updates, history.updates_per_epoch):
        ax.axvline(start, color="grey", ls="--", lw=0.8)
    points = {u: v for u, v in published.items() if u < history.updates}
    if points:
        ax.plot(list(points), list(points.values()), "o", ms=4, color="C1", label="published run")
    ax.set(xlabel="update", ylabel="smooth loss",
           title=f"Smooth loss, {history.updates:,} updates (dashed lines: epoch boundaries)")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax.figure


def print_samples(history: History) -> None:
    """Each sample with its update number and the smooth loss then."""
    for update, text in sorted(history.samples.items()):
        print(f"--- update {update:,}, smooth loss {history.smooth_loss[update]:.2f}\n{text}\n")


# One seed, prime and length for every synthesis view (the fixed temperatures, the live explorer and its
# static copy), so that at the same temperature they all show the same text.  The prime None is generate's
# default, the corpus's first character.
SAMPLE_LENGTH, SAMPLE_SEED, SAMPLE_PRIME = 300, 0, None
# The temperature slider's range, live and static.
T_MIN, T_MAX, T_STEP = 0.1, 2.0, 0.05


def print_temperatures(rnn: RNN, corpus: Corpus, temperatures=(0.5, 0.75, 1.0, 1.5), n: int = SAMPLE_LENGTH,
                       seed: int = SAMPLE_SEED, prime=SAMPLE_PRIME) -> None:
    """A text of n characters at each temperature, all from the same seed and prime."""
    for T in temperatures:
        print(f"--- temperature {T}\n{rnnlib.generate(rnn, corpus, n, temperature=T, prime=prime, rng=seed)}\n")


def static_temperature_slider(rnn: RNN, corpus: Corpus, *, temperature=1.0, length=SAMPLE_LENGTH,
                              seed=SAMPLE_SEED, prime=SAMPLE_PRIME) -> str:
    """The temperature slider without a kernel, as one self-contained piece of HTML: a text of
    `length` characters sampled now at every step from T_MIN to T_MAX, a plain range input with
    a readout of T, and a few lines of JavaScript that show the text for the chosen T."""
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
{html.escape(texts[start])}</pre>
<script type="application/json">{data}</script>
<script>
(function (box) {{
  var texts = JSON.parse(box.querySelector('script[type="application/json"]').textContent);
  var slider = box.querySelector("input"), readout = box.querySelector("output"), text = box.querySelector("pre");
  slider.addEventListener("input", function () {{
    readout.textContent = Number(slider.value).toFixed(2);
    text.textContent = texts[readout.textContent];
  }});
}})(document.currentScript.parentElement);
</script>
</div>"""


def temperature_explorer(rnn: RNN, corpus: Corpus, *, temperature=1.0, length=SAMPLE_LENGTH, seed=SAMPLE_SEED,
                         prime=SAMPLE_PRIME):
    """Sliders for temperature (0.1–2.0) and length, a seed box, and the text they give,
    re-sampled from rnn whenever one of them changes.  Returns the ipywidgets box."""
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
    }
    text = widgets.Output(layout=widgets.Layout(border="1px solid #ccc", padding="0.5em"))

    def resample(_=None):
        sample = rnnlib.generate(rnn, corpus, controls["length"].value, temperature=controls["temperature"].value,
                          prime=prime, rng=controls["seed"].value)
        text.outputs = ({"output_type": "stream", "name": "stdout", "text": sample},)

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

