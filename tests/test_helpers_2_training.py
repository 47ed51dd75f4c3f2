"""The tables, figures and runs of notebook 2 · Training (notebooks/helpers_2_training.py): the
published run beside ours, the seed runs kept and recalled, the loss curve and the samples."""

import math
import os
import signal

import numpy as np
import pytest

import helpers_2_training as training
import report_runs
import rnnlib
import runs
import shared
from rnnlib import RNN


def test_loss_table_sets_our_run_beside_the_published_one(trained):
    _, history = trained
    table = training.loss_table(history, updates=range(0, 301, 100))
    assert [row[0] for row in table.rows] == [0, 100, 200]  # update 300 was never reached
    assert table.rows[0][1] == history.smooth_loss[0] and table.rows[0][2] == 109.55
    assert math.isnan(table.rows[1][2])
    assert table.rows[1][4] == pytest.approx(history.smooth_loss[100] / 25 / math.log(2))
    assert table.columns[5] == "perplexity" and table.rows[1][5] == pytest.approx(2 ** table.rows[1][4])


def test_plot_marks_epochs_the_published_points_and_the_seed_runs(trained):
    _, history = trained
    fig = training.plot_smooth_loss(history)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "update" and ax.get_ylabel().startswith("smooth loss")
    epochs = (history.updates - 1) // history.updates_per_epoch
    assert len(ax.get_lines()) == 1 + epochs + 1
    seed_losses = {0: history.smooth_loss[:50], 1: history.smooth_loss[:50] + 1}
    ax = training.plot_smooth_loss(history, seed_losses).axes[0]
    assert len(ax.get_lines()) == 2 + 1 + epochs + 1
    assert [line.get_linewidth() for line in ax.get_lines()[:3]] == [0.6, 0.6, 1]  # thin, behind
    assert any(child.get_ylabel() == "bits per character" for child in ax.child_axes)


def test_print_samples_names_update_and_loss(trained, capsys):
    _, history = trained
    training.print_samples(history)
    out = capsys.readouterr().out
    assert out.count("--- update") == len(history.samples)
    assert f"--- update 100, smooth loss {history.smooth_loss[100]:.2f}\n{history.samples[100]}" in out


