"""gradcheck and `python3 run.py check`: other people's gradient functions held against rnnlib's.

The students' code here is the tests' own, each mistake one line of it changed:
MIN_CHAR_RNN, a lossFun written from the description of Andrej Karpathy's min-char-rnn.py (BSD
licence; https://gist.github.com/karpathy/d4dee566867f8291f086): the same calling form, globals
and returns, and, as published, its clip of every gradient to ±5;  DD2424, a vectorised
implementation in the assignment's names, taking the parameters as an object and returning
(grads, loss, h).
"""

import importlib.util
import os
import re
import signal
import subprocess
import sys
import types
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import gradcheck
import rnnlib
from gradcheck.mistakes import MISTAKES, backward

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "scripts" / "check.py"

MIN_CHAR_RNN = '''\
import numpy as np


def lossFun(inputs, targets, hprev):
    """inputs, targets: lists of character indices; hprev: (hidden_size, 1).  Reads the parameters
    Wxh, Whh, Why, bh, by and vocab_size from this module."""
    xs, hs, ps = {}, {-1: np.copy(hprev)}, {}
    loss = 0.0
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
        scores = Why @ hs[t] + by
        ps[t] = np.exp(scores) / np.sum(np.exp(scores))
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += dy @ hs[t].T
        dby += dy
        dh = Why.T @ dy + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += dhraw @ xs[t].T
        dWhh += dhraw @ hs[t - 1].T
        dhnext = Whh.T @ dhraw
    for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
        np.clip(dparam, -5, 5, out=dparam)
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]
'''
NO_CLIP = ("    for dparam in [dWxh, dWhh, dWhy, dbh, dby]:\n        np.clip(dparam, -5, 5, out=dparam)\n", "")
NO_DHNEXT = ("dh = Why.T @ dy + dhnext", "dh = Why.T @ dy")

DD2424 = '''\
import numpy as np


def gradients(X, Y, h0, RNN):
    """X, Y one-hot (K, n); h0 (m, 1); RNN.b, RNN.c, RNN.U, RNN.W, RNN.V."""
    K, n = X.shape
    A, H = np.zeros((h0.shape[0], n)), np.hstack([h0, np.zeros((h0.shape[0], n))])   # H[:, t] = h_t
    for t in range(n):
        A[:, [t]] = RNN.W @ H[:, [t]] + RNN.U @ X[:, [t]] + RNN.b
        H[:, [t + 1]] = np.tanh(A[:, [t]])
    O = RNN.V @ H[:, 1:] + RNN.c
    P = np.exp(O - O.max(axis=0)) / np.exp(O - O.max(axis=0)).sum(axis=0)
    loss = -np.log((Y * P).sum(axis=0)).sum()
    G = P - Y
    dA, da = np.zeros_like(A), np.zeros_like(h0)
    for t in reversed(range(n)):
        da = (RNN.V.T @ G[:, [t]] + RNN.W.T @ da) * (1 - H[:, [t + 1]] ** 2)
        dA[:, [t]] = da
    grads = {"b": dA.sum(axis=1, keepdims=True), "c": G.sum(axis=1, keepdims=True), "U": dA @ X.T,
             "W": dA @ H[:, :-1].T, "V": G @ H[:, 1:].T}
    return grads, loss, H[:, [n]]
'''


def edited(source: str, *edits) -> str:
    """source with each (old, new) made, each old found exactly once."""
    for old, new in edits:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return source


def function(source: str, name: str):
    """The function `name` of source, from a module of its own (its globals are that module's)."""
    module = types.ModuleType("student")
    exec(compile(source, "student.py", "exec"), module.__dict__)
    return getattr(module, name)


def min_char_rnn(*edits):
    return gradcheck.check(function(edited(MIN_CHAR_RNN, *edits), "lossFun"), "min-char-rnn")


def dd2424(*edits):
    return gradcheck.check(function(edited(DD2424, *edits), "gradients"), "dd2424")


