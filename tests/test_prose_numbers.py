"""Numbers in the notebooks' prose come from outputs: every number a markdown cell states is a
setting of the assignment, a constant of an equation, or it is not in the markdown at all but
printed by an output of the same run (a cell that writes the sentence from the values).  So a
re-run on another machine or another text cannot leave the prose wrong.

Numbers written in digits are listed (spelled-out ones, "four epochs", are not); code spans, link
targets, HTML tags, subscripts in equations and the report's own numbering ("2 · Training",
"notebook 2", "part 3") are not prose numbers."""

import json
import re
from pathlib import Path

import pytest

import build_report

# What a number in prose may be, each with its reason.  A value here is allowed wherever it appears.
ALLOWED = {
    0: "the start of a recurrence or a run: h_0 = 0, b = c = 0, update 0",
    1: "a constant of an equation (1 − h², T = 1, the first sequence, t = n down to 1)",
    2: "a constant of an equation (ln 2, 2δ, g², 2 to the bits per character)",
    5: "the assignment's settings: m = 5 for the gradient check, clipping to [−5, 5]",
    25: "the assignment's seq_length (and 25 · ln K, the loss of a network that knows nothing)",
    100: "the assignment's m = 100",
    0.01: "the assignment's σ",
    0.1: "the assignment's η",
    1e-4: "the assignment's step h (δ) of the centred differences",
    1e-6: "the assignment's threshold for the relative error",
    1e-8: "a constant of the assignment's equations: AdaGrad's ε, and the relative error's floor",
    0.999: "a constant of the smooth-loss equation",
    0.001: "a constant of the smooth-loss equation",
    200: "the assignment's sample length",
    1_000: "the assignment's passage from the best model",
    10_000: "the assignment's interval between samples",
    100_000: "the assignment's first updates, whose samples and losses the report shows",
    2019: "the published run's date, part of its name (Rui Qu, KTH, May 2019)",
    1e-15: "the constant of the nudge's equation, θ (1 + 10⁻¹⁵ z)",
}
# Allowed as written only, with their unit: a fact of a number format, not a count of anything.
ALLOWED_AS_WRITTEN = {
    "80-bit": "long double's format (80-bit extended precision)",
}

# Names with a number in them: not numbers at all.
NAMES = {
    "Assignment 4": "the assignment's name (KTH DD2424, Assignment 4)",
}

SUPERSCRIPTS = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
NUMBER = re.compile(r"(?<![\w.−-])(?<![A-Za-z][−-])[−-]?\d+(?:,\d{3})*(?:\.\d+)?(?:e[−-]?\d+)?(?:-[a-z]+)?(?![\w])")


def prose_numbers(markdown: str) -> list[str]:
    """The numbers a markdown cell states, as written (a power of ten as 1e-N)."""
    text = re.sub(r"```.*?```|`[^`]*`", " ", markdown, flags=re.S)                  # code
    text = re.sub(r"\]\([^)]*\)", "]", text)                                         # link targets
    text = re.sub(r"<[^>]*>", " ", text)                                             # HTML tags
    text = re.sub("|".join(map(re.escape, NAMES)), " ", text)                        # names
    text = re.sub(r"(?<!\d)(\d) · (?=[A-Z])", " ", text)                             # "2 · Training"
    text = re.sub(r"\b([Nn]otebooks?|[Pp]arts?) \d+", " ", text)                     # "notebook 2", "part 3"
    text = re.sub(r"_\{[^{}]*(\{[^{}]*\}[^{}]*)*\}|_\w", " ", text)                  # subscripts: indices
    text = re.sub(r"10\^\{([−-]?\d+)\}", r"1e\1", text)                              # 10^{-8}
    text = re.sub(r"10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)", lambda m: "1e" + m.group(1).translate(SUPERSCRIPTS), text)
    text = re.sub(r"\^\{?(\d+)\}?", r" \1 ", text)                                   # g^2: the exponent
    return [m.group() for m in NUMBER.finditer(text)]


def stray(number: str) -> bool:
    """Whether a number as written is neither allowed as written nor of an allowed value."""
    if number in ALLOWED_AS_WRITTEN:
        return False
    value = abs(float(re.sub(r"-[a-z]+$", "", number).replace(",", "").replace("−", "-")))
    return not any(value == pytest.approx(allowed, rel=1e-9) for allowed in ALLOWED)


def markdown_cells(path: Path):
    for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        if cell["cell_type"] == "markdown":
            yield i, "".join(cell["source"])


def test_the_listing_finds_the_numbers_prose_states():
    assert prose_numbers("a best smooth loss of 41.10 at update 175,173, about ±1") == ["41.10", "175,173", "1"]
    assert prose_numbers("a 200-character sample; 56 % real words; δ = 1e-4; [−5, 5]") == [
        "200-character", "56", "1e-4", "−5", "5"]
    assert prose_numbers(r"$\epsilon = 10^{-8}$, one part in 10⁻¹⁵, $(1 - h_t^2)$, $a_{n+1}$") == [
        "1e-8", "1e-15", "1", "2"]
    # not prose numbers: code, link targets, names with digits, the notebooks' own numbers
    assert prose_numbers("`seed=1` float64 x_1 [2 · Training](2_training.ipynb) UTF-8 <a id=\"n-3\">") == []
    assert prose_numbers("the DD2424 Assignment 4 report, as notebook 3 and part 4 show") == []


def test_a_stray_number_is_caught_and_the_assignments_settings_are_not():
    strays = [n for n in prose_numbers("Seed 1 gave 41.54 after 20,001 updates, 56 % real words.") if stray(n)]
    assert strays == ["41.54", "20,001", "56"]
    settings = "m = 100, σ = 0.01, η = 0.1, seq_length = 25, 80-bit, a 200-character sample every 10,000 updates"
    assert [n for n in prose_numbers(settings) if stray(n)] == []


# notebook_paths() raises if there is no notebook: collection fails, where an empty parametrisation would skip.
@pytest.mark.parametrize("path", build_report.notebook_paths(), ids=lambda p: p.name)
def test_every_number_in_a_notebooks_prose_is_a_setting_a_constant_or_printed(path):
    strays = [f"cell {i}: {n}" for i, source in markdown_cells(path) for n in prose_numbers(source) if stray(n)]
    assert strays == [], (f"{path.name} states numbers by hand; print them from the values in a cell, or, if "
                          f"one is a setting of the assignment or a constant of an equation, add it to ALLOWED "
                          f"with its reason: {strays}")