def test_seed_runs_are_kept_and_recalled_and_tabled(small_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(rnnlib, "RESULTS_DIR", tmp_path)
    seed_losses = report_runs.seed_runs(small_corpus, seeds=[0, 1], updates=21, m=4)
    assert list(seed_losses) == [0, 1] and seed_losses[0].shape == (21,)
    assert not np.array_equal(seed_losses[0], seed_losses[1])
    alone = rnnlib.train(RNN.init(small_corpus.K, m=4, rng=1), small_corpus, updates=21, rng=1, progress=False)
    assert np.array_equal(seed_losses[1], alone.smooth_loss)  # trained in a worker, the same to the bit
    with monkeypatch.context() as m:
        m.setattr(runs.Runner, "submit", None)  # a second call recalls them without training
        assert all(np.array_equal(a, b) for a, b in zip(report_runs.seed_runs(small_corpus, [0, 1], 21, 4).values(),
                                                         seed_losses.values()))
    published = {0: 9.0, 10: 5.0, 20: 4.0, 30: 3.0}   # where the band exists: updates 10 and 20, not 0 or 30
    table = training.seed_table(seed_losses, published)
    assert [row[0] for row in table.rows] == ["seed 0", "seed 1", "published"]
    assert table.columns == ["run", "update 10", "update 20", "after 21 updates"]
    assert table.rows[0][1] == seed_losses[0][10] != table.rows[1][1] and table.rows[0][3] == seed_losses[0][20]
    assert table.rows[2][1:3] == [5.0, 4.0] and math.isnan(table.rows[2][3])


def test_the_published_run_is_placed_within_the_band_of_seeds(trained, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(rnnlib, "RESULTS_DIR", tmp_path)
    _, history = trained
    seed_losses = {seed: history.smooth_loss[:150] + seed for seed in range(3)}
    low = float(history.smooth_loss[100]) - 1
    lines = training.training_summary(history, seed_losses, published={0: 1.0, 100: low, 200: 1.0})
    printed = capsys.readouterr().out
    assert f"- The published run at update 100 ({low:.2f}) is below the band of the 3 seeds, beyond its edge (seed 0 " \
        in printed
    assert "update 200" not in printed and "After 150 updates the 3 seeds range from" in printed
    assert shared.findings()["2_training"] == lines and len(lines) == 3


def test_the_main_runs_start_is_its_seeds_run_and_another_text_trains_again(small_corpus, tmp_path, monkeypatch,
                                                                           capsys):
    monkeypatch.setattr(rnnlib, "RESULTS_DIR", tmp_path)
    main = rnnlib.train(RNN.init(small_corpus.K, m=4, rng=0), small_corpus, updates=40, rng=0, progress=False)
    band = report_runs.SeedRuns(small_corpus, seeds=[0, 1], updates=21, m=4, from_main=0)
    assert list(band.pending) == [1]  # seed 0 is not trained: the main run's start is its run
    seed_losses = band.collect(main=main)
    assert np.array_equal(seed_losses[0], main.smooth_loss[:21]) and len(list((tmp_path / "seed_runs").iterdir())) == 2
    other = rnnlib.Corpus(small_corpus.text.upper(), source="shouting")
    again = report_runs.SeedRuns(other, seeds=[0, 1], updates=21, m=4, from_main=0)
    assert sorted(again.pending) == [1] and again.kept == {}  # another text: nothing recalled
    assert not np.array_equal(again.collect(main=main)[0], seed_losses[0])  # main is not its run: trained
    assert "Seed 0's run is trained too: the main run given is not its run" in capsys.readouterr().out


def test_a_stop_while_collecting_keeps_the_finished_seed_runs_and_stops_the_rest(small_corpus, tmp_path,
                                                                                  monkeypatch):
    monkeypatch.setattr(rnnlib, "RESULTS_DIR", tmp_path)
    keep = report_runs.SeedRuns._keep

    def stop_after_the_first(band, seed, loss):  # Ctrl-C as the first run arrives
        keep(band, seed, loss)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(report_runs.SeedRuns, "_keep", stop_after_the_first)
    band = report_runs.SeedRuns(small_corpus, seeds=[0, 1, 2], updates=3_000, m=4, runner=runs.Runner(workers=1))
    with pytest.raises(KeyboardInterrupt):
        band.collect()
    assert 0 in band.kept and band.pending[2].cancelled()  # the first kept; the last never started
    assert sorted(p.name for p in (tmp_path / "seed_runs").iterdir()) == sorted(
        f"{runs.cache_key(band.specs[seed], small_corpus.text)}.npy" for seed in band.kept)


def test_the_book_is_known_by_its_fingerprint_and_only_it_is_compared_with_the_published_run(small_corpus,
                                                                                             monkeypatch):
    assert training.published_run(small_corpus) == {}
    if rnnlib.BOOK_PATH.is_file():  # the course's copy, where it is: its fingerprint is the one written down
        assert training.published_run(rnnlib.load_corpus(rnnlib.BOOK_PATH)) is training.PUBLISHED_SMOOTH_LOSS
    monkeypatch.setattr(training, "BOOK_SHA256", rnnlib.text_fingerprint(small_corpus.text))
    assert training.published_run(small_corpus) is training.PUBLISHED_SMOOTH_LOSS


def test_on_another_text_nothing_is_compared_with_the_published_run_and_each_output_says_so(trained, capsys):
    _, history = trained
    table = training.loss_table(history, updates=range(0, 301, 100), published={})
    assert table.columns == ["update", "smooth loss", "bits per character", "perplexity"]
    assert "does not apply" in table.title and "does not apply" in table._repr_html_()
    assert table.rows[1][:2] == [100, history.smooth_loss[100]]
    seed_losses = {0: history.smooth_loss[:150], 1: history.smooth_loss[:150] + 1}
    assert [row[0] for row in training.seed_table(seed_losses, {}).rows] == ["seed 0", "seed 1"]
    labels = [line.get_label() for line in training.plot_smooth_loss(history, seed_losses, {}).axes[0].get_lines()]
    assert not any("published" in label for label in labels)
    training.training_summary(history, seed_losses, published={})
    printed = capsys.readouterr().out
    assert f"- {training.NOT_THE_BOOK}\n" in printed and "published run's" not in printed
    assert printed.rstrip().endswith("beyond that no band was measured.")


def test_seed_runs_keep_their_networks_and_the_main_runs_is_watched(small_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(rnnlib, "RESULTS_DIR", tmp_path)
    band = report_runs.SeedRuns(small_corpus, seeds=[0, 1, 2], updates=21, m=4, from_main=0)
    main_rnn = RNN.init(small_corpus.K, m=4, rng=0)
    main = rnnlib.train(main_rnn, small_corpus, updates=40, rng=0, progress=False, on_update=band.watch)
    band.collect(main=main)
    networks = band.networks()
    for seed in (0, 1, 2):
        alone = RNN.init(small_corpus.K, m=4, rng=seed)
        rnnlib.train(alone, small_corpus, updates=21, rng=seed, progress=False)
        assert np.array_equal(networks[seed].theta, alone.theta)  # seed 0's taken from the main run at update 21
    with monkeypatch.context() as m:
        m.setattr(runs.Runner, "submit", None)  # recalled, not trained again
        again = report_runs.SeedRuns(small_corpus, seeds=[0, 1, 2], updates=21, m=4).networks()
        assert all(np.array_equal(again[s].theta, networks[s].theta) for s in networks)
