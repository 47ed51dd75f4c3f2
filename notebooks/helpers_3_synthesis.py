"""The texts, tables, figures and widget of notebooks/3_synthesis.ipynb, the page that
`python3 run.py serve` serves: texts from the best model after a prime (Sample), at fixed
temperatures; what the temperature does to the entropy, to the share of real words and to
repetition (temperature_effects); what the model expects after each character of the text it
reads, and how sure it is inside words and at word starts, against its own writing at T = 1
(Expectations, its view NextCharacters, compare_with_synthesis); the summary's sentences; and
the temperature slider, live (temperature_explorer) and static (static_temperature_slider, over
texts sampled when the report is built).
"""

import asyncio
import html
import math
import re
from dataclasses import dataclass

import numpy as np

import rnnlib
from rnnlib import RNN, Corpus
from shared import StaticForm, Table, range_input, record_findings, slider_script, subplots

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


def entropy_bits(P) -> np.ndarray:
    """(n,) entropy of each row of P, in bits: -sum_k p_k log2 p_k."""
    return -(P * np.log2(np.maximum(P, 1e-300))).sum(axis=1)


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
            entropy[i, j] = entropy_bits(P).mean()
            found = WORD.findall(text)
            words[i, j] = np.mean([w in known for w in found]) if found else math.nan
            distinct[i, j] = len(set(found)) / len(found) if found else math.nan
    return {"temperature": np.asarray(temperatures), "entropy": entropy.mean(axis=1),
            "known words": np.nanmean(words, axis=1), "distinct words": np.nanmean(distinct, axis=1),
            "seeds": len(seeds), "n": n}


def plot_temperature_effects(effects: dict):
    """Entropy and the share of real words against the temperature, side by side."""
    fig, (left, right) = subplots(1, 2, figsize=(9, 3.6))
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
    known, entropy = 100 * effects["known words"], effects["entropy"]
    return fig.describe(
        f"Two line charts against the temperature T from {T[0]:g} to {T[-1]:g}, means over {effects['seeds']} "
        f"seeds of {effects['n']:,} characters. Left: the entropy of the next-character distribution rises from "
        f"{entropy[0]:.2f} to {entropy[-1]:.2f} bits. Right: the share of generated words found in the training text "
        f"falls from {known[0]:.1f} % to {known[-1]:.1f} %. A dashed line marks T = 1.")


def effects_table(effects: dict, temperatures=(0.2, 0.5, 1.0, 1.5, 2.0)) -> Table:
    """Some rows of temperature_effects."""
    rows = [[f"{T:.2f}", float(e), 100 * float(w), 100 * float(d)]
            for T, e, w, d in zip(effects["temperature"], effects["entropy"], effects["known words"],
                                  effects["distinct words"])
            if np.isclose(temperatures, T).any()]
    return Table(["temperature", "entropy (bits)", "words found in the training text (%)", "distinct words (%)"],
                 rows, float_format="{:.2f}")


def synthesis_summary(effects: dict, expected: dict | None = None, low: float = 0.5, high: float = 1.5) -> list:
    """The summary's facts, from the measured effects: real and distinct words at T = 1 and at a
    lower and a higher temperature, and whether lowering T repeated words more; with expected
    (compare_with_synthesis), how sure the model is reading the text; printed and kept in the
    findings record."""
    at = {name: dict(zip(np.round(effects["temperature"], 2).tolist(), effects[name].tolist()))
          for name in ("known words", "distinct words", "entropy")}
    lines = [f"T = {T:.2f}: {100 * at['known words'][T]:.1f} % of the generated words occur in the training text, "
             f"{100 * at['distinct words'][T]:.1f} % of them are distinct, entropy {at['entropy'][T]:.2f} bits."
             for T in (low, 1.0, high)]
    lower, upper = at["distinct words"][low], at["distinct words"][1.0]
    lines.append(f"From T = 1.00 down to T = {low:.2f} the share of distinct words "
                 + (f"falls from {100 * upper:.1f} % to {100 * lower:.1f} %: the real words come with more "
                    f"repetition." if lower < upper else
                    f"does not fall ({100 * upper:.1f} % to {100 * lower:.1f} %): no more repetition was measured."))
    if expected:
        lines.append(f"Reading the text, the first guess has p = {expected['inside p']:.2f} inside words "
                     f"({expected['inside bits']:.2f} bits of entropy), {expected['start p']:.2f} at word starts "
                     f"({expected['start bits']:.2f} bits); {expected['text bits']:.2f} bits per character reading "
                     f"the text, {expected['generated bits']:.2f} writing at T = 1.")
    record_findings("3_synthesis", lines)
    return lines


