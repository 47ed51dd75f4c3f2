"""The runs and measures of notebook 4 · Gradients through time (notebooks/helpers_4_gradients.py)."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

import helpers_4_gradients as gradients
import rnnlib
import shared
from rnnlib import RNN


def test_clipped_shares_are_the_counts_over_entries_and_updates_of_each_block(rng):
    clipped = rng.integers(0, 4, (2_500, 5))
    sizes = np.array([3, 4, 12, 9, 12])
    shares = gradients.clipped_shares(clipped, sizes, every=1_000)
    expected = [[clipped[start:start + 1_000, j].sum() / (len(clipped[start:start + 1_000]) * sizes[j])
                 for j in range(5)] for start in (0, 1_000, 2_000)]
    np.testing.assert_allclose(shares, expected, rtol=1e-15)


def test_a_window_run_is_the_plain_training_with_w_read_along_the_way(small_corpus):
    text = small_corpus.text
    run = gradients.window_run(text, "pangrams", seq_length=5, characters=200, held_out=50, m=8)
    corpus = rnnlib.Corpus(text, "pangrams")
    rnn = RNN.init(corpus.K, m=8, rng=gradients.SEED)
    sigma0 = np.linalg.norm(rnn.W, 2)
    train_part = rnnlib.Corpus(text[:-50], "first", chars=corpus.chars)
    history = rnnlib.train(rnn, train_part, updates=40, seq_length=5, rng=gradients.SEED, sample_every=None,
                           progress=False)
    assert run["updates"] == 40 and run["characters"] == 200
    assert np.array_equal(run["rnn"].theta, rnn.theta)  # reading W changes nothing
    assert np.array_equal(run["smooth_loss"], history.smooth_loss)
    assert run["bpc"] == rnnlib.bits_per_char(rnn, corpus.data[-50:])
    assert run["sigma_updates"][:2].tolist() == [0, 1] and run["sigma_updates"][-1] == 40
    assert run["sigma"][0] == sigma0 and run["sigma"][-1] == np.linalg.norm(rnn.W, 2)
    assert run["seconds"] > 0 and run["seconds_per_char"] == run["seconds"] / 200


def test_the_unclipped_run_trains_without_clipping(small_corpus):
    run = gradients.unclipped_run(small_corpus.text, "pangrams", updates=30, m=8)
    rnn = RNN.init(small_corpus.K, m=8, rng=gradients.SEED)
    history = rnnlib.train(rnn, small_corpus, updates=30, rng=gradients.SEED, sample_every=None, progress=False,
                           clip=None)
    assert run["diverged"] is None
    assert np.array_equal(run["smooth_loss"], history.smooth_loss) and np.array_equal(run["clipped"], history.clipped)


def test_the_unclipped_run_reports_where_its_loss_stopped_being_finite(small_corpus, monkeypatch):
    real, calls = rnnlib.loss_and_gradients, []

    def nan_at_update_12(*args, **kwargs):
        calls.append(1)
        loss, grads, h = real(*args, **kwargs)
        return (math.nan if len(calls) == 13 else loss), grads, h

    monkeypatch.setattr(rnnlib, "loss_and_gradients", nan_at_update_12)
    run = gradients.unclipped_run(small_corpus.text, "pangrams", updates=30, m=8)
    assert run["diverged"] == 12 and len(run["smooth_loss"]) == 12 and run["clipped"].shape == (12, 5)


def test_reach_reads_each_stretch_after_its_warm_up(small_corpus):
    rnn = RNN.init(small_corpus.K, m=8, sigma=0.5, rng=1)
    stretches = [small_corpus.data[s:s + 30] for s in (0, 17, 40)]
    rows = gradients.reach_job(rnn, stretches, warmup=10)
    for row, x in zip(rows, stretches):
        h0 = rnnlib.hidden_states(rnn, x[:10], np.zeros(8))[-1]
        assert np.array_equal(row, rnnlib.jacobian_norms(rnn, x[10:], h0))


def test_run_all_returns_each_calls_result_in_order(rng):
    matrices = [rng.normal(size=(4, 4)) for _ in range(3)]
    results = gradients.run_all([(gradients.largest_singular_value, W) for W in matrices])
    assert results == [pytest.approx(np.linalg.norm(W, 2), rel=1e-15) for W in matrices]


def test_the_clipping_sentences_say_what_happened(small_corpus, capsys):
    rnn = RNN.init(small_corpus.K, m=8, rng=gradients.SEED)
    history = rnnlib.train(rnn, small_corpus, updates=30, rng=gradients.SEED, sample_every=None, progress=False)
    main = SimpleNamespace(rnn=rnn, history=history)
    unclipped = gradients.unclipped_run(small_corpus.text, "pangrams", updates=30, m=8)
    facts = gradients.clipping_summary(main, unclipped, every=10)
    out = capsys.readouterr().out
    assert "start from the same network" in out and "did not diverge in 30 updates" in out
    np.testing.assert_array_equal(facts["early"], history.clipped[:10].sum(axis=0) / 10 / gradients.array_sizes(rnn))
    diverged = dict(unclipped, smooth_loss=unclipped["smooth_loss"][:12] + 1, diverged=12)
    gradients.clipping_summary(main, diverged, every=10)
    out = capsys.readouterr().out
    assert "started from another network" in out and "not finite at update 12" in out


def test_the_runs_come_for_each_seed_at_equal_characters_and_at_equal_updates(small_corpus, monkeypatch):
    monkeypatch.setattr(gradients, "HELD_OUT", 50)
    windows, unclipped = gradients.train_runs(small_corpus, seq_lengths=(5, 10), updates=8, unclipped_updates=12,
                                              seeds=range(3))
    assert sorted(unclipped) == [0, 1, 2] and all(len(run["smooth_loss"]) == 12 for run in unclipped.values())
    characters = gradients.by_window(windows, "characters")
    updates = gradients.by_window(windows, "updates")
    assert list(characters) == list(updates) == [5, 10] and all(list(v) == [0, 1, 2] for v in characters.values())
    assert {run["characters"] for by in characters.values() for run in by.values()} == {8 * 25}
    assert [updates[n][1]["updates"] for n in (5, 10)] == [8, 8] and updates[10][2]["characters"] == 80
    alone = gradients.window_run(small_corpus.text, "pangrams", 10, 8 * 10, 50, 2)
    assert alone["bpc"] == updates[10][2]["bpc"] and alone["seed"] == 2


def test_clipping_and_truncation_follow_the_verdict_rule_and_the_summary_records_them(tmp_path, monkeypatch,
                                                                                       capsys):
    monkeypatch.setattr(rnnlib, "RESULTS_DIR", tmp_path)
    clipped = {seed: np.full(20, 50.0 + seed) for seed in range(3)}
    unclipped = {seed: dict(smooth_loss=np.full(20, 50.5 + seed), diverged=None, updates=20) for seed in range(3)}
    verdict = gradients.clipping_verdict(clipped, unclipped)
    assert verdict["comparison"].verdict == "no detectable difference"
    assert "Smooth loss after 20 updates: clipped against not clipped: no detectable" in verdict["line"]
    lost = {**unclipped, 1: dict(smooth_loss=np.full(7, 60.0), diverged=7, updates=20)}
    assert gradients.clipping_verdict(clipped, lost)["line"] == (
        "Without clipping the loss stopped being finite in seed 1 at update 7 of 3 seeds.")

    def window(n, seed, equal, bpc):
        return dict(seq_length=n, seed=seed, equal=equal, bpc=bpc, seconds_per_char=1e-5, characters=1_000,
                    updates=1_000 // n)
    windows = [window(n, seed, equal, bpc + 0.01 * seed) for equal in ("characters", "updates")
               for n, bpc in ((10, 3.0), (25, 3.2), (100, 3.21)) for seed in range(3)]
    facts = gradients.truncation_summary(windows)
    assert facts["characters"][10].verdict == "a difference" and facts["characters"][100].verdict == (
        "no detectable difference")
    assert "3.000, 3.010, 3.020 bits per character held out (seeds 0, 1, 2)" in capsys.readouterr().out
    reach = {"untrained": dict(first=0.2, at=1e-24), "best model": dict(first=2.9, at=1.8e-5, sigma=8.4)}
    clipping = dict(verdict, every=10, early=np.array([0.1, 0.2]), late=np.array([0.3]))
    lines = gradients.summary(reach, clipping, facts)
    assert len(lines) == 4 and shared.findings()["4_gradients"] == lines
    assert "seq_length 10 lower than seq_length 25" in lines[2] and lines[1].endswith(verdict["line"])