def diagnosis(result) -> str:
    return "\n".join(line for line in result.diagnosis if line.startswith("Diagnosis"))


# ----------------------------------------------------------------------------- the check's parts


def test_the_mistake_free_backward_pass_is_rnnlibs_and_each_switch_changes_what_it_says():
    for case in gradcheck.cases():
        loss, grads, _ = rnnlib.loss_and_gradients(case.rnn, case.x, case.y, case.h0)
        mine_loss, mine = backward(case.rnn, case.x, case.y, case.h0)
        assert mine_loss == pytest.approx(loss, rel=1e-14)
        for name in gradcheck.conventions.LETTERS:
            np.testing.assert_allclose(mine[name], grads[name], rtol=1e-13, atol=1e-13 * np.abs(grads[name]).max())
        changed = {}
        for switch, value in (("carry", False), ("tanh_prime_from_a", True), ("h0_term", False)):
            mistaken = backward(case.rnn, case.x, case.y, case.h0, **{switch: value})[1]
            changed[switch] = [name for name in "bcUWV" if not np.allclose(mistaken[name], grads[name])]
        assert changed == {"carry": ["b", "U", "W"], "tanh_prime_from_a": ["b", "U", "W"], "h0_term": ["W"]}


def test_the_cases_are_seeded_and_the_long_one_has_entries_above_5_in_every_array():
    first, again = gradcheck.cases(), gradcheck.cases()
    assert [np.array_equal(a.rnn.theta, b.rnn.theta) and np.array_equal(a.x, b.x) for a, b in zip(first, again)] == \
        [True, True]
    for case in first:
        assert case.rnn.m != case.rnn.K and np.all(case.h0 != 0) and np.all(case.rnn.b != 0)
        assert np.array_equal(case.x[1:], case.y[:-1])    # y_t = x_{t+1}
    _, grads, _ = rnnlib.loss_and_gradients(first[1].rnn, first[1].x, first[1].y, first[1].h0)
    assert [np.abs(grads[name]).max() > 5 for name in "bcUWV"] == [True] * 5
    for case in first:  # every mistake's gradients stay finite, so that each can be recognised
        exact = gradcheck.checking.exact(case)
        assert all(np.isfinite(make(case, exact)[1].theta).all() for _, make in MISTAKES.values())


# ----------------------------------------------------------------------------- min-char-rnn


def test_min_char_rnn_as_published_is_diagnosed_as_clipping_inside_the_loss():
    result = min_char_rnn()
    assert not result.ok
    assert [key for key, c in result.comparisons.items() if c.disagree] == ["b", "c", "U", "W", "V"]
    assert diagnosis(result) == "Diagnosis: " + gradcheck.mistakes.CLIPPING.format(limit=5) + "."


def test_min_char_rnn_without_its_clip_line_passes_outright():
    result = min_char_rnn(NO_CLIP)
    assert result.ok and list(result.comparisons) == ["loss", "b", "c", "U", "W", "V", "h"]
    assert max(c.relative for c in result.comparisons.values()) < 1e-12
    assert len(result.diagnosis) == 1 and result.diagnosis[0].startswith("Verdict: equal to rnnlib's to rounding")


def test_min_char_rnn_without_dhnext_is_diagnosed_as_the_dropped_recurrent_term():
    alone = min_char_rnn(NO_CLIP, NO_DHNEXT)
    assert [key for key, c in alone.comparisons.items() if c.disagree] == ["b", "U", "W"]
    assert alone.comparisons["c"].relative < 1e-13 and alone.comparisons["V"].relative < 1e-13
    assert alone.comparisons["W"].relative == 1.0
    assert diagnosis(alone) == f"Diagnosis: {MISTAKES['recurrent term dropped'][0]}."
    published = min_char_rnn(NO_DHNEXT)   # still clipping, as published
    assert diagnosis(published) == f"Diagnosis: {MISTAKES['recurrent term dropped'][0]}; and then clipped to ±5 " \
                                   f"inside the function."