# The static slider's script, as it moves: the readout and the text at that temperature.
SHOW_THE_TEXT = """\
    readout.textContent = Number(slider.value).toFixed(2);
    box.querySelector("pre .continuation").textContent = data[readout.textContent];"""


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
    return f"""<div class="static-temperature-slider">
{range_input("temperature", "temperature", T_MIN, T_MAX, T_STEP, start)}
<p>Sampled when this report was built: {length:,} characters at each temperature from {T_MIN:.2f} to \
{T_MAX:.2f} in steps of {T_STEP}, with seed {seed}. Drag the slider or use the arrow keys.</p>
<p class="on-paper" style="display: none">On paper: this slider lives in the HTML copy of the report \
(build/report.html); the texts at fixed temperatures above are its texts at those positions.</p>
<pre style="border: 1px solid #ccc; padding: 0.5em; white-space: pre-wrap; font-family: var(--jp-code-font-family, \
monospace); font-size: var(--jp-code-font-size, 13px); line-height: var(--jp-code-line-height, 1.3)">\
<span style="background: #ffe8a8" title="the prime">{html.escape(prime)}</span><span class="continuation">\
{html.escape(texts[start])}</span></pre>
{slider_script(texts, SHOW_THE_TEXT)}
</div>"""


@dataclass(repr=False, eq=False)
class TemperatureExplorer(StaticForm):
    """temperature_explorer's widget and its static form, with its parts."""

    controls: dict   # "temperature", "length", "seed", "prime": the control widgets
    text: object     # the ipywidgets Output that shows the text


def temperature_explorer(rnn: RNN, corpus: Corpus, *, temperature=1.0, length=SAMPLE_LENGTH, seed=SAMPLE_SEED,
                         prime=SAMPLE_PRIME) -> TemperatureExplorer:
    """Sliders for temperature (0.1–2.0) and length, a seed box, a prime box, and the text they
    give (the prime, then the continuation), re-sampled from rnn whenever one of them changes:
    the prime as it is typed, once typing pauses (no Enter needed).  A prime with characters
    outside the vocabulary shows a message naming them instead.
    Returns it as a TemperatureExplorer, which carries static_temperature_slider as its HTML form."""
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
    # Without a kernel: the same slider over texts sampled now.
    static = static_temperature_slider(rnn, corpus, temperature=temperature, length=length, seed=seed, prime=prime)
    return TemperatureExplorer(widgets.VBox([*controls.values(), text]), static, controls, text)


# ----------------------------------------------------------------------------- what it expects next, reading


def top_next(rnn: RNN, corpus: Corpus, text: str, k: int = 5):
    """After each character of text, read from h = 0: the k likeliest next characters and their
    probabilities, likeliest first.  Returns (P: (n, K), top: (n, k) indices, top_p: (n, k))."""
    P = rnnlib.probabilities(rnn, rnnlib.hidden_states(rnn, corpus.encode(text), np.zeros(rnn.m)))
    top = np.argsort(-P, axis=1, kind="stable")[:, :k]     # (n, k): row t ranks the guesses for text[t + 1]
    return P, top, np.take_along_axis(P, top, axis=1)


def word_positions(text: str) -> dict:
    """Which positions t < n - 1 of text predict what, by the characters read and next (a letter
    is what str.isalpha says, as notebook 5's features count them): (n - 1,) bool masks."""
    letter = np.array([ch.isalpha() for ch in text], dtype=bool)
    now, after = letter[:-1], letter[1:]
    return {"inside a word": now & after, "at a word start": ~now & after, "after a word": ~after}


class Expectations:
    """What the model expects after each character of a text: the top k guesses, the entropy
    and the surprise, -log2 of the probability it gave the character that came."""

    def __init__(self, rnn: RNN, corpus: Corpus, text: str, k: int = 5):
        self.text, self.chars = text, corpus.chars
        P, self.top, self.top_p = top_next(rnn, corpus, text, k)
        self.entropy = entropy_bits(P)                                      # (n,)
        came = corpus.encode(text)[1:]
        self.surprise = -np.log2(P[np.arange(len(came)), came])             # (n - 1,)
        self.right = self.top[:-1, 0] == came                               # (n - 1,) the first guess came

    def table(self) -> Table:
        """Per kind of position: how many, the first guess's mean probability, how often it is
        right, the mean entropy and the mean surprise."""
        rows = [[name, int(mask.sum()), float(self.top_p[:-1, 0][mask].mean()), float(100 * self.right[mask].mean()),
                 float(self.entropy[:-1][mask].mean()), float(self.surprise[mask].mean())]
                for name, mask in word_positions(self.text).items() if mask.any()]
        return Table(["next character", "positions", "p of the first guess", "first guess right (%)",
                      "entropy (bits)", "surprise (bits)"], rows, float_format="{:.2f}",
                     title=f"what the model expects, over {len(self.text):,} characters")

    def view(self, start: int = 0, length: int = 160) -> "NextCharacters":
        return NextCharacters(self, start, length)


