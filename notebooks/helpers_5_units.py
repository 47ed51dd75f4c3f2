"""The tables, figures and widget of notebooks/5_units.ipynb, inside the trained network:
1 · the unit that correlates most with each of a few features of the text, against its input
drive and the untrained network (unit_correlations), a passage coloured by each such unit once
(Coloured, show_units), a heat map, the quotations' lengths against the window; what holds
across the networks of several seeds (units_across_networks); 2 · a slider over the hidden units
that colours a passage by the chosen one, live (unit_browser) and static (static_unit_browser,
every unit computed at build time); the summary's lines.
"""

import html
from dataclasses import dataclass

import numpy as np

import rnnlib
from rnnlib import RNN, Corpus
from shared import (
    StaticForm,
    Table,
    across_networks,
    range_input,
    record_findings,
    slider_script,
    subplots,
)

# --------------------------------------------------------------------------- 1 · what the units follow


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


def quotation_lengths(text: str) -> np.ndarray:
    """(q,) the number of characters between each opening quotation mark '"' and the next one, which
    closes it, as text_features pairs them (a last mark left open is not counted)."""
    marks = np.flatnonzero(np.array(list(text)) == '"')
    opening, closing = marks[0::2], marks[1::2]
    return closing - opening[:len(closing)] - 1


def describe_quotations(text: str, window: int = rnnlib.SEQ_LENGTH) -> dict:
    """How long the text's quotations are against the truncation window, as a sentence: their median
    and the share that a window of `window` characters holds with both marks (window - 1 characters or
    fewer between them).  Returns {"median", "within", "count"}."""
    lengths = quotation_lengths(text)
    if not lengths.size:
        print("The text has no pair of quotation marks to measure.")
        return dict(median=None, within=None, count=0)
    median, within = float(np.median(lengths)), float((lengths <= window - 1).mean())
    print(f"The text's {lengths.size:,} quotations run {median:.0f} characters between their marks in the median; "
          f"{within:.0%} of them are {window - 1} characters or shorter, so that a {window}-character window can "
          f"hold the quotation and its opening mark. "
          + ("Many quotations fit in the window the gradient sees, so their length alone does not explain a null "
             "result for this feature; what does, this report does not test." if within >= 0.1 else
             "Nearly every quotation is longer than the window the gradient sees."))
    return dict(median=median, within=within, count=int(lengths.size))


def standardised(A):
    """Each column of A shifted to mean 0 and scaled to standard deviation 1 (a constant one to 0)."""
    return (A - A.mean(axis=0)) / np.maximum(A.std(axis=0), 1e-12)


