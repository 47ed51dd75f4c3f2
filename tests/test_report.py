"""The helpers the notebooks call: saved models, tables, figures, the temperature widget."""

import html
import json
import math
import os
import re
import signal

import matplotlib
import numpy as np
import pytest

import report
import rnnlib
from rnnlib import RNN

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def trained(small_corpus):
    rnn = RNN.init(small_corpus.K, m=16, rng=0)
    history = rnnlib.train(rnn, small_corpus, epochs=30, sample_every=100, sample_length=40,
                           progress=False)
    return rnn, history


def test_load_or_train_best_trains_once_and_retrains_for_another_text(tmp_path, small_corpus, capsys):
    path = tmp_path / "model.npz"
    first = report.load_or_train_best(small_corpus, path, m=8, epochs=2, progress=False)
    assert "as there is no finished model yet" in capsys.readouterr().out and path.is_file()
    assert first.update == first.total == 2 * rnnlib.updates_per_epoch(len(small_corpus.data), 25)
    assert rnnlib.load_checkpoint(tmp_path / "training.npz").update == first.update  # the run, beside it
    again = report.load_or_train_best(small_corpus, path, m=8, epochs=2, progress=False)
    assert capsys.readouterr().out == "" and np.array_equal(again.best.theta, first.best.theta)
    other = rnnlib.Corpus(small_corpus.text.upper(), source="shouting")
    report.load_or_train_best(other, path, m=8, epochs=2, progress=False)
    assert "trained on another text (pangrams)" in capsys.readouterr().out
    assert rnnlib.load_checkpoint(path).source == "shouting"


def test_load_or_train_best_finishes_a_stopped_run_when_there_is_no_model(tmp_path, small_corpus, capsys,
                                                                          interrupt_on_call):
    path, run = tmp_path / "model.npz", tmp_path / "training.npz"
    whole = rnnlib.train(RNN.init(small_corpus.K, m=8), small_corpus, updates=50, progress=False)
    interrupt_on_call(21)  # in update 20
    with pytest.raises(KeyboardInterrupt):
        rnnlib.train(RNN.init(small_corpus.K, m=8), small_corpus, updates=50, checkpoint=run, finished=path,
                     progress=False)
    assert not path.exists()
    ckpt = report.load_or_train_best(small_corpus, path, m=8, progress=False)
    said = capsys.readouterr().out
    assert "Finishing the run in" in said and "stopped at update 20 of 50" in said
    assert ckpt.update == 50 and np.array_equal(ckpt.history.smooth_loss, whole.smooth_loss)
    assert np.array_equal(rnnlib.load_checkpoint(path).best.theta, whole.best.theta)


def test_table_shows_as_text_and_html():
    table = report.Table(["name", "value", "count"], [["a<b", 1.5e-7, 12_345], ["c", math.nan, 2]],
                         title="t")
    text = repr(table)
    assert text.splitlines()[0] == "t" and "1.50e-07" in text and "12,345" in text and "—" in text
    page = table._repr_html_()
    assert "<caption>t</caption>" in page and "a&lt;b" in page and page.count("<tr>") == 3


def test_gradient_check_table_and_its_assertion(small_corpus, capsys):
    rnn = RNN.init(small_corpus.K, m=4, rng=0)
    check = report.GradientCheck(rnn, report.sequences(small_corpus, 2, seq_length=10),
                                 references=("complex step", "centred differences, float64"))
    assert check.errors.shape == (5, 4) and [row[0] for row in check.rows] == ["b", "c", "W", "U", "V"]
    assert check.errors[:, :2].max() < 1e-10
    check.assert_below(1e-10, "complex step")
    assert capsys.readouterr().out == "All below 1e-10: b, c, W, U, V (complex step).\n"
    with pytest.raises(AssertionError, match=r"not below 1e-20: .*b \(complex step, sequence 1\)"):
        check.assert_below(1e-20, "complex step")
    worst, where = check.worst("centred differences, float64")
    assert worst == check.errors[:, 2:].max() and re.fullmatch(r"[bcWUV], sequence [12]", where)
    report.threshold_verdict(check, "centred differences, float64", 1e-20)
    assert capsys.readouterr().out.startswith(f"centred differences, float64: largest relative error {worst:.2e} "
                                              f"({where}), above 1e-20: a check against plain float64")
    report.threshold_verdict(check, "complex step", 1e-6)
    assert "below 1e-06." in capsys.readouterr().out
    anatomy = report.error_anatomy(check, "centred differences, float64")
    assert [row[0] for row in anatomy.rows] == ["b", "c", "W", "U", "V"]
    assert all(row[2] < row[1] for row in anatomy.rows)  # the analytic gradient is the closer one


