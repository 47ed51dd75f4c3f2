"""The helpers the notebooks call: saved models, tables, figures, the temperature widget."""

import math

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
    path = tmp_path / "training.npz"
    first = report.load_or_train_best(small_corpus, path, m=8, epochs=2, progress=False)
    assert "as there is no checkpoint yet" in capsys.readouterr().out and path.is_file()
    assert first.update == first.total == 2 * rnnlib.updates_per_epoch(len(small_corpus.data), 25)
    again = report.load_or_train_best(small_corpus, path, m=8, epochs=2, progress=False)
    assert capsys.readouterr().out == "" and np.array_equal(again.best.theta, first.best.theta)
    other = rnnlib.Corpus(small_corpus.text.upper(), source="shouting")
    report.load_or_train_best(other, path, m=8, epochs=2, progress=False)
    assert "trained on another text (pangrams)" in capsys.readouterr().out
    assert rnnlib.load_checkpoint(path).source == "shouting"


def test_load_or_train_best_uses_an_unfinished_run_and_says_so(tmp_path, small_corpus, capsys):
    path = tmp_path / "training.npz"
    rnnlib.train(RNN.init(small_corpus.K, m=8), small_corpus, updates=20, checkpoint=path, progress=False)
    rewritten = rnnlib.load_checkpoint(path)
    rewritten.total = 50
    rnnlib.save_checkpoint(path, rewritten)
    ckpt = report.load_or_train_best(small_corpus, path)
    assert ckpt.update == 20 and "stopped at update 20 of 50" in capsys.readouterr().out


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


def test_plot_marks_epochs_and_the_published_points(trained):
    _, history = trained
    fig = report.plot_smooth_loss(history)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "update" and ax.get_ylabel() == "smooth loss"
    assert len(ax.get_lines()) == 1 + (history.updates - 1) // history.updates_per_epoch + 1


def test_print_samples_names_update_and_loss(trained, capsys):
    _, history = trained
    report.print_samples(history)
    out = capsys.readouterr().out
    assert out.count("--- update") == len(history.samples)
    assert f"--- update 100, smooth loss {history.smooth_loss[100]:.2f}\n{history.samples[100]}" in out


def test_seed_table_has_a_row_per_seed_and_the_published_run(small_corpus):
    table = report.seed_table(small_corpus, seeds=[0, 1], updates=21, every=10, m=4)
    assert [row[0] for row in table.rows] == ["seed 0", "seed 1", "published"]
    assert table.columns == ["run", "update 10", "update 20"]
    assert table.rows[0][1] != table.rows[1][1]


def test_temperature_explorer_resamples_when_a_control_moves(small_corpus, trained):
    rnn, _ = trained
    box = report.temperature_explorer(rnn, small_corpus, length=60, seed=3)
    text = lambda: box.text.outputs[0]["text"]  # noqa: E731
    first = text()
    assert len(first) == 60
    assert first == rnnlib.generate(rnn, small_corpus, 60, temperature=1.0, rng=3)
    box.controls["temperature"].value = 1.9
    assert text() == rnnlib.generate(rnn, small_corpus, 60, temperature=1.9, rng=3) != first
    box.controls["length"].value = 100
    assert len(text()) == 100
    box.controls["seed"].value = 4
    assert text() == rnnlib.generate(rnn, small_corpus, 100, temperature=1.9, rng=4)
    slider = box.controls["temperature"]
    assert (slider.min, slider.max, slider.description) == (0.1, 2.0, "temperature")
    assert {c.style.description_width for c in box.controls.values()} == {"10em"}


def test_an_interrupt_during_the_seed_table_stops_it_cleanly(small_corpus, monkeypatch):
    real, calls = rnnlib.loss_and_gradients, []

    def interrupt_in_the_second_run(*args, **kwargs):
        calls.append(1)
        if len(calls) == 30:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(rnnlib, "loss_and_gradients", interrupt_in_the_second_run)
    with pytest.raises(KeyboardInterrupt, match="Interrupted after update 8 of 21"):
        report.seed_table(small_corpus, seeds=[0, 1], updates=21, every=10, m=4)