def feature_correlations(H, text: str, features: dict | None = None) -> dict:
    """{feature of text_features (or of `features`, given): (m,) correlation r of each unit's activation
    with it} over text, whose hidden states are H: (n, m); 0 for a unit or a feature that never changes."""
    Hc = standardised(H)
    return {name: Hc.T @ standardised(f) / len(f) for name, f in (features or text_features(text)).items()}


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
    Hc, drive = standardised(H), standardised(rnn.U[:, x].T)          # (n, m) each
    before = None if untrained is None else feature_correlations(
        rnnlib.hidden_states(untrained, x, np.zeros(untrained.m))[1:], passage)
    rows = []
    for name, r in feature_correlations(H, passage).items():
        unit = int(np.argmax(np.abs(r)))
        row = [name, unit, float(r[unit]), float(Hc[:, unit] @ drive[:, unit] / len(passage))]
        if before is not None:
            row.append(float(np.abs(before[name]).max()))
        rows.append(row)
    columns = ["feature", "unit", "correlation r", "r with its input U x_t"] + (
        ["best |r| before training"] if before is not None else [])
    return H, Table(columns, rows, float_format="{:+.2f}",
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
    """Text coloured by one unit's activation in [-1, 1]: red positive, blue negative, under its
    caption (a line each, where it has several lines).  The characters are escaped, so any text
    shows as text."""

    def __init__(self, text: str, activation, caption: str):
        self.text, self.activation, self.caption = text, np.asarray(activation), caption

    def _repr_html_(self):
        spans = "".join(
            f'<span style="background: rgba({"220, 50, 40" if a > 0 else "40, 90, 220"}, {0.6 * abs(a):.2f})">'
            f"{html.escape(ch)}</span>" for ch, a in zip(self.text, self.activation.tolist()))
        return ("".join(f"<div><b>{html.escape(line)}</b></div>" for line in self.caption.split("\n"))
                + f'<pre style="white-space: pre-wrap; line-height: 1.6">{spans}</pre>')

    def __repr__(self):
        return f"{self.caption}\n{self.text}"


def show_units(passage: str, H, units: Table, shown: int = 700) -> None:
    """The first `shown` characters of passage coloured by each unit of the units table
    (unit_correlations), a unit that is best for several features once, under all its captions."""
    from IPython.display import display

    captions = {}
    for row in units.rows:
        captions.setdefault(row[1], []).append(unit_caption(*row))
    for unit, lines in captions.items():
        display(Coloured(passage[:shown], H[:shown, unit], "\n".join(lines)))


def plot_unit_heatmap(H, text: str, units, start: int = 0, length: int = 60):
    """The activations of the given units over length characters of text, as a heat map, sized
    for the printed page: no wider than its text, no taller than half of it for 20 units, labels of 7 and 8 pt."""
    units = list(units)
    fig, ax = subplots(figsize=(7, 0.14 * len(units) + 1.1))
    image = ax.imshow(H[start:start + length, units].T, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(length), [repr(ch)[1:-1] for ch in text[start:start + length]], fontsize=8,
                  family="monospace")
    ax.set_yticks(range(len(units)), [f"unit {u}" for u in units], fontsize=7)
    ax.set_title(f"{len(units)} hidden units over {length} characters (red +1, blue −1)", fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01).ax.tick_params(labelsize=8)
    shown = H[start:start + length, units]
    lively = np.abs(shown).mean(axis=0)
    return fig.describe(
        f"Heat map of {len(units)} hidden units (rows: units {', '.join(map(str, units))}) over {length} characters "
        f"of the passage, \"{text[start:start + length]}\", one column per character, red for +1 and blue for −1. "
        f"The mean |activation| per unit runs from {lively.min():.2f} (unit {units[int(lively.argmin())]}) to "
        f"{lively.max():.2f} (unit {units[int(lively.argmax())]}); {(np.abs(shown) > 0.9).mean():.0%} of the cells "
        f"are beyond ±0.9.")


# --------------------------------------------------------------------------- 2 · a hidden-unit browser

# An activation in [-1, 1] is kept to the nearest 1/20 in the static browser, one letter each.
LEVELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmno"


class UnitReading:
    """The hidden states over a passage (from h = 0), and each unit's strongest feature."""

    def __init__(self, rnn: RNN, corpus: Corpus, passage: str):
        self.passage = passage
        self.H = rnnlib.hidden_states(rnn, corpus.encode(passage), np.zeros(rnn.m))[1:]   # (n, m)
        R = feature_correlations(self.H, passage)
        names, R = list(R), np.array(list(R.values()))                  # (features, m)
        best = np.abs(R).argmax(axis=0)                                   # (m,)
        self.strongest = [(names[f], float(R[f, u])) for u, f in enumerate(best.tolist())]

    @property
    def m(self) -> int:
        return self.H.shape[1]

    def by_strength(self) -> list:
        """The units, the strongest |r| with any feature first."""
        return sorted(range(self.m), key=lambda u: -abs(self.strongest[u][1]))

    def strong(self, threshold: float = 0.5) -> list:
        """The units whose strongest correlation with a feature is at least threshold in size."""
        return [u for u in range(self.m) if abs(self.strongest[u][1]) >= threshold]

    def caption(self, unit: int) -> str:
        """The unit's strongest feature and r; below the null result's |r| (NULL_R2), that it follows none."""
        feature, r = self.strongest[unit]
        if r * r < NULL_R2:
            return (f"unit {unit} of {self.m} (0–{self.m - 1}): follows none of the features (its strongest "
                    f"correlation, with “{feature}”, is r = {r:+.2f}, below |r| = {NULL_R2 ** 0.5:.2f})")
        return f"unit {unit} of {self.m} (0–{self.m - 1}): strongest correlation with “{feature}”, r = {r:+.2f}"

    def levels(self, unit: int, shown: int) -> str:
        """The unit's activation over the first `shown` characters, one letter of LEVELS each."""
        return "".join(LEVELS[i] for i in np.rint((self.H[:shown, unit] + 1) * 20).astype(int).tolist())

    def coloured(self, unit: int, shown: int) -> Coloured:
        """The first `shown` characters coloured by the unit, at the static browser's levels."""
        activation = np.array([LEVELS.index(c) for c in self.levels(unit, shown)]) / 20 - 1
        return Coloured(self.passage[:shown], activation, self.caption(unit))


def unit_summary(reading: UnitReading, threshold: float = 0.5) -> None:
    """One line from the measured correlations: how many units follow a feature closely, and the
    strongest of them."""
    strong, top = reading.strong(threshold), reading.by_strength()[0]
    verb = "correlates" if len(strong) == 1 else "correlate"
    print(f"Of the {reading.m} units, {len(strong)} {verb} with one of the features at |r| ≥ {threshold}; "
          f"the strongest is unit {top}, with “{reading.strongest[top][0]}” (r = {reading.strongest[top][1]:+.2f}).")


SHOWN, ON_PAPER = 600, 3   # characters the browser colours; units the printed page shows

# The static browser's script, as the slider moves: the readout, the caption and each character's colour.
RECOLOUR = """\
    var levels = data.activations[slider.value];
    readout.textContent = slider.value;
    box.querySelector("b").textContent = data.captions[slider.value];
    var spans = box.querySelectorAll("pre span");
    for (var t = 0; t < spans.length; t++) {
      var a = data.levels.indexOf(levels[t]) / 20 - 1;
      spans[t].style.background = "rgba(" + (a > 0 ? "220, 50, 40" : "40, 90, 220") + ", " +
        (0.6 * Math.abs(a)).toFixed(2) + ")";
    }"""


def static_unit_browser(reading: UnitReading, unit: int | None = None, shown: int = SHOWN,
                        on_paper: int = ON_PAPER) -> str:
    """The unit browser without a kernel, as one self-contained piece of HTML: a plain range
    input over the m units, the passage coloured by the chosen one (Coloured's colours), every
    unit's activations computed now, and a few lines of inline script that recolour the
    passage.  Printed, where a slider is no use, it shows the `on_paper` units with the strongest
    correlations instead, and a line saying that the slider is in the HTML report."""
    unit = reading.by_strength()[0] if unit is None else unit
    data = {"levels": LEVELS, "captions": [reading.caption(u) for u in range(reading.m)],
            "activations": [reading.levels(u, shown) for u in range(reading.m)]}
    # Printed, each unit keeps its caption, over a shorter passage that ends with a line.
    cut = reading.passage.rfind("\n", shown // 4, shown // 2)
    lines = cut if cut > 0 else shown // 2
    paper = "".join(f'<div style="break-inside: avoid">{reading.coloured(u, lines)._repr_html_()}</div>'
                    for u in reading.by_strength()[:on_paper])
    return f"""<div class="static-unit-browser">
<style>
@media print {{ .static-unit-browser .on-screen {{ display: none; }} }}
@media not print {{ .static-unit-browser .on-paper {{ display: none; }} }}
</style>
<div class="on-screen">
{range_input("unit", "hidden unit", 0, reading.m - 1, 1, unit)}
<p>Computed when this report was built: each of the {reading.m} units' activation after each character (red \
positive, blue negative), and its strongest correlation over {len(reading.passage):,} characters; a unit whose \
strongest |r| is below {NULL_R2 ** 0.5:.2f} (r² below {NULL_R2}, a null result) follows none of the features. Drag \
the slider or use the arrow keys.</p>
{reading.coloured(unit, shown)._repr_html_()}
{slider_script(data, RECOLOUR)}
</div>
<div class="on-paper">
<p>On paper, the {min(on_paper, reading.m)} units that correlate most strongly with a feature; the HTML report \
has a slider here over all {reading.m}.</p>
{paper}
</div>
</div>"""


@dataclass(repr=False, eq=False)
class UnitBrowser(StaticForm):
    """unit_browser's widget and its static form, with its parts."""

    slider: object         # the ipywidgets IntSlider over the units
    text: object           # the ipywidgets Output that shows the coloured passage
    reading: UnitReading   # the passage's hidden states and each unit's strongest feature


def unit_browser(rnn: RNN, corpus: Corpus, passage: str, *, unit: int | None = None,
                 shown: int = SHOWN) -> UnitBrowser:
    """A slider over the m hidden units and the first `shown` characters of passage coloured by
    the chosen unit's activation, with its strongest correlation; recoloured whenever the slider
    moves.  Returns it as a UnitBrowser, which carries static_unit_browser as its HTML form."""
    import ipywidgets as widgets

    reading = UnitReading(rnn, corpus, passage)
    unit = reading.by_strength()[0] if unit is None else unit
    slider = widgets.IntSlider(value=unit, min=0, max=reading.m - 1, description="unit",
                               layout=widgets.Layout(width="36em"))
    text = widgets.Output(layout=widgets.Layout(border="1px solid #ccc", padding="0.5em"))

    def recolour(_=None):
        view = reading.coloured(slider.value, shown)
        text.outputs = ({"output_type": "display_data", "metadata": {},
                         "data": {"text/plain": repr(view), "text/html": view._repr_html_()}},)

    slider.observe(recolour, names="value")
    recolour()
    return UnitBrowser(widgets.VBox([slider, text]), static_unit_browser(reading, unit, shown), slider, text, reading)


def units_across_networks(networks: dict, corpus: Corpus, passage: str, threshold: float = 0.5) -> dict:
    """How many units of each network ({seed: RNN}) correlate with each feature at |r| >= threshold
    over passage (from h = 0), and how many of those beyond their input drive (r² above U x_t's):
    a line per feature in shared.across_networks' words, printed; {feature: (line, {seed: count})}."""
    x = corpus.encode(passage)
    counts, beyond, strongest = {}, {}, {}
    for seed, rnn in networks.items():
        H = rnnlib.hidden_states(rnn, x, np.zeros(rnn.m))[1:]
        r_input = (standardised(H) * standardised(rnn.U[:, x].T)).mean(axis=0)       # (m,)
        for name, r in feature_correlations(H, passage).items():
            strong = np.abs(r) >= threshold
            counts.setdefault(name, {})[seed] = int(strong.sum())
            strongest.setdefault(name, {})[seed] = float(np.abs(r).max())
            beyond.setdefault(name, {})[seed] = int((strong & (r ** 2 > r_input ** 2)).sum())
    facts = {name: (across_networks(counts[name], f"follow “{name}” at |r| ≥ {threshold}", strongest[name])
                    + "; of them closer to the feature than to U x_t: "
                    + ", ".join(f"seed {seed}: {k}" for seed, k in beyond[name].items())
                    + ".", counts[name]) for name in counts}
    print("\n".join(f"- {line}" for line, _ in facts.values()))
    return facts


# --------------------------------------------------------------------------- summary


def summary(reading: UnitReading, threshold: float = 0.5, across: dict | None = None) -> list:
    """What holds across networks (units_across_networks' facts) or else this network's reading:
    printed and kept in the findings record."""
    if across:
        lines = [f"Hidden units: {line}" for line, _ in across.values()]
    else:
        top = reading.by_strength()[0]
        lines = [f"Hidden units: {len(reading.strong(threshold))} of {reading.m} follow a feature at |r| ≥ "
                 f"{threshold}; the strongest, unit {top}, “{reading.strongest[top][0]}” "
                 f"(r = {reading.strongest[top][1]:+.2f})."]
    record_findings("5_units", lines)
    return lines