def test_sequences_are_those_train_takes(small_corpus):
    (x0, y0), (x1, y1) = report.sequences(small_corpus, 2)
    assert np.array_equal(x1, small_corpus.data[25:50]) and np.array_equal(y1, small_corpus.data[26:51])
    assert np.array_equal(y0[:-1], x0[1:])


def test_loss_table_sets_our_run_beside_the_published_one(trained):
    _, history = trained
    table = report.loss_table(history, updates=range(0, 301, 100))
    assert [row[0] for row in table.rows] == [0, 100, 200]  # update 300 was never reached
    assert table.rows[0][1] == history.smooth_loss[0] and table.rows[0][2] == 109.55
    assert math.isnan(table.rows[1][2])
    assert table.rows[1][4] == pytest.approx(history.smooth_loss[100] / 25 / math.log(2))
    assert table.columns[5] == "perplexity" and table.rows[1][5] == pytest.approx(2 ** table.rows[1][4])


def test_powers_of_ten_are_written_with_superscripts():
    assert report.power_of_ten(1e-15) == "10⁻¹⁵" and report.power_of_ten(1e4) == "10⁴"


def test_plot_marks_epochs_the_published_points_and_the_seed_runs(trained):
    _, history = trained
    fig = report.plot_smooth_loss(history)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "update" and ax.get_ylabel().startswith("smooth loss")
    epochs = (history.updates - 1) // history.updates_per_epoch
    assert len(ax.get_lines()) == 1 + epochs + 1
    runs = {0: history.smooth_loss[:50], 1: history.smooth_loss[:50] + 1}
    ax = report.plot_smooth_loss(history, runs).axes[0]
    assert len(ax.get_lines()) == 2 + 1 + epochs + 1
    assert [line.get_linewidth() for line in ax.get_lines()[:3]] == [0.6, 0.6, 1]  # thin, behind
    assert any(child.get_ylabel() == "bits per character" for child in ax.child_axes)


def test_print_samples_names_update_and_loss(trained, capsys):
    _, history = trained
    report.print_samples(history)
    out = capsys.readouterr().out
    assert out.count("--- update") == len(history.samples)
    assert f"--- update 100, smooth loss {history.smooth_loss[100]:.2f}\n{history.samples[100]}" in out


