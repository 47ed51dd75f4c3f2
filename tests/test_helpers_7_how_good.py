"""The runs, tables, figures and sentences of notebook 7 · How good is it?
(notebooks/helpers_7_how_good.py): the verdict rule, the runs in worker processes, the n-gram
baselines, capacity, the LSTM beside the RNN and its cells."""

import numpy as np
import pytest

import helpers_7_how_good as how
import lstm
import ngram
import rnnlib
import shared

TEXT = ('"Where is it?" asked Harry.\n"Here," said Ron, "under the old table."\nThey looked at it.\n') * 12
CORPUS = rnnlib.Corpus(TEXT, source="dialogue")


@pytest.fixture(scope="module")
def networks():
    """Every setting of a small notebook 7, trained here: RNN at m = 4 and 8, LSTM at m = 3, 20 updates."""
    return {(kind, m): {seed: how.train_one(kind, m, seed, 20, TEXT) for seed in how.SEEDS}
            for kind, m in (("LSTM", 3), ("RNN", 8), ("RNN", 4))}


def by_seed(*values):
    return dict(zip(how.SEEDS, values))


def test_the_notebook_decides_by_the_reports_rule():
    a, b = by_seed(1.0, 1.1, 1.2), by_seed(2.0, 2.05, 2.1)
    assert how.compare is shared.compare
    c = how.compare(a, b, ("a", "b"))
    assert (c.verdict, c.difference, c.threshold) == ("a difference", pytest.approx(-0.95), pytest.approx(0.2))
    assert c.sentence("{:.3f}").startswith("a lower than b: the difference of the means exceeds")
    assert "a: 1.000, 1.100, 1.200; b: 2.000, 2.050, 2.100" in c.sentence("{:.3f}")
    assert how.compare(a, by_seed(1.05, 1.15, 1.1), ("a", "b")).verdict == "no detectable difference"
    assert how.compare(a, by_seed(1.3, 1.3, 1.3), ("a", "b")).verdict == "at the edge"   # difference 0.2, range 0.2
    assert how.compare(a, by_seed(1.36, 1.36, 1.36), ("a", "b")).verdict == "a difference"  # 0.26: beyond the edge


def test_train_one_is_the_libraries_run_measured_on_both_parts():
    train_part, rest = CORPUS.split(how.FRACTION)
    rnn, states = rnnlib.RNN.init(CORPUS.K, 8, rng=1), []
    history = rnnlib.train(rnn, train_part, updates=30, rng=1, sample_every=None, progress=False,
                           on_update=lambda state: states.append(state.h))
    ours = how.train_one("RNN", 8, 1, 30, TEXT)
    np.testing.assert_array_equal(ours.smooth_loss, history.smooth_loss)
    np.testing.assert_array_equal(ours.network(CORPUS.K).theta, rnn.theta)
    last = states[-1]  # the hidden state the 30th update carried out
    assert ours.held_out_bpc == rnnlib.bits_per_char(rnn, rest.data, last) != rnnlib.bits_per_char(rnn, rest.data)
    assert ours.held_out_from_zeros == rnnlib.bits_per_char(rnn, rest.data)
    assert ours.training_bpc == rnnlib.bits_per_char(rnn, lstm.last_read(train_part.data, 30, 25, len(rest)), last)
    gated, run = how.train_one("LSTM", 3, 1, 30, TEXT), lstm.run(3, 1, 30, TEXT)
    np.testing.assert_array_equal(gated.smooth_loss, run.history.smooth_loss)
    assert (gated.held_out_bpc, gated.training_bpc, gated.held_out_from_zeros, gated.parameters) == (
        run.held_out_bpc, run.training_bpc, run.held_out_from_zeros, run.net.theta.size)
    assert isinstance(gated.network(CORPUS.K), lstm.LSTM)


