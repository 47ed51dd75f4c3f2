"""The tables, figures and sentences of notebook 1 · Gradient check
(notebooks/helpers_1_gradient_check.py)."""

import html
import inspect
import re

import numpy as np
import pytest

import helpers_1_gradient_check as gradient_check
import rnnlib
from rnnlib import RNN


def test_the_source_shown_is_the_modules_own():
    shown = gradient_check.show_source(rnnlib.loss_and_gradients).data
    assert html.unescape(re.sub(r"<[^>]+>", "", shown)) == inspect.getsource(rnnlib.loss_and_gradients)
    assert "monospace" in shown and "<style" not in shown


def test_sequences_are_those_train_takes(small_corpus):
    (x0, y0), (x1, y1) = gradient_check.sequences(small_corpus, 2)
    assert np.array_equal(x1, small_corpus.data[25:50]) and np.array_equal(y1, small_corpus.data[26:51])
    assert np.array_equal(y0[:-1], x0[1:])


def test_gradient_check_table_and_its_assertion(small_corpus, capsys):
    rnn = RNN.init(small_corpus.K, m=4, rng=0)
    check = gradient_check.GradientCheck(rnn, gradient_check.sequences(small_corpus, 2, seq_length=10),
                                 references=("complex step", "centred differences, float64"))
    assert check.errors.shape == (5, 4) and [row[0] for row in check.rows] == ["b", "c", "W", "U", "V"]
    assert check.errors[:, :2].max() < 1e-10
    check.assert_below(1e-10, "complex step")
    assert capsys.readouterr().out == "All below 1e-10: b, c, W, U, V (complex step).\n"
    with pytest.raises(AssertionError, match=r"not below 1e-20: .*b \(complex step, sequence 1\)"):
        check.assert_below(1e-20, "complex step")
    worst, where = check.worst("centred differences, float64")
    assert worst == check.errors[:, 2:].max() and re.fullmatch(r"[bcWUV], sequence [12]", where)
    gradient_check.threshold_verdict(check, "centred differences, float64", 1e-20)
    assert capsys.readouterr().out.startswith(f"centred differences, float64: largest relative error {worst:.2e} "
                                              f"({where}), above 1e-20: a check against plain float64")
    gradient_check.threshold_verdict(check, "complex step", 1e-6)
    assert "below 1e-06." in capsys.readouterr().out
    anatomy = gradient_check.error_anatomy(check, "centred differences, float64")
    assert [row[0] for row in anatomy.rows] == ["b", "c", "W", "U", "V"]
    assert all(row[2] < row[1] for row in anatomy.rows)  # the analytic gradient is the closer one


def test_the_error_floor_figure_has_both_references_and_the_floor(small_corpus, capsys):
    rnn = RNN.init(small_corpus.K, m=4, rng=0)
    check = gradient_check.GradientCheck(rnn, gradient_check.sequences(small_corpus, 1, seq_length=10),
                                 references=("complex step", "centred differences, float64"))
    ax = gradient_check.plot_error_floor(check).axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[0].startswith("centred differences, float64") and labels[-1].startswith("float64 rounding floor")
    assert any(label.startswith("complex step (largest") for label in labels)
    zero = (check.analytic[0].theta == 0).sum()  # U's columns for characters the sequence lacks
    assert ax.get_title().startswith(f"{check.analytic[0].theta.size - zero:,} nonzero gradient entries of")
    assert sum(len(line.get_xdata()) for line in ax.get_lines()[:-1]) == 2 * (check.analytic[0].theta.size - zero)
    gradient_check.error_floor_facts(check)
    zeros, shares = capsys.readouterr().out.splitlines()
    assert zeros.startswith(f"{zero:,} of {check.analytic[0].theta.size:,} entries have a gradient of exactly 0")
    counts = [int(n.replace(",", "")) for n in re.findall(r"% of ([\d,]+)", shares)]
    assert shares.startswith("Entries whose centred estimate is further than the rounding floor")
    assert sum(counts) == check.analytic[0].theta.size - zero  # every nonzero entry, in one size class each