def test_seed_runs_are_kept_and_recalled_and_tabled(small_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(rnnlib, "RESULTS_DIR", tmp_path)
    runs = report.seed_runs(small_corpus, seeds=[0, 1], updates=21, m=4)
    assert list(runs) == [0, 1] and runs[0].shape == (21,) and not np.array_equal(runs[0], runs[1])
    alone = rnnlib.train(RNN.init(small_corpus.K, m=4, rng=1), small_corpus, updates=21, rng=1, progress=False)
    assert np.array_equal(runs[1], alone.smooth_loss)  # trained in a worker, the same to the bit
    with monkeypatch.context() as m:
        m.setattr(report.runs.Runner, "submit", None)  # a second call recalls them without training
        assert all(np.array_equal(a, b) for a, b in zip(report.seed_runs(small_corpus, [0, 1], 21, 4).values(),
                                                         runs.values()))
    published = {0: 9.0, 10: 5.0, 20: 4.0, 30: 3.0}   # where the band exists: updates 10 and 20, not 0 or 30
    table = report.seed_table(runs, published)
    assert [row[0] for row in table.rows] == ["seed 0", "seed 1", "published"]
    assert table.columns == ["run", "update 10", "update 20", "after 21 updates"]
    assert table.rows[0][1] == runs[0][10] != table.rows[1][1] and table.rows[0][3] == runs[0][20]
    assert table.rows[2][1:3] == [5.0, 4.0] and math.isnan(table.rows[2][3])


def test_the_published_run_is_placed_within_the_band_of_seeds(trained, capsys):
    assert report.band_place(1.0, [2.0, 3.0]) == "below all 2 seeds"
    assert report.band_place(4.0, [2.0, 3.0]) == "above all 2 seeds"
    assert report.band_place(2.5, [2.0, 3.0, 1.0]) == "within the band: above 2 of the 3 seeds"
    _, history = trained
    runs = {0: history.smooth_loss[:150], 1: history.smooth_loss[:150] + 1}
    low = float(history.smooth_loss[100]) - 1
    report.training_summary(history, runs, published={0: 1.0, 100: low, 200: 1.0})
    printed = capsys.readouterr().out
    assert f"- Update 100: the published run's {low:.2f} is below all 2 seeds" in printed
    assert "Update 200" not in printed and "After 150 updates the 2 seeds range from" in printed


def test_the_main_runs_start_is_its_seeds_run_and_another_text_trains_again(small_corpus, tmp_path, monkeypatch,
                                                                           capsys):
    monkeypatch.setattr(rnnlib, "RESULTS_DIR", tmp_path)
    main = rnnlib.train(RNN.init(small_corpus.K, m=4, rng=0), small_corpus, updates=40, rng=0, progress=False)
    band = report.SeedRuns(small_corpus, seeds=[0, 1], updates=21, m=4, from_main=0)
    assert list(band.pending) == [1]  # seed 0 is not trained: the main run's start is its run
    runs = band.collect(main=main)
    assert np.array_equal(runs[0], main.smooth_loss[:21]) and len(list((tmp_path / "seed_runs").iterdir())) == 2
    other = rnnlib.Corpus(small_corpus.text.upper(), source="shouting")
    again = report.SeedRuns(other, seeds=[0, 1], updates=21, m=4, from_main=0)
    assert sorted(again.pending) == [1] and again.kept == {}  # another text: nothing recalled
    assert not np.array_equal(again.collect(main=main)[0], runs[0])  # main is not its run: trained
    assert "Seed 0's run is trained too: the main run given is not its run" in capsys.readouterr().out


def test_a_stop_while_collecting_keeps_the_finished_seed_runs_and_stops_the_rest(small_corpus, tmp_path,
                                                                                  monkeypatch):
    monkeypatch.setattr(rnnlib, "RESULTS_DIR", tmp_path)
    keep = report.SeedRuns._keep

    def stop_after_the_first(band, seed, loss):  # Ctrl-C as the first run arrives
        keep(band, seed, loss)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(report.SeedRuns, "_keep", stop_after_the_first)
    band = report.SeedRuns(small_corpus, seeds=[0, 1, 2], updates=3_000, m=4, runner=report.runs.Runner(workers=1))
    with pytest.raises(KeyboardInterrupt):
        band.collect()
    assert 0 in band.kept and band.pending[2].cancelled()  # the first kept; the last never started
    assert sorted(p.name for p in (tmp_path / "seed_runs").iterdir()) == sorted(
        f"{report.runs.cache_key(band.specs[seed], small_corpus.text)}.npy" for seed in band.kept)


def test_background_jobs_give_their_values_and_what_they_printed(small_corpus, capsys):
    background = report.Background(workers=1)
    background.submit("held", report.held_out_run, small_corpus, fraction=0.8, epochs=2, m=8)
    history = background.result("held")
    assert "training on pangrams, first 80%" in capsys.readouterr().out
    here = report.held_out_run(small_corpus, fraction=0.8, epochs=2, m=8)
    assert np.array_equal(history.smooth_loss, here.smooth_loss) and history.eval_bpc == here.eval_bpc


def test_temperature_explorer_resamples_when_a_control_moves(small_corpus, trained):
    rnn, _ = trained
    box = report.temperature_explorer(rnn, small_corpus, length=60, seed=3)
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
    box = report.temperature_explorer(rnn, small_corpus, length=30)
    box.controls["prime"].value = "Zebra €"
    message = box.text.outputs[0]["data"]["text/plain"]
    assert message.startswith("'Z', '€' are not in the vocabulary: the training text (pangrams) has 32 distinct")
    box.controls["prime"].value = ""
    assert "the prime is empty" in box.text.outputs[0]["data"]["text/plain"]


def test_a_sample_marks_its_prime_and_escapes_everything():
    shown = report.Sample("<b>", "</pre><script>alert(1)</script> & more", "T = 1 <i>")
    page = shown._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page and "&amp; more" in page
    assert '<span style="background: #ffe8a8" title="the prime">&lt;b&gt;</span>' in page
    assert "T = 1 &lt;i&gt;" in page and repr(shown).endswith("<b></pre><script>alert(1)</script> & more")


def test_temperature_effects_entropy_falls_and_known_words_rise_as_it_cools(small_corpus, trained):
    rnn, _ = trained
    effects = report.temperature_effects(rnn, small_corpus, temperatures=[0.2, 1.0, 3.0], seeds=range(2), n=300)
    assert effects["entropy"][0] < effects["entropy"][1] < effects["entropy"][2] <= np.log2(small_corpus.K)
    assert effects["known words"][0] > effects["known words"][2]
    assert 0 <= effects["known words"].min() <= effects["known words"].max() <= 1
    assert report.plot_temperature_effects(effects).axes[1].get_ylim() == (0, 100)
    assert [row[0] for row in report.effects_table(effects, temperatures=(1.0,)).rows] == ["1.00"]
    assert 0 < effects["distinct words"].min() <= effects["distinct words"].max() <= 1


def test_the_synthesis_summary_says_what_the_measured_repetition_shows(capsys):
    effects = {"temperature": np.array([0.5, 1.0, 1.5]), "entropy": np.array([1.0, 2.0, 3.0]),
               "known words": np.array([0.8, 0.5, 0.3]), "distinct words": np.array([0.4, 0.6, 0.9])}
    report.synthesis_summary(effects)
    printed = capsys.readouterr().out
    assert "- T = 0.50: 80.0 % of the generated words occur in the training text, 40.0 % of them are" in printed
    assert "falls from 60.0 % to 40.0 %: the real words come with more repetition." in printed
    effects["distinct words"] = np.array([0.7, 0.6, 0.9])
    report.synthesis_summary(effects)
    assert "does not fall (60.0 % to 70.0 %): no more repetition was measured." in capsys.readouterr().out


def test_the_source_shown_is_the_modules_own():
    import inspect

    shown = report.show_source(rnnlib.loss_and_gradients).data
    assert html.unescape(re.sub(r"<[^>]+>", "", shown)) == inspect.getsource(rnnlib.loss_and_gradients)
    assert "monospace" in shown and "<style" not in shown


def test_the_error_floor_figure_has_both_references_and_the_floor(small_corpus, capsys):
    rnn = RNN.init(small_corpus.K, m=4, rng=0)
    check = report.GradientCheck(rnn, report.sequences(small_corpus, 1, seq_length=10),
                                 references=("complex step", "centred differences, float64"))
    ax = report.plot_error_floor(check).axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[0].startswith("centred differences, float64") and labels[-1].startswith("float64 rounding floor")
    assert any(label.startswith("complex step (largest") for label in labels)
    zero = (check.analytic[0].theta == 0).sum()  # U's columns for characters the sequence lacks
    assert ax.get_title().startswith(f"{check.analytic[0].theta.size - zero:,} nonzero gradient entries of")
    assert sum(len(line.get_xdata()) for line in ax.get_lines()[:-1]) == 2 * (check.analytic[0].theta.size - zero)
    report.error_floor_facts(check)
    zeros, shares = capsys.readouterr().out.splitlines()
    assert zeros.startswith(f"{zero:,} of {check.analytic[0].theta.size:,} entries have a gradient of exactly 0")
    counts = [int(n.replace(",", "")) for n in re.findall(r"% of ([\d,]+)", shares)]
    assert shares.startswith("Entries whose centred estimate is further than the rounding floor")
    assert sum(counts) == check.analytic[0].theta.size - zero  # every nonzero entry, in one size class each


def test_text_features_and_the_units_that_follow_them(small_corpus, trained):
    features = report.text_features('ab "cd"\nef')
    assert features["a letter just read"].tolist() == [1, 1, 0, 0, 1, 1, 0, 0, 1, 1]
    assert features["position in the word"].tolist() == [1, 2, 0, 0, 1, 2, 0, 0, 1, 2]
    assert features["start of a line"].tolist() == [1, 0, 0, 0, 0, 0, 0, 0, 1, 0]
    assert features["inside quotation marks"].tolist() == [0, 0, 0, 1, 1, 1, 1, 0, 0, 0]
    assert features["a space just read"].tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    rnn, _ = trained
    before = RNN.init(small_corpus.K, m=rnn.m, rng=1)
    text = small_corpus.text[:200]
    H, table = report.unit_correlations(rnn, small_corpus, text, untrained=before)
    assert H.shape == (200, rnn.m) and len(table.rows) == 5 and len(table.columns) == 5
    letter = report.text_features(text)["a letter just read"]
    _, unit, r, r_input, r_before = table.rows[0]
    assert r == pytest.approx(np.corrcoef(H[:, unit], letter)[0, 1])
    assert all(abs(r) >= abs(np.corrcoef(H[:, j], letter)[0, 1]) - 1e-12 for j in range(rnn.m))
    drive = rnn.U[unit, small_corpus.encode(text)]
    assert r_input == pytest.approx(np.corrcoef(H[:, unit], drive)[0, 1])
    H0 = rnnlib.hidden_states(before, small_corpus.encode(text), np.zeros(rnn.m))[1:]
    assert r_before == pytest.approx(max(abs(np.corrcoef(H0[:, j], letter)[0, 1]) for j in range(rnn.m)))


def test_unit_captions_name_null_results_weak_correlations_and_echoes(capsys):
    assert report.unit_caption("quotes", 95, 0.09, 0.1) == (
        "unit 95: quotes (r = +0.09): a null result (r² = 0.008): no unit tracks this feature")
    assert report.unit_caption("letter", 1, 0.6, 0.9).endswith(
        "largely an echo of the character just read (r = +0.90 with U x_t)")
    assert report.unit_caption("line start", 3, -0.27, 0.3).endswith("a weak correlation (r² = 0.07)")
    assert report.unit_caption("word position", 2, 0.6, 0.3).endswith(
        "tracked beyond the input (r² = 0.36 with the feature, 0.09 with U x_t)")
    assert report.unit_caption("space", 4, 0.6, 0.65).endswith(
        "partly an echo of the character just read (r² = 0.42 with U x_t, 0.36 with the feature)")
    report.units_summary(report.Table(["feature", "unit", "r", "r input"],
                                      [["letter", 1, 0.6, 0.9], ["quotes", 95, 0.09, 0.1]]))
    assert capsys.readouterr().out.splitlines() == [
        "- letter: unit 1, r = +0.60: largely an echo of the character just read (r = +0.90 with U x_t).",
        "- quotes: unit 95, r = +0.09: a null result (r² = 0.008): no unit tracks this feature."]


def test_coloured_text_is_escaped():
    page = report.Coloured("<script>x</script>&", [0.5] * 19, "unit <1>")._repr_html_()
    assert "<script" not in page and "</script" not in page and "x" in page and "unit &lt;1&gt;" in page
    assert page.count(">&lt;</span>") == 2 and page.count(">&gt;</span>") == 2 and ">&amp;</span>" in page
    assert page.count("rgba(220, 50, 40, 0.30)") == 19  # one span a character, its colour 0.6 |a|


def test_the_generalisation_run_table_and_verdict(small_corpus, capsys):
    history = report.held_out_run(small_corpus, fraction=0.8, epochs=3, m=8, eval_every=5)
    assert "training on pangrams, first 80%" in capsys.readouterr().out
    last = max(history.eval_bpc)
    assert last == history.updates and list(history.eval_bpc)[:-1] == list(range(0, last, 5))  # and at the end
    assert list(history.train_bpc) == list(history.eval_bpc)
    # The same run as one uninterrupted train call, and its measurements those of its parameters then.
    train_part, held_out = small_corpus.split(0.8)
    seen = train_part.data[-len(held_out.data):]
    rnn = RNN.init(small_corpus.K, m=8, rng=rnnlib.DEFAULT_SEED)
    one = rnnlib.train(rnn, train_part, updates=10, sample_every=None, progress=False)
    assert np.array_equal(one.smooth_loss, history.smooth_loss[:10])
    assert history.eval_bpc[10] == rnnlib.bits_per_char(rnn, held_out.data)
    assert history.train_bpc[10] == rnnlib.bits_per_char(rnn, seen)
    table = report.generalisation_table(history, updates=(5, 10))
    assert [row[0] for row in table.rows] == [5, 10, last]
    held, seen_bpc = history.eval_bpc[10], history.train_bpc[10]
    assert table.rows[1][1:4] == [seen_bpc, held, held - seen_bpc]
    assert table.rows[1][5] == pytest.approx(2 ** history.eval_bpc[10])
    gap = report.generalisation_verdict(history)
    assert gap == history.eval_bpc[last] - history.train_bpc[last]
    printed = capsys.readouterr().out
    assert f"After {last:,} updates: {history.eval_bpc[last]:.3f} bits per character held out" in printed
    assert len(report.plot_generalisation(history).axes[0].get_lines()) >= 3


def test_the_generalisation_verdict_says_what_the_gap_supports(capsys):
    from types import SimpleNamespace

    def verdict(held, seen):
        history = SimpleNamespace(eval_bpc={0: 6.3, 10: 3.0, 20: held}, train_bpc={0: 6.3, 10: 2.99, 20: seen},
                                  best=RNN.init(3, m=2), train_characters=1_000)
        gap = report.generalisation_verdict(history)
        return gap, capsys.readouterr().out.splitlines()

    gap, lines = verdict(2.505, 2.5)
    assert gap == pytest.approx(0.005)
    assert lines[0] == ("After 20 updates: 2.505 bits per character held out, 2.500 on as much training text "
                        "(gap +0.005; after 10 updates +0.010).")
    assert "(a gap of 0.2% of the bits)" in lines[1] and "With 21 parameters for 1,000 characters" in lines[1]
    assert "limited by its size" in lines[1]
    assert verdict(2.6, 2.5)[1][1] == ("The held-out text is predicted worse than the training text by 4.0% of the "
                                       "bits: a small gap, wider than after 10 updates.")
    assert "clearly worse" in verdict(3.0, 2.5)[1][1] and "clearly better" in verdict(2.0, 2.5)[1][1]


def test_nudged_runs_start_alike_and_the_spread_is_reported(small_corpus, capsys):
    losses = report.rounding_spread(small_corpus, runs=3, updates=300, m=16)
    assert losses.shape == (4, 300)
    assert np.allclose(losses[:, 0], losses[0, 0], rtol=1e-12)  # the same start, to rounding
    assert not np.array_equal(losses[1], losses[0])              # ... and yet another run
    spread = report.spread_summary(losses, {0: losses[0], 1: losses[0] + 2})
    printed = capsys.readouterr().out
    assert spread["seeds"] == pytest.approx(1) and spread["rounding"] == pytest.approx(losses[:, -1].std())
    assert "After 300 updates, 4 runs that differ by a relative 10⁻¹⁵" in printed and "10^" not in printed
    assert f"spread {spread['rounding']:.2f} times as much as the seeds" in printed
    assert len(report.plot_spread(losses).axes[0].get_lines()) == 3 + 1 + 1


def test_dtype_runs_time_both(small_corpus):
    runs = report.dtype_runs(small_corpus, updates=20, m=8)
    assert list(runs) == ["float64", "float32"] and all(seconds > 0 for _, seconds in runs.values())
    assert len(report.plot_dtypes(runs).axes) == 2


def test_the_static_slider_holds_the_fixed_temperature_texts_from_0_10_to_2_00(small_corpus, trained, capsys):
    rnn, _ = trained
    page = report.static_temperature_slider(rnn, small_corpus, length=40)
    texts = json.loads(re.search(r'<script type="application/json">(.*?)</script>', page, re.S).group(1))
    assert list(texts) == [f"{0.1 + 0.05 * i:.2f}" for i in range(39)]
    report.show_temperatures(rnn, small_corpus, temperatures=(0.5, 1.5), n=40)  # the defaults: same seed, prime
    printed = capsys.readouterr().out
    assert f"--- temperature 0.5\n[prime: 'T']\nT{texts['0.50']}\n" in printed
    assert f"--- temperature 1.5\n[prime: 'T']\nT{texts['1.50']}\n" in printed
    assert 'value="1.00"' in page and "<output>1.00</output>" in page
    assert f">{html.escape(texts['1.00'])}</span></pre>" in page  # shown before any script runs
    assert '<span style="background: #ffe8a8" title="the prime">T</span>' in page  # the prime, marked


def test_generated_markup_in_the_static_slider_stays_data(markup):
    page = report.static_temperature_slider(*markup, length=100)
    texts = json.loads(re.search(r'<script type="application/json">(.*?)</script>', page, re.S).group(1))
    assert all("</script><b>x & y</b><!--" in texts[T] for T in ("0.10", "1.00"))
    assert page.count("<script") == page.count("</script>") == 2  # its own two, whatever the texts hold
    assert "<!--" not in page and "<b>" not in page


def test_the_explorer_carries_the_static_slider_for_exports(small_corpus, trained):
    rnn, _ = trained
    box = report.temperature_explorer(rnn, small_corpus, length=60, seed=3)
    bundle = box._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == box.model_id
    assert bundle["text/html"] == report.static_temperature_slider(rnn, small_corpus, length=60, seed=3)
