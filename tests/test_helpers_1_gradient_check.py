"""The tables, figures and sentences of notebook 1 · Gradient check
(notebooks/helpers_1_gradient_check.py)."""

import html
import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import gradcheck.example
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
    scale = gradient_check.rounding_scale(check)
    assert scale == np.finfo(np.float64).eps * check.losses[0] / (2 * 1e-4)
    assert labels[0].startswith("centred differences, float64") and labels[-1].startswith(
        f"float64 rounding scale ε·L/2δ = {scale:.1e} (typical, not a bound)")
    assert labels[-2].startswith(f"2ε·L/2δ = {2 * scale:.1e}") and ax.get_lines()[-2].get_ydata()[0] == 2 * scale
    assert any(label.startswith("complex step (largest") for label in labels)
    zero = (check.analytic[0].theta == 0).sum()  # U's columns for characters the sequence lacks
    assert ax.get_title().startswith(f"{check.analytic[0].theta.size - zero:,} nonzero gradient entries of")
    assert sum(len(line.get_xdata()) for line in ax.get_lines()[:-2]) == 2 * (check.analytic[0].theta.size - zero)
    facts = gradient_check.error_floor_facts(check)
    zeros, shares, largest = capsys.readouterr().out.splitlines()
    assert zeros.startswith(f"{zero:,} of {check.analytic[0].theta.size:,} entries have a gradient of exactly 0")
    counts = [int(n.replace(",", "")) for n in re.findall(r"% of ([\d,]+)", shares)]
    assert shares.startswith("Entries whose centred estimate is further than the rounding scale")
    assert sum(counts) == check.analytic[0].theta.size - zero  # every nonzero entry, in one size class each
    g, size = check.analytic[0].theta, np.abs(check.references["complex step", 0].theta)
    distance = np.abs(g - check.references["centred differences, float64", 0].theta)
    assert facts == dict(scale=scale, largest=distance[(size > 0) & (size < 1e-3)].max())
    assert largest.startswith(f"Among the entries below 1e-03, where rounding is the larger part, the largest "
                              f"distance is {facts['largest']:.1e}, {facts['largest'] / scale:.1f} times ε·L/2δ, "
                              + ("above even" if facts["largest"] > 2 * scale else "below"))


def test_the_m5_reference_is_long_double_where_it_is_wider_and_the_complex_step_where_not(small_corpus, capsys,
                                                                                         monkeypatch):
    wider = np.finfo(np.longdouble).eps < np.finfo(np.float64).eps
    assert gradient_check.assignment_reference() == ("centred differences" if wider else "complex step")
    assert capsys.readouterr().out.startswith("Reference: " + ("centred differences, the losses in long double"
                                                               if wider else "the complex step."))
    monkeypatch.setattr(gradient_check, "LONG_DOUBLE", np.float64)  # as on Apple silicon and Windows
    assert not gradient_check.long_double_is_wider()
    assert gradient_check.assignment_reference() == "complex step"
    assert "long double is no wider than float64 (machine epsilon 2.2e-16" in capsys.readouterr().out
    # "centred differences" now evaluates its losses in float64: the float64 reference itself
    rnn = RNN.init(small_corpus.K, m=3, rng=0)
    (x, y), = gradient_check.sequences(small_corpus, 1, seq_length=8)
    h0 = np.zeros(3)
    assert np.array_equal(gradient_check.GRADIENT_REFERENCES["centred differences"](rnn, x, y, h0).theta,
                          rnnlib.numerical_gradients(rnn, x, y, h0, dtype=np.float64).theta)


def test_the_demonstration_and_the_summary(small_corpus, capsys):
    demonstrated = gradient_check.demonstration()
    shown = capsys.readouterr().out
    assert list(demonstrated)[0] == "right" and len(demonstrated) == 4
    for title, result in demonstrated.items():
        assert str(result) in shown and result.ok == (title == "right")
    assert shown.startswith("--- ComputeGradients, right\n")
    assert "--- ComputeGradients, which drops the h0 term from dW\n" in shown
    rnn = RNN.init(small_corpus.K, m=4, rng=0)
    check5 = gradient_check.GradientCheck(rnn, gradient_check.sequences(small_corpus, 2, seq_length=10),
                                          references=("complex step",), progress=False)
    check100 = gradient_check.GradientCheck(rnn, gradient_check.sequences(small_corpus, 1, seq_length=10),
                                            references=("complex step", "centred differences, float64"),
                                            progress=False)
    gradient_check.summary(check5, "complex step", check100, demonstrated)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and list(demonstrated) == ["right", *gradcheck.example.EXAMPLE_MISTAKES]
    error, _ = check5.worst("complex step")  # where it lies varies with rounding: the tables say, not the summary
    assert lines[0] == f"- m = 4, against the complex step: largest relative error {error:.2e}, below the " \
                       f"assignment's 1e-06."
    assert lines[2].startswith(f"- Plain float64 centred differences at m = 4: largest relative error "
                               f"{check100.worst('centred differences, float64')[0]:.2e}")
    assert lines[3] == ("- gradcheck: the right implementation passes; 3 of the 3 broken ones are caught with their "
                        "mistake named (" + "; ".join(gradcheck.example.EXAMPLE_MISTAKES) + ").")


# The first cell of notebook 1 run as on Apple silicon and Windows, where long double is float64; the
# full-size part, which does not use long double, at m = 20 rather than 100, in a fifth of the time.
LONG_DOUBLE_IS_FLOAT64 = """\
import numpy
import helpers_1_gradient_check
import rnnlib
helpers_1_gradient_check.LONG_DOUBLE = numpy.float64
rnnlib.M = 20"""


def test_notebook_1_passes_where_long_double_is_float64(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    text = tmp_path / "corpus.txt"
    text.write_text(rnnlib.python_docs_text()[:20_000], encoding="utf-8")
    monkeypatch.setenv(rnnlib.CORPUS_ENV, str(text))
    monkeypatch.setenv("RNN_RESULTS", str(tmp_path / "results"))
    notebooks = Path(gradient_check.__file__).parent
    nb = nbformat.read(notebooks / "1_gradient_check.ipynb", as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(LONG_DOUBLE_IS_FLOAT64))
    NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(notebooks)}}).execute()  # raises on error

    def printed(needle):
        (cell,) = [cell for cell in nb.cells if cell.cell_type == "code" and needle in cell.source]
        return "".join(out.get("text", "") for out in cell.outputs)

    assert printed("helpers.assignment_reference()").startswith(
        "Reference: the complex step. On this machine long double is no wider than float64")
    assert printed("check5.assert_below") == "All below 1e-06: b, c, W, U, V (complex step).\n"
    assert printed("helpers.summary(").startswith("- m = 5, against the complex step: largest relative error")
