"""The runs and measures of notebook 4 · Gradients through time (notebooks/helpers_4_gradients.py)."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

import helpers_4_gradients as gradients
import report_runs
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
    run = report_runs.window_run(text, "pangrams", seq_length=5, characters=200, held_out=50, m=8)
    corpus = rnnlib.Corpus(text, "pangrams")
    rnn = RNN.init(corpus.K, m=8, rng=gradients.SEED)
    sigma0 = np.linalg.norm(rnn.W, 2)
    train_part = rnnlib.Corpus(text[:-50], "first", chars=corpus.chars)
    reached = []
    history = rnnlib.train(rnn, train_part, updates=40, seq_length=5, rng=gradients.SEED, sample_every=None,
                           progress=False, on_update=lambda state: reached.append(state.h.copy()))
    assert run["updates"] == 40 and run["characters"] == 200
    assert np.array_equal(run["rnn"].theta, rnn.theta)  # reading W changes nothing
    assert np.array_equal(run["smooth_loss"], history.smooth_loss)
    # one stretch, read on from the hidden state training reached
    assert run["bpc"] == pytest.approx(rnnlib.bits_per_char(rnn, corpus.data[-50:], reached[-1]), rel=1e-12)
    assert run["sigma_updates"][:2].tolist() == [0, 1] and run["sigma_updates"][-1] == 40
    assert run["sigma"][0] == sigma0 and run["sigma"][-1] == np.linalg.norm(rnn.W, 2)
    assert run["seconds"] > 0 and run["seconds_per_char"] == run["seconds"] / 200


def test_the_unclipped_run_trains_without_clipping(small_corpus):
    run = report_runs.unclipped_run(small_corpus.text, "pangrams", updates=30, m=8)
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
    run = report_runs.unclipped_run(small_corpus.text, "pangrams", updates=30, m=8)
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
    results = report_runs.run_all([(report_runs.largest_singular_value, W) for W in matrices])
    assert results == [pytest.approx(np.linalg.norm(W, 2), rel=1e-15) for W in matrices]


def test_the_clipping_sentences_say_what_happened(small_corpus, capsys):
    rnn = RNN.init(small_corpus.K, m=8, rng=gradients.SEED)
    history = rnnlib.train(rnn, small_corpus, updates=30, rng=gradients.SEED, sample_every=None, progress=False)
    main = SimpleNamespace(rnn=rnn, history=history)
    unclipped = report_runs.unclipped_run(small_corpus.text, "pangrams", updates=30, m=8)
    facts = gradients.clipping_summary(main, unclipped, every=10)
    out = capsys.readouterr().out
    assert "start from the same network" in out and "did not diverge in 30 updates" in out
    np.testing.assert_array_equal(facts["early"], history.clipped[:10].sum(axis=0) / 10 / gradients.array_sizes(rnn))
    diverged = dict(unclipped, smooth_loss=unclipped["smooth_loss"][:12] + 1, diverged=12)
    gradients.clipping_summary(main, diverged, every=10)
    out = capsys.readouterr().out
    assert "started from another network" in out and "not finite at update 12" in out


def test_the_sigma_panel_draws_the_best_and_final_networks_at_their_own_updates():
    rng = np.random.default_rng(0)
    norms = {"untrained": rng.random((4, 30)), "best model": rng.random((4, 30))}
    window = {"seq_length": 25, "updates": 100, "sigma_updates": np.array([0, 1, 50, 100]),
              "sigma": np.array([0.2, 4.1, 5.0, 5.5])}
    best, final = RNN.init(5, m=4, sigma=1.0, rng=1), RNN.init(5, m=4, sigma=1.0, rng=2)
    main = SimpleNamespace(best=best, best_update=900, rnn=final, update=1_000)
    fig = gradients.plot_reach(norms, window, main)
    right = fig.axes[1]
    points = {float(line.get_xdata()[0]): float(line.get_ydata()[0]) for line in right.get_lines()
              if len(line.get_xdata()) == 1}
    sigma_best, sigma_final = (report_runs.largest_singular_value(rnn.W) for rnn in (best, final))
    assert points == {900.0: sigma_best, 1000.0: sigma_final}  # points where they were measured, no lines across
    assert right.get_xlim()[0] < 0 and right.get_xlim()[1] > 1_000  # the untrained network and the end both show
    assert f"{sigma_best:.2f} at its best (update 900) and {sigma_final:.2f} at its end (update 1,000)" in fig.alt
    assert "0.20 untrained, 4.10 after one update, 5.50 after 100 updates" in fig.alt


def test_the_clipping_and_truncation_figures_describe_what_they_show(rng):
    history = SimpleNamespace(clipped=rng.integers(0, 3, (2_000, 5)), updates=2_000, updates_per_epoch=1_000,
                              smooth_loss=np.linspace(100, 60, 2_000))
    main = SimpleNamespace(rnn=RNN.init(5, m=4), history=history)
    unclipped = {0: {"smooth_loss": np.linspace(100, 70, 1_500), "updates": 1_500, "diverged": None},
                 1: {"smooth_loss": np.linspace(100, 80, 1_500), "updates": 1_500, "diverged": 900}}
    clipped = {0: np.linspace(100, 65, 1_500), 1: np.linspace(100, 66, 1_500)}
    fig = gradients.plot_clipping(main, unclipped, clipped)
    assert ("2 seeds' runs with and without clipping; at their end seed 0: clipped 65.00, not clipped 70.00; "
            "seed 1: clipped 66.00, not clipped stopped at update 900.") in fig.alt
    windows = [{"seq_length": n, "characters": 1_000, "updates": 1_000 // n, "bpc": 3 + n / 100 + seed / 10,
                "seconds_per_char": n * 1e-6, "smooth_loss": np.linspace(80, 60, 1_000 // n), "equal": equal,
                "seed": seed} for n in (10, 25) for seed in (0, 1) for equal in ("characters", "updates")]
    fig = gradients.plot_truncation(windows)
    assert "(seq_length) 10, 25" in fig.alt and "10.0 µs, 25.0 µs" in fig.alt
    assert "at equal characters (10 3.150, 25 3.300)" in fig.alt and "at equal updates (10 3.150, 25 3.300)" in fig.alt


def test_the_truncated_gradient_is_the_sum_of_the_chunks_gradients_and_the_full_one_differs_through_time(
        small_corpus):
    rnn = RNN.init(small_corpus.K, m=8, sigma=0.5, rng=1)
    x, y = small_corpus.data[:60], small_corpus.data[1:61]
    h0 = np.zeros(8)
    cut = gradients.truncated_gradients(rnn, x, y, h0, seq_length=25)
    h, parts = h0, []
    for s in (slice(0, 25), slice(25, 50), slice(50, 60)):  # the chunks, the last one shorter
        _, grads, h = rnnlib.loss_and_gradients(rnn, x[s], y[s], h)
        parts.append(grads.theta)
    assert np.allclose(cut.theta, np.sum(parts, axis=0), rtol=1e-14, atol=0)
    full = rnnlib.loss_and_gradients(rnn, x, y, h0)[1]
    assert np.allclose(gradients.truncated_gradients(rnn, x, y, h0, seq_length=60).theta, full.theta)
    assert np.allclose(cut.c, full.c) and np.allclose(cut.V, full.V)  # no gradient through time
    assert not np.allclose(cut.W, full.W)
    measured = gradients.truncation_cut(rnn, small_corpus, positions=2, length=60, warmup=10, seq_length=25)
    start = len(small_corpus.data) - 71  # the second stretch is the text's end
    h0 = rnnlib.hidden_states(rnn, small_corpus.data[start:start + 10], np.zeros(8))[-1]
    x, y = small_corpus.data[start + 10:-1], small_corpus.data[start + 11:]
    full, cut = rnnlib.loss_and_gradients(rnn, x, y, h0)[1], gradients.truncated_gradients(rnn, x, y, h0)
    assert measured["cosine"][1, 3] == pytest.approx(cut.W.ravel() @ full.W.ravel() / np.linalg.norm(cut.W)
                                                     / np.linalg.norm(full.W), rel=1e-12)
    assert measured["ratio"][1, 0] == pytest.approx(np.linalg.norm(cut.b) / np.linalg.norm(full.b), rel=1e-12)
    assert np.allclose(measured["cosine"][:, [1, 4]], 1) and np.allclose(measured["ratio"][:, [1, 4]], 1)
    assert (measured["cosine"][:, 3] < 1 - 1e-9).all()


def test_the_truncation_sentences_give_each_positions_depth_and_the_medians(small_corpus, capsys):
    rnn = RNN.init(small_corpus.K, m=8, sigma=0.5, rng=1)
    cut = gradients.truncation_cut(rnn, small_corpus, positions=3, length=60, warmup=10, seq_length=25)
    assert cut["cosine"].shape == cut["ratio"].shape == (3, 5)
    facts = gradients.describe_truncation_cut(cut)
    depth, keeps = capsys.readouterr().out.splitlines()
    assert "the loss at position j back-propagates j - 1 steps, 0 to 24, 12 on average" in depth
    assert facts["cosine"]["W"] == np.median(cut["cosine"][:, 3])
    assert f"a median cosine of b {facts['cosine']['b']:.3f}, U {facts['cosine']['U']:.3f}, W " in keeps


def test_the_vanishing_split_adds_up_to_the_bound_over_the_norm(small_corpus, capsys):
    models = {"small W": RNN.init(small_corpus.K, m=8, sigma=0.05, rng=1),
              "large W": RNN.init(small_corpus.K, m=8, sigma=2.0, rng=1)}
    facts = gradients.vanishing_split(models, small_corpus, positions=4, warmup=10, at=12)
    stretch = gradients.stretches_at(small_corpus, 4, 22)[2]
    rnn = models["large W"]
    H = rnnlib.hidden_states(rnn, stretch, np.zeros(8))
    steps = [np.linalg.norm(np.diag(1 - h ** 2) @ rnn.W, 2) for h in H[-12:]]
    actual = rnnlib.jacobian_norms(rnn, stretch[10:], H[10])[-1]
    assert facts["large W"]["rows"][2] == pytest.approx([np.log10(steps).sum(), np.log10(actual), np.median(steps)])
    assert gradients.describe_split(facts) is facts
    small, large = capsys.readouterr().out.splitlines()
    for f in facts.values():
        assert f["saturation"] + f["directions"] == pytest.approx(f["bound"] - f["actual"])
        assert f["saturation"] >= 0 and f["directions"] >= -1e-9  # ||AB|| <= ||A|| ||B||, 1 - h^2 <= 1
    assert facts["small W"]["sigma"] < 1 and "orders of magnitude below 1 by the size of W alone" in small
    assert "by which the norm lies below 1, " in small and "by which the norm lies below the bound, " in large


def test_the_first_adagrad_step_moves_entries_with_a_small_gradient_by_less_than_eta(small_corpus):
    share = gradients.first_step_share(small_corpus)
    rnn = RNN.init(small_corpus.K, rng=gradients.SEED)
    x, y = rnnlib.sequence_at(small_corpus.data, 0, rnnlib.SEQ_LENGTH)
    g = rnnlib.clip_gradients(rnnlib.loss_and_gradients(rnn, x, y, np.zeros(rnn.m))[1]).W
    # eta |g| / sqrt(g^2 + eps) < 0.9 eta  exactly where  g^2 < 0.81 eps / 0.19
    assert share == pytest.approx((g ** 2 < 0.81 * 1e-8 / 0.19).mean(), abs=2 / g.size)
    assert 0 < share < 1


def test_the_sigma_sentence_gives_the_share_the_first_step_moves_by_less_than_nine_tenths_of_eta(small_corpus,
                                                                                                   capsys):
    best = RNN.init(small_corpus.K, m=6, sigma=1.0, rng=2)
    window = dict(sigma=np.array([0.2, 4.0, 9.0, 8.0]), sigma_updates=np.array([0, 1, 250, 1000]))
    gradients.describe_sigma(window, SimpleNamespace(best=best), small_corpus)
    share = gradients.first_step_share(small_corpus)
    out = capsys.readouterr().out
    assert out.startswith("sigma_max(W) is 0.20 untrained and 4.00 after one update: AdaGrad's first step is "
                          "eta g / sqrt(g^2 + eps)")
    assert f"it moves {share:.0%} of W's entries by less than 0.9 eta. It peaks at 9.00 (after 250 updates)" in out


def test_the_runs_come_for_each_seed_at_equal_characters_and_at_equal_updates(small_corpus, monkeypatch):
    monkeypatch.setattr(report_runs, "HELD_OUT", 50)
    windows, unclipped = report_runs.train_runs(small_corpus, seq_lengths=(5, 10), updates=8, unclipped_updates=12,
                                                seeds=range(3))
    assert sorted(unclipped) == [0, 1, 2] and all(len(run["smooth_loss"]) == 12 for run in unclipped.values())
    characters = gradients.by_window(windows, "characters")
    updates = gradients.by_window(windows, "updates")
    assert list(characters) == list(updates) == [5, 10] and all(list(v) == [0, 1, 2] for v in characters.values())
    assert {run["characters"] for by in characters.values() for run in by.values()} == {8 * 25}
    assert [updates[n][1]["updates"] for n in (5, 10)] == [8, 8] and updates[10][2]["characters"] == 80
    alone = report_runs.window_run(small_corpus.text, "pangrams", 10, 8 * 10, 50, 2)
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
                    updates=1_000 // n, stuck=0.25 if (n, seed) == (100, 2) else 0.0)
    windows = [window(n, seed, equal, bpc + 0.01 * seed) for equal in ("characters", "updates")
               for n, bpc in ((10, 3.0), (25, 3.2), (100, 3.21)) for seed in range(3)]
    facts = gradients.truncation_summary(windows)
    assert facts["characters"][10].verdict == "a difference" and facts["characters"][100].verdict == (
        "no detectable difference")
    printed = capsys.readouterr().out
    assert "3.000, 3.010, 3.020 bits per character held out (seeds 0, 1, 2), 10.0 µs of CPU per character.\n" in printed
    assert "(seeds 0, 1, 2), 10.0 µs of CPU per character; stretches read worse than a uniform guess, left out: " \
           "seed 2 25%.\n" in printed
    reach = {"untrained": dict(first=0.2, at=1e-24), "best model": dict(first=2.9, at=1.8e-5, sigma=8.4)}
    clipping = dict(verdict, every=10, early=np.array([0.1, 0.2]), late=np.array([0.3]))
    lines = gradients.summary(reach, clipping, facts)
    assert len(lines) == 3 and shared.findings()["4_gradients"] == lines
    assert lines[1].endswith(verdict["line"])
    assert lines[2] == ("Truncation, held-out bits per character of each window against seq_length 25's, at equal "
                        "characters and at equal updates, 4 comparisons: a difference beyond the seeds' spread in 2, "
                        "at the rule's edge in 0, no detectable difference in 2 (each, with every seed's value, "
                        "above).")