def test_runs_in_worker_processes_give_what_train_one_gives_here(monkeypatch, capsys):
    monkeypatch.setattr(how, "CAPACITY", (4,))
    monkeypatch.setattr(how, "LSTM_M", 3)
    runs = how.Runs(CORPUS, 15, workers=1)
    assert "Training 6 networks in worker processes, 15 updates each" in capsys.readouterr().out
    done = runs.all()
    assert list(done) == [("LSTM", 3), ("RNN", 4)] and list(done["RNN", 4]) == list(how.SEEDS)
    here = how.train_one("LSTM", 3, 2, 15, TEXT)
    np.testing.assert_array_equal(done["LSTM", 3][2].smooth_loss, here.smooth_loss)
    assert done["LSTM", 3][2].held_out_bpc == here.held_out_bpc


def test_baselines_are_ngram_models_on_the_same_split(capsys):
    models = how.baselines(CORPUS, orders=range(1, 5))
    assert "orders 1 to 4" in capsys.readouterr().out
    train_part, rest = CORPUS.split(how.FRACTION)
    fitted = ngram.fit(train_part.data, CORPUS.K, 4)
    assert [b.kneser_ney for b in models] == [ngram.bits_per_char(m, rest.data) for m in fitted]
    assert [b.contexts for b in models] == [m.contexts for m in fitted]
    absolute = ngram.fit(train_part.data, CORPUS.K, 4, kneser_ney=False)
    assert models[2].absolute == ngram.bits_per_char(absolute[2], rest.data)


def test_nearest_order_places_a_value_among_the_orders():
    models = [how.Baseline(n, bpc, bpc, 1, (), 0.0) for n, bpc in ((1, 4.0), (2, 3.0), (3, 2.0))]
    assert how.nearest_order(models, 2.5) == "between the 2-gram (3.000) and the 3-gram (2.000)"
    assert how.nearest_order(models, 1.5) == "better than every order up to 3"
    assert how.nearest_order(models, 4.5) == "no better than the 1-gram"


def test_the_tables_and_sentences_show_every_seed(networks, capsys, tmp_path, monkeypatch):
    models = how.baselines(CORPUS, orders=range(1, 4))
    rnn, gated = networks["RNN", 8], networks["LSTM", 3]
    table = how.baseline_table(models, rnn)
    assert table.rows[-1][1] == how.shown(t.held_out_bpc for t in rnn.values())
    capacity = {4: networks["RNN", 4], 8: rnn}
    rows = how.capacity_table(capacity).rows
    assert [row[:2] for row in rows] == [[4, 4 * (4 + 2 * CORPUS.K + 1) + CORPUS.K],
                                         [8, 8 * (8 + 2 * CORPUS.K + 1) + CORPUS.K]]
    capsys.readouterr()
    lines = how.capacity_summary(capacity, ceiling=0.0)  # every run above it: each named
    assert sum("worse than a uniform guess (0.00 bits per character) when read from the state its training ended "
               "in" in line for line in lines) == 6
    from_zeros = {m: {seed: how.Trained(**{**vars(t), "held_out_from_zeros": 99.0}) for seed, t in runs.items()}
                  for m, runs in capacity.items()}
    lines = how.capacity_summary(from_zeros, ceiling=10.0)
    assert sum("when read from zeros: " in line and "99.000 from zeros" in line for line in lines) == 6
    assert not [line for line in how.capacity_summary(capacity, ceiling=100.0) if "uniform guess" in line]
    assert how.gates_summary(gated, rnn).names == ("the LSTM", "the RNN")
    summary = how.summary_table(models, networks)
    assert [row[0] for row in summary.rows][-3:] == ["LSTM, m = 3", "RNN, m = 8", "RNN, m = 4"]
    monkeypatched = {("RNN", rnnlib.M) if key == ("RNN", 8) else ("LSTM", how.LSTM_M) if key == ("LSTM", 3) else key:
                     value for key, value in networks.items()}
    monkeypatch.setattr(rnnlib, "RESULTS_DIR", tmp_path)
    capsys.readouterr()
    answers = how.answers(models, monkeypatched)
    assert len(answers) == 3 and all("seeds 0, 1, 2" in line for line in answers)
    assert "after 20 updates" in answers[0] and how.shown(how.per_seed(rnn).values()) in answers[0]
    assert shared.findings()["7_how_good"] == answers  # what notebook 8 and the abstract print
    assert capsys.readouterr().out == "".join(f"- {line}\n" for line in answers)


