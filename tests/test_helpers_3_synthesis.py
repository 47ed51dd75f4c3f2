"""The texts, table, figure and temperature slider of notebook 3 · Synthesis
(notebooks/helpers_3_synthesis.py), live and static."""

import html
import json
import math
import re

import numpy as np
import pytest

import helpers_3_synthesis as synthesis
import rnnlib


def test_a_sample_marks_its_prime_and_escapes_everything():
    shown = synthesis.Sample("<b>", "</pre><script>alert(1)</script> & more", "T = 1 <i>")
    page = shown._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page and "&amp; more" in page
    assert '<span style="background: #ffe8a8" title="the prime">&lt;b&gt;</span>' in page
    assert "T = 1 &lt;i&gt;" in page and repr(shown).endswith("<b></pre><script>alert(1)</script> & more")


def test_temperature_effects_entropy_falls_and_known_words_rise_as_it_cools(small_corpus, trained):
    rnn, _ = trained
    effects = synthesis.temperature_effects(rnn, small_corpus, temperatures=[0.2, 1.0, 3.0], seeds=range(2), n=300)
    assert effects["entropy"][0] < effects["entropy"][1] < effects["entropy"][2] <= np.log2(small_corpus.K)
    assert effects["known words"][0] > effects["known words"][2]
    assert 0 <= effects["known words"].min() <= effects["known words"].max() <= 1
    assert synthesis.plot_temperature_effects(effects).axes[1].get_ylim() == (0, 100)
    assert [row[0] for row in synthesis.effects_table(effects, temperatures=(1.0,)).rows] == ["1.00"]
    assert 0 < effects["distinct words"].min() <= effects["distinct words"].max() <= 1


