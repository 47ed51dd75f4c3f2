"""Notebook 5 · Inside the network (notebooks/helpers_5_units.py): the units that follow simple
features of the text, and the hidden-unit browser, live and static (its static slider moved in
Chromium, offline)."""

import html
import json
import re

import nbformat
import numpy as np
import pytest

import build_report
import helpers_5_units as units
import rnnlib
import shared
from browser import open_offline, wait_for_change
from rnnlib import RNN


@pytest.fixture(scope="module")
def tiny(small_corpus):
    rnn = RNN.init(small_corpus.K, m=16, rng=0)
    rnnlib.train(rnn, small_corpus, epochs=30, sample_every=None, progress=False)
    return rnn


def static_data(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json">(.*?)</script>', page, re.S).group(1))


# 1 · what the units follow ------------------------------------------------------------------------

def test_text_features_and_the_units_that_follow_them(small_corpus, trained):
    features = units.text_features('ab "cd"\nef')
    assert features["a letter just read"].tolist() == [1, 1, 0, 0, 1, 1, 0, 0, 1, 1]
    assert features["position in the word"].tolist() == [1, 2, 0, 0, 1, 2, 0, 0, 1, 2]
    assert features["start of a line"].tolist() == [1, 0, 0, 0, 0, 0, 0, 0, 1, 0]
    assert features["inside quotation marks"].tolist() == [0, 0, 0, 1, 1, 1, 1, 0, 0, 0]
    assert features["a space just read"].tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    rnn, _ = trained
    before = RNN.init(small_corpus.K, m=rnn.m, rng=1)
    text = small_corpus.text[:200]
    H, table = units.unit_correlations(rnn, small_corpus, text, untrained=before)
    assert H.shape == (200, rnn.m) and len(table.rows) == 5 and len(table.columns) == 5
    letter = units.text_features(text)["a letter just read"]
    _, unit, r, r_input, r_before = table.rows[0]
    assert r == pytest.approx(np.corrcoef(H[:, unit], letter)[0, 1])
    assert all(abs(r) >= abs(np.corrcoef(H[:, j], letter)[0, 1]) - 1e-12 for j in range(rnn.m))
    drive = rnn.U[unit, small_corpus.encode(text)]
    assert r_input == pytest.approx(np.corrcoef(H[:, unit], drive)[0, 1])
    H0 = rnnlib.hidden_states(before, small_corpus.encode(text), np.zeros(rnn.m))[1:]
    assert r_before == pytest.approx(max(abs(np.corrcoef(H0[:, j], letter)[0, 1]) for j in range(rnn.m)))


def test_unit_captions_name_null_results_weak_correlations_and_echoes(capsys):
    assert units.unit_caption("quotes", 95, 0.09, 0.1) == (
        "unit 95: quotes (r = +0.09): a null result (r² = 0.008): no unit tracks this feature")
    assert units.unit_caption("letter", 1, 0.6, 0.9).endswith(
        "largely an echo of the character just read (r = +0.90 with U x_t)")
    assert units.unit_caption("line start", 3, -0.27, 0.3).endswith("a weak correlation (r² = 0.07)")
    assert units.unit_caption("word position", 2, 0.6, 0.3).endswith(
        "tracked beyond the input (r² = 0.36 with the feature, 0.09 with U x_t)")
    assert units.unit_caption("space", 4, 0.6, 0.65).endswith(
        "partly an echo of the character just read (r² = 0.42 with U x_t, 0.36 with the feature)")
    units.units_summary(shared.Table(["feature", "unit", "r", "r input"],
                                      [["letter", 1, 0.6, 0.9], ["quotes", 95, 0.09, 0.1]]))
    assert capsys.readouterr().out.splitlines() == [
        "- letter: unit 1, r = +0.60: largely an echo of the character just read (r = +0.90 with U x_t).",
        "- quotes: unit 95, r = +0.09: a null result (r² = 0.008): no unit tracks this feature."]


def test_coloured_text_is_escaped():
    page = units.Coloured("<script>x</script>&", [0.5] * 19, "unit <1>")._repr_html_()
    assert "<script" not in page and "</script" not in page and "x" in page and "unit &lt;1&gt;" in page
    assert page.count(">&lt;</span>") == 2 and page.count(">&gt;</span>") == 2 and ">&amp;</span>" in page
    assert page.count("rgba(220, 50, 40, 0.30)") == 19  # one span a character, its colour 0.6 |a|


def test_a_unit_best_for_several_features_is_shown_once_under_each_caption(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    H = np.linspace(-1, 1, 30)[:, None] * np.ones((1, 4))
    table = shared.Table(["feature", "unit", "r", "r input"],
                         [["letter", 1, 0.8, 0.9], ["space", 1, -0.8, 0.9], ["quotes", 3, 0.09, 0.1]])
    units.show_units("abc " * 10, H, table, shown=20)
    assert [view.caption.splitlines() for view in shown] == [
        [units.unit_caption("letter", 1, 0.8, 0.9), units.unit_caption("space", 1, -0.8, 0.9)],
        [units.unit_caption("quotes", 3, 0.09, 0.1)]]
    assert re.findall(r"<b>(.*?)</b>", shown[0]._repr_html_()) == [html.escape(line) for line in
                                                                   shown[0].caption.splitlines()]


# 2 · the hidden-unit browser ----------------------------------------------------------------------

def test_the_browsers_strongest_features_agree_with_the_best_unit_per_feature(small_corpus, tiny):
    passage = small_corpus.text
    reading = units.UnitReading(tiny, small_corpus, passage)
    R = units.feature_correlations(reading.H, passage)
    _, best = units.unit_correlations(tiny, small_corpus, passage)
    for feature, unit, r, *_ in best.rows:
        assert int(np.abs(R[feature]).argmax()) == unit and R[feature][unit] == pytest.approx(r)
    for unit, (feature, r) in enumerate(reading.strongest):
        assert abs(r) == max(abs(R[name][unit]) for name in R) and R[feature][unit] == r
    assert reading.strong(0) == list(range(tiny.m)) and reading.strong(1.01) == []
    assert reading.strong(0.5) == [u for u in range(tiny.m) if abs(reading.strongest[u][1]) >= 0.5]


def test_the_static_browser_holds_every_units_colouring(small_corpus, tiny):
    reading = units.UnitReading(tiny, small_corpus, small_corpus.text)
    page = units.static_unit_browser(reading, unit=3, shown=120)
    data = static_data(page)
    assert len(data["activations"]) == len(set(data["activations"])) == tiny.m == len(data["captions"])
    levels = np.array([[data["levels"].index(c) for c in codes] for codes in data["activations"]]) / 20 - 1
    np.testing.assert_allclose(levels, reading.H[:120].T, atol=0.025 + 1e-12)
    assert data["captions"][3] == reading.caption(3) and 'value="3"' in page and "<output>3</output>" in page
    assert reading.coloured(3, 120)._repr_html_() in page  # unit 3 shown before any script runs
    paper = page.split('<div class="on-paper">')[1]
    assert re.findall(r"<b>(.*?)</b>", paper) == [reading.caption(u) for u in reading.by_strength()[:units.ON_PAPER]]


def test_markup_in_the_passage_stays_text_in_the_static_browser(markup):
    rnn, corpus = markup
    page = units.static_unit_browser(units.UnitReading(rnn, corpus, corpus.text[:200]))
    assert page.count("<script") == page.count("</script>") == 2 and "<!--" not in page and "<b>x" not in page
    assert "<span" in page and "&lt;/span" not in page
    assert ">&lt;</span>" in page and ">&amp;</span>" in page and ">&gt;</span>" in page


def test_the_live_browser_recolours_and_carries_its_static_form(small_corpus, tiny):
    box = units.unit_browser(tiny, small_corpus, small_corpus.text, shown=100)
    html_now = lambda: box.text.outputs[0]["data"]["text/html"]  # noqa: E731
    first = box.slider.value
    assert first == box.reading.by_strength()[0] and (box.slider.min, box.slider.max) == (0, tiny.m - 1)
    before = html_now()
    box.slider.value = (first + 1) % tiny.m
    assert html_now() == box.reading.coloured(box.slider.value, 100)._repr_html_() != before
    bundle = box._repr_mimebundle_()
    assert bundle[build_report.WIDGET_VIEW]["model_id"] == box.widget.model_id
    assert bundle["text/html"] == units.static_unit_browser(box.reading, first, 100)
    # What the static report makes of the widget's output: its HTML form, without the widget.
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", bundle)])]
    static = build_report.static_copy(nb).cells[0].outputs[0].data
    assert set(static) == {"text/plain", "text/html"} and static["text/html"] == bundle["text/html"]


def test_the_static_slider_shows_another_unit_offline_and_paper_shows_a_few(markup, tmp_path):
    rnn, corpus = markup
    reading = units.UnitReading(rnn, corpus, corpus.text[:300])
    page_file = tmp_path / "browser.html"
    page_file.write_text(f"<!DOCTYPE html><meta charset=utf-8><body>{units.static_unit_browser(reading, unit=0)}"
                         "</body>", encoding="utf-8")
    with open_offline(tmp_path, page_file) as (page, outside, errors):
        box = page.locator(".static-unit-browser .on-screen")
        caption, text = box.locator("b"), box.locator("pre")
        colours = lambda: box.locator("pre span").evaluate_all("s => s.map(e => e.style.background).join()")  # noqa: E731
        assert caption.inner_text() == reading.caption(0) and text.text_content() == reading.passage
        before = colours()
        box.locator("input").focus()
        page.keyboard.press("ArrowRight")
        assert box.locator("output").inner_text() == "1"
        assert wait_for_change(caption.inner_text, reading.caption(0)) == reading.caption(1)
        assert wait_for_change(colours, before) != before and text.text_content() == reading.passage
        assert page.locator(".on-paper").is_hidden()
        page.emulate_media(media="print")
        assert box.is_hidden() and page.locator(".on-paper").is_visible()
        assert page.locator(".on-paper b").all_inner_texts() == [reading.caption(u) for u in reading.by_strength()[:3]]
    assert outside == [] and errors == []


def test_the_browser_says_a_unit_below_the_null_results_r_follows_no_feature(small_corpus, tiny):
    reading = units.UnitReading(tiny, small_corpus, small_corpus.text)
    edge = units.NULL_R2 ** 0.5
    reading.strongest[:3] = [("a letter just read", 0.06), ("a space just read", -0.9), ("start of a line", 0.3)]
    assert reading.caption(0) == (f"unit 0 of {tiny.m} (0–{tiny.m - 1}): follows none of the features (its strongest "
                                  f"correlation, with “a letter just read”, is r = +0.06, below |r| = {edge:.2f})")
    assert reading.caption(1).endswith("strongest correlation with “a space just read”, r = -0.90")
    assert "strongest correlation with “start of a line”, r = +0.30" in reading.caption(2)
    assert f"below {edge:.2f} (r² below {units.NULL_R2}, a null result) follows none" in \
        units.static_unit_browser(reading, unit=0, shown=40)


def test_quotation_lengths_pair_the_marks_as_the_feature_does(capsys):
    text = 'He said "hi" and "a longer one, this" then "open'
    assert units.quotation_lengths(text).tolist() == [2, 18]
    inside = units.text_features(text)["inside quotation marks"]
    assert inside[8:12].tolist() == [1.0] * 4 and inside[12] == 0  # the marks and the 2 characters between
    facts = units.describe_quotations(text, window=10)
    assert facts == dict(median=10.0, within=0.5, count=2)
    assert capsys.readouterr().out.startswith("The text's 2 quotations run 10 characters between their marks in the "
                                              "median; 50% of them are 9 characters or shorter")
    assert units.describe_quotations("no marks")["count"] == 0


def test_what_the_units_follow_is_counted_in_each_network_and_said_across_them(small_corpus, capsys):
    networks = {seed: RNN.init(small_corpus.K, m=12, sigma=0.5, rng=seed) for seed in range(3)}
    text = small_corpus.text
    facts = units.units_across_networks(networks, small_corpus, text, threshold=0.5)
    printed = capsys.readouterr().out.splitlines()
    assert list(facts) == list(units.text_features(text)) and len(printed) == len(facts)
    for name, (line, counts) in facts.items():
        H = {seed: rnnlib.hidden_states(rnn, small_corpus.encode(text), np.zeros(12))[1:]
             for seed, rnn in networks.items()}
        r = {seed: np.abs(units.feature_correlations(H[seed], text)[name]) for seed in networks}
        assert counts == {seed: int((r[seed] >= 0.5).sum()) for seed in networks}
        strongest = {seed: float(r[seed].max()) for seed in networks}
        assert line.startswith(shared.across_networks(counts, f"follow “{name}” at |r| ≥ 0.5", strongest))
        assert f"- {line}" in printed