def test_the_figures_are_drawn(networks):
    import matplotlib
    matplotlib.use("Agg")
    models = how.baselines(CORPUS, orders=range(1, 4))
    capacity = {4: networks["RNN", 4], 8: networks["RNN", 8]}
    figures = (how.plot_baselines(models, networks), how.plot_capacity(capacity, models, ceiling=1.0),
               how.plot_smooth_losses(networks["LSTM", 3], networks["RNN", 8]))
    for fig in figures:
        assert fig.axes and isinstance(fig, shared.DescribedFigure) and fig.alt  # described for screen readers
    assert how.shown(how.per_seed(networks["LSTM", 3]).values()) in figures[0].alt
    assert "12 values beyond a uniform guess (1.00 bits)" in figures[1].alt
    ends = ", ".join(f"{t.smooth_loss[-1]:.1f}" for t in networks["LSTM", 3].values())
    assert f"the LSTM at m = 3 ({networks['LSTM', 3][0].parameters:,} parameters) ends at {ends}" in figures[2].alt
    beyond = [line for line in how.plot_capacity(capacity, models, ceiling=1.0).axes[0].lines
              if line.get_marker() == "^"]  # every run lies beyond a ceiling of 1 bit: each a triangle at the top
    assert sum(len(line.get_xdata()) for line in beyond) == 2 * 6
    assert {y for line in beyond for y in line.get_ydata()} == {1.1}


def test_samples_come_from_each_network_at_t_1(networks, capsys):
    texts = how.samples(CORPUS, {("RNN", 8): networks["RNN", 8], ("LSTM", 3): networks["LSTM", 3]}, n=40)
    assert list(texts) == [("RNN", 8), ("LSTM", 3)] and all(len(text) == 40 for text in texts.values())
    assert "LSTM, m = 3, seed 0, 40 characters at T = 1:\n" + texts["LSTM", 3] in capsys.readouterr().out
    net = networks["LSTM", 3][0].network(CORPUS.K)
    x = CORPUS.encode("\n")
    assert texts["LSTM", 3] == CORPUS.decode(lstm.synthesize(net, net.zero_state(), int(x[0]), 40, rng=0))


def test_cell_features_and_the_strongest_unit():
    text = 'ab "cd"\nefg\n'
    position = how.cell_features(text)["position in the line"]
    np.testing.assert_array_equal(position, [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3])
    quotes = how.cell_features(text)["inside quotation marks"]
    values = np.column_stack([np.sin(np.arange(len(text))), -quotes, position + 0.01 * np.cos(np.arange(len(text)))])
    found = how.strongest(values, text)
    assert found["inside quotation marks"] == (1, pytest.approx(-1.0))
    assert found["position in the line"][0] == 2 and found["position in the line"][1] > 0.99


def test_cell_readings_cover_every_network_and_the_summary_counts_them(networks, capsys):
    readings = how.cell_readings(CORPUS, networks["LSTM", 3], networks["RNN", 8], length=200)
    assert list(readings)[:4] == [("RNN", "hidden units h", 0), ("RNN", "hidden units h", 1),
                                  ("RNN", "hidden units h", 2), ("LSTM", "hidden units h", 0)]
    assert len(readings) == 9 and len(how.cell_table(readings).rows) == 9
    lines = how.cell_summary(readings)
    assert len(lines) == 2 * 3 and all("of the 3 networks" in line for line in lines)


def test_the_lstm_gradient_check_of_the_notebook():
    table = how.gradient_check(CORPUS, m=3, n=8)
    assert [row[:2] for row in table.rows] == [["b", 12], ["c", CORPUS.K], ["U", 12 * CORPUS.K], ["W", 36],
                                               ["V", 3 * CORPUS.K]]
    assert max(max(row[2], row[3]) for row in table.rows) < 1e-6