def test_targets_off_by_one_are_named():
    result = min_char_rnn(NO_CLIP, ("targets[t], 0]", "targets[t - 1], 0]"), ("dy[targets[t]]", "dy[targets[t - 1]]"))
    assert result.comparisons["loss"].disagree == 2
    assert diagnosis(result) == f"Diagnosis: {MISTAKES['targets[t-1]'][0]}."
    result = dd2424(("    K, n = X.shape\n", "    K, n = X.shape\n    Y = X\n"))
    assert diagnosis(result) == f"Diagnosis: {MISTAKES['inputs as targets'][0]}."


def test_the_checker_sets_the_globals_and_gives_the_old_ones_back():
    lossFun = function(edited(MIN_CHAR_RNN, NO_CLIP) + "Wxh = 'mine'\n", "lossFun")
    assert gradcheck.check(lossFun).ok
    assert lossFun.__globals__["Wxh"] == "mine" and "Whh" not in lossFun.__globals__
    assert "vocab_size" not in lossFun.__globals__


# ----------------------------------------------------------------------------- the assignment's names


def test_a_right_dd2424_implementation_passes_as_an_object_or_a_dict_in_either_return_order():
    assert dd2424().ok
    as_dict = edited(re.sub(r"RNN\.([bcUWV])\b", r"RNN['\1']", DD2424),
                     ("    return grads, loss, H[:, [n]]", "    return loss, SimpleNamespace(**grads)"),
                     ("import numpy as np\n", "from types import SimpleNamespace\n\nimport numpy as np\n"))
    result = gradcheck.check(function(as_dict, "gradients"), "dd2424")
    assert result.ok and "h" not in result.comparisons
    with_d = edited(DD2424, ("    return grads, loss", "    return {'d' + k: g for k, g in grads.items()}, loss"))
    assert gradcheck.check(function(with_d, "gradients"), "dd2424").ok


def test_a_dd2424_implementation_that_drops_the_h0_term_from_dW_is_caught():
    # as a peer's solution did: H holds h_1 ... h_n only, so dW sums from t = 2
    result = dd2424(('"W": dA @ H[:, :-1].T', '"W": dA[:, 1:] @ H[:, 1:-1].T'))
    assert [key for key, c in result.comparisons.items() if c.disagree] == ["W"]
    assert diagnosis(result) == f"Diagnosis: {MISTAKES['h0 term dropped'][0]}."


def test_tanh_prime_from_a_is_named():
    result = dd2424(("(1 - H[:, [t + 1]] ** 2)", "(1 - A[:, [t]] ** 2)"))
    assert [key for key, c in result.comparisons.items() if c.disagree] == ["b", "U", "W"]
    assert diagnosis(result) == "Diagnosis: " + MISTAKES["tanh' from a"][0] + "."


@pytest.mark.parametrize("ret, mistake", [
    ("{k: g / n for k, g in grads.items()}, loss / n", "mean loss and gradients"),
    ("grads, loss / n", "mean loss"),
    ("{k: g / n for k, g in grads.items()}, loss", "mean gradients")])
def test_a_mean_over_the_sequence_is_named(ret, mistake):
    result = dd2424(("    return grads, loss, H[:, [n]]", f"    return {ret}, H[:, [n]]"))
    assert diagnosis(result) == f"Diagnosis: {MISTAKES[mistake][0]}."


def test_transposed_arrays_are_named_by_their_shapes_and_dW_by_its_values():
    result = dd2424(('"U": dA @ X.T', '"U": X @ dA.T'), ('"V": G @ H[:, 1:].T', '"V": H[:, 1:] @ G.T'))
    assert not result.ok and result.transposed == {"U": (7, 5), "V": (5, 7)}
    assert result.diagnosis == ["Verdict: the values equal rnnlib's, in another layout.",
                                "Transposed: dU comes back (7, 5), the transpose of U's (5, 7); dV comes back (5, 7), "
                                "the transpose of V's (7, 5) (the table compares them transposed back)."]
    assert "dU transposed" in str(result)
    result = dd2424(('"W": dA @ H[:, :-1].T', '"W": H[:, :-1] @ dA.T'))
    assert diagnosis(result) == f"Diagnosis: {MISTAKES['dW transposed'][0]}."