def test_the_synthesis_summary_says_what_the_measured_repetition_shows(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(rnnlib, "RESULTS_DIR", tmp_path)  # the findings record, in the test's folder
    effects = {"temperature": np.array([0.5, 1.0, 1.5]), "entropy": np.array([1.0, 2.0, 3.0]),
               "known words": np.array([0.8, 0.5, 0.3]), "distinct words": np.array([0.4, 0.6, 0.9])}
    synthesis.synthesis_summary(effects)
    printed = capsys.readouterr().out
    assert "- T = 0.50: 80.0 % of the generated words occur in the training text, 40.0 % of them are" in printed
    assert "falls from 60.0 % to 40.0 %: the real words come with more repetition." in printed
    effects["distinct words"] = np.array([0.7, 0.6, 0.9])
    synthesis.synthesis_summary(effects)
    assert "does not fall (60.0 % to 70.0 %): no more repetition was measured." in capsys.readouterr().out


def test_temperature_explorer_resamples_when_a_control_moves(small_corpus, trained):
    rnn, _ = trained
    box = synthesis.temperature_explorer(rnn, small_corpus, length=60, seed=3)
    shown = lambda: box.text.outputs[0]["data"]  # noqa: E731
    text = lambda: shown()["text/plain"].split("\n", 1)[1]  # noqa: E731  the prime, then the continuation
    first = text()
    assert first == "T" + rnnlib.generate(rnn, small_corpus, 60, temperature=1.0, rng=3)
    box.controls["temperature"].value = 1.9
    assert text() == "T" + rnnlib.generate(rnn, small_corpus, 60, temperature=1.9, rng=3) != first
    box.controls["length"].value = 100
    assert len(text()) == 101
    box.controls["seed"].value = 4
    assert text() == "T" + rnnlib.generate(rnn, small_corpus, 100, temperature=1.9, rng=4)
    box.controls["prime"].value = "The quick "
    assert text() == "The quick " + rnnlib.generate(rnn, small_corpus, 100, temperature=1.9, prime="The quick ",
                                                    rng=4)
    assert '<span style="background: #ffe8a8" title="the prime">The quick </span>' in shown()["text/html"]
    slider = box.controls["temperature"]
    assert (slider.min, slider.max, slider.description) == (0.1, 2.0, "temperature")
    assert {c.style.description_width for c in box.controls.values()} == {"10em"}


def test_a_prime_outside_the_vocabulary_gives_a_message_not_a_traceback(small_corpus, trained):
    rnn, _ = trained
    box = synthesis.temperature_explorer(rnn, small_corpus, length=30)
    box.controls["prime"].value = "Zebra €"
    message = box.text.outputs[0]["data"]["text/plain"]
    assert message.startswith("'Z', '€' are not in the vocabulary: the training text (pangrams) has 32 distinct")
    box.controls["prime"].value = ""
    assert "the prime is empty" in box.text.outputs[0]["data"]["text/plain"]


def test_the_static_slider_holds_the_fixed_temperature_texts_from_0_10_to_2_00(small_corpus, trained, capsys):
    rnn, _ = trained
    page = synthesis.static_temperature_slider(rnn, small_corpus, length=40)
    texts = json.loads(re.search(r'<script type="application/json">(.*?)</script>', page, re.S).group(1))
    assert list(texts) == [f"{0.1 + 0.05 * i:.2f}" for i in range(39)]
    synthesis.show_temperatures(rnn, small_corpus, temperatures=(0.5, 1.5), n=40)  # the defaults: same seed, prime
    printed = capsys.readouterr().out
    assert f"--- temperature 0.5\n[prime: 'T']\nT{texts['0.50']}\n" in printed
    assert f"--- temperature 1.5\n[prime: 'T']\nT{texts['1.50']}\n" in printed
    assert 'value="1.00"' in page and "<output>1.00</output>" in page
    assert f">{html.escape(texts['1.00'])}</span></pre>" in page  # shown before any script runs
    assert '<span style="background: #ffe8a8" title="the prime">T</span>' in page  # the prime, marked


def test_generated_markup_in_the_static_slider_stays_data(markup):
    page = synthesis.static_temperature_slider(*markup, length=100)
    texts = json.loads(re.search(r'<script type="application/json">(.*?)</script>', page, re.S).group(1))
    assert all("</script><b>x & y</b><!--" in texts[T] for T in ("0.10", "1.00"))
    assert page.count("<script") == page.count("</script>") == 2  # its own two, whatever the texts hold
    assert "<!--" not in page and "<b>" not in page


def test_the_explorer_carries_the_static_slider_for_exports(small_corpus, trained):
    rnn, _ = trained
    box = synthesis.temperature_explorer(rnn, small_corpus, length=60, seed=3)
    bundle = box._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == box.widget.model_id
    assert bundle["text/html"] == synthesis.static_temperature_slider(rnn, small_corpus, length=60, seed=3)


# what the model expects next, reading --------------------------------------------------------------------

def test_the_top_five_are_the_likeliest_next_characters_in_order(small_corpus, trained):
    tiny = trained[0]
    text = small_corpus.text[:60]
    P, top, top_p = synthesis.top_next(tiny, small_corpus, text)
    assert np.array_equal(P, rnnlib.probabilities(tiny, rnnlib.hidden_states(tiny, small_corpus.encode(text),
                                                                             np.zeros(tiny.m))))
    assert top.shape == top_p.shape == (60, 5)
    h = np.zeros(tiny.m)
    for t, ch in enumerate(text):  # plain: one step at a time, then the five largest by sorting all K
        h = np.tanh(tiny.W @ h + tiny.U[:, small_corpus.char_to_ind[ch]] + tiny.b)
        o = tiny.V @ h + tiny.c
        p = np.exp(o - o.max()) / np.exp(o - o.max()).sum()
        order = sorted(range(small_corpus.K), key=lambda k: -p[k])[:5]
        assert top[t].tolist() == order
        np.testing.assert_allclose(top_p[t], p[order], rtol=1e-12)
    assert np.all(np.diff(top_p, axis=1) <= 0) and np.all(top_p.sum(axis=1) <= 1 + 1e-12)
    assert top_p[:, 0].max() > 0.5  # trained: somewhere it is sure


def test_positions_are_told_apart_by_the_characters_read_and_next():
    masks = synthesis.word_positions("ab c!d")
    assert {name: np.flatnonzero(mask).tolist() for name, mask in masks.items()} == {
        "inside a word": [0], "at a word start": [2, 4], "after a word": [1, 3]}


def test_the_table_and_the_sentences_come_from_the_same_values(small_corpus, trained, capsys, tmp_path):
    tiny = trained[0]
    text = small_corpus.text
    reading = synthesis.Expectations(tiny, small_corpus, text)
    P = synthesis.top_next(tiny, small_corpus, text)[0]
    came = small_corpus.encode(text)[1:]
    np.testing.assert_allclose(reading.surprise, -np.log2(P[np.arange(len(came)), came]))
    assert np.all(reading.entropy <= math.log2(small_corpus.K) + 1e-12)
    table = reading.table()
    assert sum(row[1] for row in table.rows) == len(text) - 1
    effects = {"temperature": np.array([0.5, 1.0]), "entropy": np.array([0.3, 1.7]), "seeds": 2, "n": 50}
    values = synthesis.compare_with_synthesis(reading, effects)
    out = capsys.readouterr().out
    inside = next(row for row in table.rows if row[0] == "inside a word")
    assert values["inside p"] == inside[2] and values["inside bits"] == inside[4]
    assert values["generated bits"] == 1.7 and "at T = 1 (above, 2 seeds of 50 characters) it is 1.70" in out
    assert f"the entropy is {reading.entropy.mean():.2f} bits per character" in out
    measured = {"temperature": np.array([0.5, 1.0, 1.5]), "entropy": np.array([0.3, 1.7, 2.5]),
                "known words": np.array([0.9, 0.8, 0.5]), "distinct words": np.array([0.4, 0.6, 0.9])}
    with pytest.MonkeyPatch.context() as patch:  # the findings record in a folder of the test's
        patch.setattr(rnnlib, "RESULTS_DIR", tmp_path)
        synthesis.synthesis_summary(measured, values)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and f"{values['text bits']:.2f} bits per character reading the text, 1.70" in lines[-1]
    with pytest.raises(ValueError, match="no T = 1"):
        synthesis.compare_with_synthesis(reading, {**effects, "temperature": np.array([0.5, 1.5])})


def test_the_view_escapes_the_text_and_frames_what_came(markup):
    rnn, corpus = markup
    reading = synthesis.Expectations(rnn, corpus, corpus.text[:90])
    page = reading.view(0, 60)._repr_html_()
    assert "<script" not in page and "<b>" not in page and "<!--" not in page
    cells = re.findall(r'<span style="display: block[^>]*>(.*?)</span>', page)
    shown = [[corpus.text[t]] + [reading.chars[i] for i in reading.top[t]] for t in range(60)]
    assert cells == [html.escape(synthesis._shown(ch)) for column in shown for ch in column]
    assert "&lt;" in cells and "&amp;" in cells and page.count("display: inline-block") == 60
    framed = sum(corpus.text[t + 1] in [reading.chars[i] for i in reading.top[t]] for t in range(60))
    assert page.count("border: 1px solid #c0392b") == framed > 50  # it learnt the text: what came is in its five
    first = repr(reading.view(0, 2)).splitlines()[0]
    assert first.startswith("< → ") and len(first.split("  ")) == 5


def test_entropy_in_bits_of_each_row():
    P = np.array([[0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0]])
    assert synthesis.entropy_bits(P).tolist() == [2.0, 0.0, 1.0]