def compare_with_synthesis(reading: Expectations, effects: dict) -> dict:
    """Print the sentences of "what the model expects next" from the measured values: sure inside
    words, unsure at word starts, and the entropy over the text against that of the model's own text
    at T = 1 (temperature_effects, with 1.0 among its temperatures).  Returns the values."""
    masks = word_positions(reading.text)
    inside, start = masks["inside a word"], masks["at a word start"]
    at_one = effects["entropy"][np.isclose(effects["temperature"], 1.0)]
    if not at_one.size:
        raise ValueError("the temperature effects have no T = 1 to compare with: give temperature_effects "
                         "temperatures=[1.0]")
    at_one = float(at_one[0])
    first = reading.top_p[:-1, 0]
    values = {"inside p": float(first[inside].mean()), "start p": float(first[start].mean()),
              "inside bits": float(reading.entropy[:-1][inside].mean()),
              "start bits": float(reading.entropy[:-1][start].mean()),
              "text bits": float(reading.entropy.mean()), "surprise": float(reading.surprise.mean()),
              "generated bits": at_one}
    print(f"Inside a word the first guess has p = {values['inside p']:.2f} on average and the distribution "
          f"{values['inside bits']:.2f} bits of entropy; at a word's first letter p = {values['start p']:.2f} "
          f"and {values['start bits']:.2f} bits, {values['start bits'] / values['inside bits']:.1f} times as many.")
    ratio = values["text bits"] / at_one
    if abs(ratio - 1) < 0.1:
        verdict = "the same within 10 %: at T = 1 the model writes about as uncertainly as it reads."
    elif ratio > 1:
        verdict = f"the text leaves it {ratio:.2f} times as uncertain as its own writing, which keeps to known paths."
    else:
        verdict = f"its own writing leaves it {1 / ratio:.2f} times as uncertain as the text."
    print(f"Over all {len(reading.text):,} characters of the text the entropy is {values['text bits']:.2f} bits "
          f"per character (and the surprise at what came {values['surprise']:.2f}); over the model's own text "
          f"at T = 1 (above, {effects['seeds']} seeds of {effects['n']:,} characters) it is {at_one:.2f}; "
          + verdict)
    return values


def _shown(ch: str) -> str:
    """A character as the view prints it: the whitespace made visible."""
    return {" ": "␣", "\n": "↵", "\t": "⇥"}.get(ch, ch)


class NextCharacters:
    """A stretch of text with, under each character, the model's five guesses for the next one,
    likeliest first, shaded by probability (full green at p = 1); a red frame marks the
    character that came.  Plain HTML with inline styles, which wraps to any width."""

    def __init__(self, reading: Expectations, start: int, length: int):
        self.reading, self.span = reading, range(start, min(start + length, len(reading.text)))

    def _column(self, t: int) -> str:
        r = self.reading
        came = r.text[t + 1] if t + 1 < len(r.text) else None
        cells = []
        for i, p in zip(r.top[t].tolist(), r.top_p[t].tolist()):
            ch = r.chars[i]
            frame = "#c0392b" if ch == came else "transparent"
            ink = "#fff" if p > 0.55 else "#000"
            cells.append(f'<span style="display: block; background: rgba(20, 120, 60, {p:.2f}); color: {ink}; '
                         f'border: 1px solid {frame}" title="{html.escape(repr(ch))}: p = {p:.2f}">'
                         f"{html.escape(_shown(ch))}</span>")
        head = (f'<span style="display: block; font-weight: bold; background: #eee; border-bottom: 1px solid #999">'
                f"{html.escape(_shown(r.text[t]))}</span>")
        return ('<span style="display: inline-block; vertical-align: top; min-width: 1.25em; text-align: center; '
                f'margin: 0 1px 0.5em 0">{head}{"".join(cells)}</span>')

    def _repr_html_(self):
        columns = "".join(self._column(t) for t in self.span)
        # Printed, the view may break between its lines, as a long text output does, rather than move whole to
        # the next page and leave a blank behind.
        return ('<style>@media print { .jp-OutputArea-child:has(.next-characters) { break-inside: auto; } }</style>'
                '<div class="next-characters"><p style="margin: 0 0 0.4em">Under each character of the text (grey), '
                "the five characters the model expects next, likeliest first, shaded by their probability (full "
                "green: p = 1); a red frame marks the one that came. ␣ is a space, ↵ a new line.</p>"
                '<div style="font-family: var(--jp-code-font-family, monospace); font-size: 12px; line-height: 1.25">'
                f"{columns}</div></div>")

    def __repr__(self):
        r = self.reading
        return "\n".join(f"{_shown(r.text[t])} → " + "  ".join(
            f"{_shown(r.chars[i])} {p:.2f}" for i, p in zip(r.top[t].tolist(), r.top_p[t].tolist()))
            for t in self.span)