def test_where_no_usual_mistake_fits_the_verdict_says_only_what_differs():
    two = dd2424(("(1 - H[:, [t + 1]] ** 2)", "(1 - A[:, [t]] ** 2)"), (" + RNN.W.T @ da", ""))
    assert two.diagnosis == ["Verdict: db, dU and dW differ; the loss, dc, dV and the last hidden state match.",
                             "No usual mistake fits exactly: look at the arrays that differ."]
    forward = min_char_rnn(NO_CLIP, ("Whh @ hs[t - 1] + bh)", "Whh @ hs[t - 1])"))
    assert forward.comparisons["h"].disagree and not diagnosis(forward)
    assert forward.diagnosis[-1].startswith("The last hidden state differs")


def test_gradients_in_float32_are_named_as_such():
    result = dd2424(("    return grads, loss, H[:, [n]]",
                     "    return {k: g.astype(np.float32) for k, g in grads.items()}, loss, H[:, [n]]"))
    assert not result.ok and result.diagnosis[-1].startswith("Its gradients come back in float32, whose rounding")


def test_any_other_names_with_transposed_arrays():
    """Row-vector code, x_t W_xh + h_{t-1} W_hh + b_h, with other names: here the DD2424 function
    behind a row-vector face."""
    column = function(DD2424, "gradients")
    names = {"b": "b_h", "c": "b_y", "U": "W_xh", "W": "W_hh", "V": "W_hy"}

    def rows(X, Y, h0, params):
        assert X.shape[0] == Y.shape[0] == len(X) and h0.shape[0] == 1 and params.W_xh.shape[1] == h0.shape[1]
        grads, loss, h = column(X.T, Y.T, h0.T, SimpleNamespace(**{k: params[v].T for k, v in names.items()}))
        return loss, {names[k]: g.T for k, g in grads.items()}, h.T

    mine = gradcheck.Convention("mine", names, transpose=True)
    result = gradcheck.check(rows, mine)
    assert result.ok and result.label("U") == "dW_xh (dU)"


# ----------------------------------------------------------------------------- what does not fit


@pytest.mark.parametrize("source, name, convention, message", [
    (MIN_CHAR_RNN, "lossFun", "dd2424", "lossFun(inputs, targets, hprev) cannot take the dd2424 convention's "
                                        "arguments (X, Y, h0, params): is it the min-char-rnn convention?"),
    (DD2424, "gradients", "min-char-rnn", "gradients(X, Y, h0, RNN) cannot take the min-char-rnn convention's "
                                          "arguments (inputs, targets, hprev): is it the dd2424 convention?"),
    (edited(MIN_CHAR_RNN, ("return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]", "return loss, dWxh")),
     "lossFun", "min-char-rnn", "lossFun returned a tuple of 2; the min-char-rnn convention returns 7: loss, dWxh, "
                                "dWhh, dWhy, dbh, dby, the last hidden state"),
    (edited(DD2424, ('"W": dA @ H[:, :-1].T', '"W": dA[:3, :3]')), "gradients", "dd2424",
     "dW has shape (3, 3); W is (5, 5) (m = 5 hidden units, K = 7 characters)"),
    (edited(DD2424, ('"c": G.sum', '"dc": G.sum'), ('"b": dA', '"bias": dA')), "gradients", "dd2424",
     "the gradients returned (a dict) hold no 'b' (nor 'db', 'grad_b'): they hold 'bias', 'dc', 'U', 'W', 'V'"),
    (edited(DD2424, ("    return grads, loss, H[:, [n]]", "    return grads")), "gradients", "dd2424",
     "gradients returned a dict; the dd2424 convention returns (loss, grads) or (grads, loss), then optionally "
     "the last hidden state"),
])
def test_a_function_that_does_not_fit_its_convention_gets_one_line(source, name, convention, message):
    with pytest.raises(gradcheck.ConventionError) as raised:
        gradcheck.check(function(source, name), convention)
    assert str(raised.value) == message


def test_an_unknown_convention_is_named():
    with pytest.raises(gradcheck.ConventionError, match="no convention 'karpathy'; there are min-char-rnn, dd2424"):
        gradcheck.check(function(DD2424, "gradients"), "karpathy")


# ----------------------------------------------------------------------------- your own check, explained


def test_rounding_alone_stays_within_the_margin_of_the_floor_and_reaches_its_scale():
    """ROUNDING_MARGIN, measured again: float64 centred differences of right gradients at steps too
    small for truncation to show."""
    for seed in range(3):
        rng = np.random.default_rng(seed)
        rnn = rnnlib.RNN.init(20, 6, sigma=0.3, rng=rng)
        x, y, h0 = rng.integers(0, 20, 25), rng.integers(0, 20, 25), np.tanh(rng.normal(size=6))
        loss, grads, _ = rnnlib.loss_and_gradients(rnn, x, y, h0)
        for delta in (1e-6, 1e-7):
            numerical = rnnlib.numerical_gradients(rnn, x, y, h0, delta=delta, dtype=np.float64)
            ratio = np.abs(numerical.theta - grads.theta).max() / gradcheck.rounding_floor(delta, loss)
            assert 0.5 < ratio <= gradcheck.ROUNDING_MARGIN


def test_a_check_that_fails_at_1e_6_from_rounding_alone_is_explained_and_a_bug_is_not():
    rng = np.random.default_rng(3)
    rnn = rnnlib.RNN.init(20, 6, sigma=0.3, rng=rng)
    x, y, h0 = rng.integers(0, 20, 25), rng.integers(0, 20, 25), np.tanh(rng.normal(size=6))
    loss, grads, _ = rnnlib.loss_and_gradients(rnn, x, y, h0)
    numerical = rnnlib.numerical_gradients(rnn, x, y, h0, delta=1e-6, dtype=np.float64)
    assert rnnlib.relative_error(grads.theta, numerical.theta) > 1e-6       # the check "fails"
    right = gradcheck.explain_finite_differences(1e-6, loss, analytic=dict(grads), numerical=dict(numerical))
    assert right.rounding is True and right.lines[-1].startswith("Yes: rounding explains it")
    wrong = backward(rnn, x, y, h0, h0_term=False)[1]
    bug = gradcheck.explain_finite_differences(1e-6, loss, analytic=wrong.W, numerical=numerical.W)
    assert bug.rounding is False and bug.lines[-1].startswith("No: not rounding")


def test_a_relative_error_alone_is_explained_by_the_size_of_its_entry():
    floor = gradcheck.rounding_floor(1e-5, 110.0)
    assert floor == np.finfo(np.float64).eps * 110 / 2e-5
    assert gradcheck.explain_finite_differences(1e-5, 110.0, relative_error=3e-6, gradient=1e-4).rounding is True
    assert gradcheck.explain_finite_differences(1e-5, 110.0, relative_error=3e-6, gradient=1e-2).rounding is False
    alone = gradcheck.explain_finite_differences(1e-5, 110.0, relative_error=3e-6)
    assert alone.rounding is None and f"no larger than {gradcheck.ROUNDING_MARGIN * floor / 6e-6:.1e}" in str(alone)
    in_float32 = np.finfo(np.float32).eps * 110 / 2e-4
    assert f"ε·L/2δ = {in_float32:.1e}" in str(gradcheck.explain_finite_differences(1e-4, 110.0, np.float32))


# ----------------------------------------------------------------------------- the demonstration


def test_the_demonstration_passes_the_right_implementation_and_names_each_mistake():
    results = gradcheck.demonstration()
    assert list(results) == ["right", *gradcheck.example.EXAMPLE_MISTAKES]
    assert results["right"].ok
    named = {title: diagnosis(result) for title, result in results.items() if title != "right"}
    assert named == {"clips inside its loss function": f"Diagnosis: {gradcheck.mistakes.CLIPPING.format(limit=5)}.",
                     "forgets the recurrent term": f"Diagnosis: {MISTAKES['recurrent term dropped'][0]}.",
                     "drops the h0 term from dW": f"Diagnosis: {MISTAKES['h0 term dropped'][0]}."}


# ----------------------------------------------------------------------------- in the terminal


def run_check(*args, cwd):
    done = subprocess.run([sys.executable, str(CHECK), *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def students(tmp_path):
    """Student files in tmp_path: as published, without its clip line, without dhnext, and DD2424."""
    for name, source in {"published": MIN_CHAR_RNN, "no_clip": edited(MIN_CHAR_RNN, NO_CLIP),
                         "no_dhnext": edited(MIN_CHAR_RNN, NO_DHNEXT), "dd2424": DD2424}.items():
        (tmp_path / f"{name}.py").write_text(source)
    return tmp_path


def test_the_terminal_prints_the_table_and_verdict_and_exits_0_or_1(students):
    status, out, err = run_check("no_clip.py:lossFun", "--convention", "min-char-rnn", cwd=students)
    assert (status, out, err) == (0, f"{min_char_rnn(NO_CLIP)}\n", "")
    status, out, _ = run_check("published.py:lossFun", "--convention", "min-char-rnn", cwd=students)
    assert status == 1 and "Diagnosis: clipping inside the loss function" in out
    status, out, _ = run_check("no_dhnext.py:lossFun", "--convention", "min-char-rnn", cwd=students)
    assert status == 1 and "Diagnosis: the recurrent term dropped" in out
    status, out, _ = run_check(str(students / "dd2424.py") + ":gradients", "--convention", "dd2424", cwd=ROOT)
    assert status == 0


@pytest.mark.parametrize("args, message", [
    (["missing.py:lossFun", "--convention", "min-char-rnn"], "no such file: missing.py: check the path"),
    (["published.py:lossfun", "--convention", "min-char-rnn"], "published.py defines no lossfun (its functions: "
                                                                "lossFun)"),
    (["published.py", "--convention", "min-char-rnn"], "give FILE:FUNCTION, e.g. min_char_rnn.py:lossFun, not "
                                                        "'published.py'"),
    (["published.py:lossFun"], "the following arguments are required: --convention (`python3 run.py check --help` "
                               "lists the options)"),
    (["published.py:lossFun", "--convention", "dd2424"], "lossFun(inputs, targets, hprev) cannot take the dd2424 "
                                                          "convention's arguments (X, Y, h0, params): is it the "
                                                          "min-char-rnn convention?"),
    (["dd2424.py:gradients", "--convention", "min-char-rnn"], "gradients(X, Y, h0, RNN) cannot take the min-char-rnn "
                                                              "convention's arguments (inputs, targets, hprev): is "
                                                              "it the dd2424 convention?"),
    (["wrong_shape.py:gradients", "--convention", "dd2424"], "dW has shape (3, 3); W is (5, 5) (m = 5 hidden units, "
                                                              "K = 7 characters)"),
    (["grads_only.py:gradients", "--convention", "dd2424"], "gradients returned a dict; the dd2424 convention "
                                                             "returns (loss, grads) or (grads, loss), then optionally "
                                                             "the last hidden state"),
])
def test_input_the_check_cannot_use_is_one_line_and_exit_2(students, args, message):
    (students / "wrong_shape.py").write_text(edited(DD2424, ('"W": dA @ H[:, :-1].T', '"W": dA[:3, :3]')))
    (students / "grads_only.py").write_text(edited(DD2424, ("    return grads, loss, H[:, [n]]", "    return grads")))
    status, out, err = run_check(*args, cwd=students)
    assert (status, out, err) == (2, "", f"error: {message}\n")


def test_an_exception_in_the_users_code_shows_its_own_traceback(students):
    (students / "helpers.py").write_text("import numpy as np\n\n\ndef softmax(o):\n"
                                         "    return np.exp(o) / np.sum(np.exp(o), axis=2)\n")
    source = edited(MIN_CHAR_RNN, ("import numpy as np\n", "import numpy as np\nfrom helpers import softmax\n"),
                    ("        ps[t] = np.exp(scores) / np.sum(np.exp(scores))\n",
                     "        ps[t] = softmax(scores)\n"))
    (students / "buggy.py").write_text(source)
    done = subprocess.run([sys.executable, str(CHECK), "buggy.py:lossFun", "--convention", "min-char-rnn"],
                          cwd=students, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(students)})
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1].startswith(f'  File "{students / "buggy.py"}", line ') and lines[1].endswith("in lossFun")
    assert lines[-1].endswith("AxisError: axis 2 is out of bounds for array of dimension 2")
    assert f'File "{students / "helpers.py"}", line 5, in softmax' in done.stderr
    assert "gradcheck" not in done.stderr and "check.py" not in done.stderr
    status, out, err = run_check("buggy.py:lossFun", "--convention", "min-char-rnn", cwd=students)  # no PYTHONPATH
    assert status == 2 and err.splitlines()[-2:] == [
        "ModuleNotFoundError: No module named 'helpers'",
        f"(helpers is beside buggy.py: give its folder to Python, PYTHONPATH={students} python3 run.py check ...)"]


def test_python_2_code_shows_its_syntax_error(students):
    (students / "old.py").write_text(edited(MIN_CHAR_RNN, ("import numpy as np\n", "import numpy as np\nprint 'hi'\n")))
    status, out, err = run_check("old.py:lossFun", "--convention", "min-char-rnn", cwd=students)
    assert status == 2 and err.splitlines()[0] == f'  File "{students / "old.py"}", line 2'
    assert err.splitlines()[-1].startswith("SyntaxError: Missing parentheses in call to 'print'")


def test_a_script_that_trains_at_import_is_stopped_by_ctrl_c_with_one_line(students):
    (students / "trains.py").write_text(MIN_CHAR_RNN + "print('training', flush=True)\nwhile True:\n    pass\n")
    with subprocess.Popen([sys.executable, str(CHECK), "trains.py:lossFun", "--convention", "min-char-rnn"],
                          cwd=students, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert process.stdout.readline() == "training\n"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 130 and out == ""
    assert err == "stopped while importing trains.py: its top-level code was still running (a training loop? put " \
                  "it under `if __name__ == \"__main__\":`)\n"


def test_run_py_check_reads_the_path_from_the_users_folder(students):
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "check", "no_dhnext.py:lossFun", "--convention",
                           "min-char-rnn"], cwd=students, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Diagnosis: the recurrent term dropped" in done.stdout


def test_a_reader_that_goes_away_ends_the_check_quietly_with_141(students):
    """`run.py check ... | head`, the reader gone before the table, or while FILE's own code prints."""
    (students / "chatty.py").write_text(MIN_CHAR_RNN + "\nfor i in range(100_000):\n    print('loading', i)\n")
    for target in ("no_clip.py:lossFun", "chatty.py:lossFun"):
        child = subprocess.Popen([sys.executable, str(CHECK), target, "--convention", "min-char-rnn"], cwd=students,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        child.stdout.close()  # as `| head -0`: nobody reads
        _, err = child.communicate(timeout=120)
        assert child.returncode == 141 and err == "", (target, err)


def test_the_check_script_loads_a_file_under_its_own_name(students):
    spec = importlib.util.spec_from_file_location("check_script", CHECK)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    lossFun = script.load(students / "no_clip.py", "lossFun")
    assert lossFun.__module__ == "no_clip" and sys.modules.pop("no_clip").lossFun is lossFun
    assert gradcheck.check(lossFun, "min-char-rnn").ok
