import tracemalloc

import numpy as np
import pytest

import plain_rnn
import rnnlib
from rnnlib import RNN


def random_rnn(K, m, rng):
    """An RNN far from its initialisation, so that every term of the gradient matters, yet
    with W's spectral radius near 0.8, so that the recurrence does not amplify rounding."""
    rnn = RNN(m, K)
    rnn.theta[:] = rng.normal(0.0, 0.8 / np.sqrt(m), rnn.theta.shape)
    return rnn


def test_init_shapes_zero_biases_and_the_given_spread():
    rnn = RNN.init(K=80, m=100, sigma=0.01, rng=0)
    assert (rnn.b.shape, rnn.c.shape, rnn.U.shape, rnn.W.shape, rnn.V.shape) == \
        ((100,), (80,), (100, 80), (100, 100), (80, 100))
    assert not rnn.b.any() and not rnn.c.any()
    for name in "UWV":
        assert abs(rnn[name].std() - 0.01) < 0.001 and abs(rnn[name].mean()) < 0.001


def test_init_draws_from_the_given_generator_only():
    state = np.random.get_state()[1].copy()
    a = RNN.init(10, m=4, rng=np.random.default_rng(7))
    b = RNN.init(10, m=4, rng=7)
    c = RNN.init(10, m=4, rng=8)
    assert np.array_equal(a.theta, b.theta) and not np.array_equal(a.theta, c.theta)
    assert np.array_equal(state, np.random.get_state()[1])  # the global RNG was not touched
    with pytest.raises(TypeError, match="Generator or an int seed"):
        RNN.init(10, rng="seed")


@pytest.mark.parametrize("kwargs, message", [
    ({"K": 0}, "K must be a positive integer"),
    ({"K": 10, "m": 2.5}, "m must be a positive integer"),
    ({"K": 10, "sigma": -1.0}, "sigma must be a finite number"),
    ({"K": 10, "sigma": float("nan")}, "sigma must be a finite number"),
])
def test_init_refuses_bad_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RNN.init(**kwargs)


@pytest.mark.parametrize("check, value, or_zero, expected", [
    (rnnlib.positive_int, 3, False, 3), (rnnlib.positive_int, np.int64(3), False, 3),
    (rnnlib.positive_int, 0, True, 0),
    (rnnlib.positive_int, 0, False, "n must be a positive integer, not 0"),
    (rnnlib.positive_int, -1, True, "n must be a whole number >= 0, not -1"),
    (rnnlib.positive_int, 2.0, False, "n must be a positive integer, not 2.0"),
    (rnnlib.positive_int, True, True, "n must be a whole number >= 0, not True"),
    (rnnlib.positive_number, 2, False, 2.0), (rnnlib.positive_number, 0, True, 0.0),
    (rnnlib.positive_number, 0.0, False, "n must be a positive finite number, not 0.0"),
    (rnnlib.positive_number, -1e-9, True, "n must be a finite number >= 0, not -1e-09"),
    (rnnlib.positive_number, float("inf"), True, "n must be a finite number >= 0, not inf"),
    (rnnlib.positive_number, "1", False, "n must be a positive finite number, not '1'"),
])
def test_the_argument_checks_return_the_value_or_name_the_problem(check, value, or_zero, expected):
    if isinstance(expected, str):
        with pytest.raises(ValueError, match=f"^{expected}$"):
            check(value, "n", or_zero=or_zero)
    else:
        result = check(value, "n", or_zero=or_zero)
        assert result == expected and type(result) is type(expected)


def test_the_five_arrays_are_views_of_one_flat_vector():
    rnn = RNN.init(5, m=3, rng=0)
    assert rnn.theta.size == 3 + 5 + 3 * 5 + 3 * 3 + 5 * 3
    rnn.theta[:] = np.arange(rnn.theta.size)
    assert rnn.b.tolist() == [0, 1, 2] and rnn.c[0] == 3 and rnn.U[0, 0] == 8
    rnn.W[1, 2] = -1.0
    assert rnn.theta[8 + 15 + 5] == -1.0
    assert list(rnn) == ["b", "c", "U", "W", "V"] and rnn["W"] is rnn.W
    with pytest.raises(AttributeError):
        rnn.W = np.zeros((3, 3))  # rebinding would cut the view: refused


def test_copy_and_astype_are_independent():
    rnn = RNN.init(5, m=3, rng=0)
    twin, z = rnn.copy(), rnn.astype(np.complex128)
    twin.W[0, 0] += 1
    z.V[0, 0] += 1j
    assert rnn.W[0, 0] != twin.W[0, 0] and np.isrealobj(rnn.V)
    assert isinstance(twin, RNN) and z.dtype == np.complex128


def test_softmax_is_stable_and_sums_to_one():
    P = rnnlib.softmax(np.array([[1000.0, 0.0, -1000.0], [1.0, 1.0, 1.0]]))
    assert np.allclose(P.sum(axis=1), 1) and np.allclose(P[0], [1, 0, 0]) and np.allclose(P[1], 1 / 3)


@pytest.mark.parametrize("m, K, n", [(5, 7, 1), (8, 6, 25), (100, 80, 25)])
def test_loss_gradients_and_last_state_agree_with_the_plain_implementation(m, K, n, rng):
    rnn = random_rnn(K, m, rng)
    x, y = rng.integers(0, K, n), rng.integers(0, K, n)
    h0 = rng.normal(0, 0.5, m)
    loss, grads, h_last = rnnlib.loss_and_gradients(rnn, x, y, h0)
    plain_loss, plain_grads, plain_h = plain_rnn.loss_and_gradients(
        rnn.b, rnn.c, rnn.U, rnn.W, rnn.V, x.tolist(), y.tolist(), h0)
    assert rnnlib.relative_error(loss, plain_loss) < 1e-10
    assert rnnlib.relative_error(h_last, plain_h) < 1e-10
    for name, plain in zip("bcUWV", plain_grads):
        assert rnnlib.relative_error(grads[name], plain) < 1e-10, name
    assert np.isclose(loss, rnnlib.loss(rnn, x, y, h0), rtol=1e-14)


def sequence_with_repeats(K, n, rng):
    """n indices in [0, K) drawn from a handful of characters, so that most appear several times."""
    return rng.choice(rng.choice(K, size=min(K, 6), replace=False), size=n)


@pytest.mark.parametrize("m, K, n", [(7, 3, 25), (16, 40, 25), (100, 80, 25), (100, 1000, 25), (3, 5000, 60)])
def test_dU_columns_is_the_one_hot_product(m, K, n, rng):
    dA, x = rng.normal(size=(n, m)), sequence_with_repeats(K, n, rng)
    X = np.zeros((n, K))
    X[np.arange(n), x] = 1
    cols = np.unique(x)
    dU = rnnlib.dU_columns(dA, x, cols)
    assert dU.shape == (m, len(cols))
    in_order = np.zeros((m, K))  # dU = sum_t dA_t x_t^T, the terms added for t = 1, ..., n
    for t in range(n):
        in_order[:, x[t]] += dA[t]
    assert np.array_equal(dU, in_order[:, cols]) and not in_order[:, np.setdiff1d(np.arange(K), cols)].any()
    np.testing.assert_allclose(dU, (dA.T @ X)[:, cols], rtol=1e-15, atol=1e-15 * np.abs(dA).max())
    assert np.array_equal(rnnlib.dU_columns(dA, x, np.arange(K)), in_order)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("m, K", [(8, 6), (16, 200)])
def test_sparse_gradients_are_the_dense_ones_bit_for_bit(m, K, dtype, rng):
    rnn = random_rnn(K, m, rng).astype(dtype)
    for _ in range(5):
        x, y = sequence_with_repeats(K, 25, rng), rng.integers(0, K, 25)
        h0 = rng.normal(0, 0.5, m).astype(dtype)
        loss, dense, h = rnnlib.loss_and_gradients(rnn, x, y, h0)
        sparse_loss, sparse, sparse_h = rnnlib.loss_and_gradients(rnn, x, y, h0, sparse=True)
        assert dense.cols is None and np.array_equal(sparse.cols, np.unique(x))
        assert sparse.U.shape == (m, len(sparse.cols)) and sparse.dtype == dense.dtype == dtype
        assert sparse_loss == loss and np.array_equal(sparse_h, h)
        for name in "bcWV":
            assert np.array_equal(sparse[name], dense[name]), name
        if dtype == np.float32:  # some OpenBLAS kernels' sgemm add dA^T X's terms in another order
            np.testing.assert_allclose(sparse.U, dense.U[:, sparse.cols], rtol=4e-7, atol=4e-7 * abs(dense.U).max())
        else:
            assert np.array_equal(sparse.U, dense.U[:, sparse.cols])
        others = np.setdiff1d(np.arange(K), sparse.cols)
        assert not dense.U[:, others].any()  # the columns left out are zero


def test_nothing_of_size_n_by_K_is_made_but_P():
    """With K = 50,000 and m = 3, P (n, K) is 10 MB; the rest, gradients aside, is small."""
    K, m, n = 50_000, 3, 25
    rnn, rng = RNN.init(K, m=m, rng=0), np.random.default_rng(0)
    x, y, h0 = sequence_with_repeats(K, n, rng), rng.integers(0, K, n), np.zeros(m)
    rnnlib.loss_and_gradients(rnn, x, y, h0, sparse=True)  # numpy's first-call imports, outside the count
    tracemalloc.start()
    try:
        _, grads, _ = rnnlib.loss_and_gradients(rnn, x, y, h0, sparse=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < n * K * 8 + grads.theta.nbytes + 100_000


def test_the_loss_of_an_untrained_network_is_about_n_log_K(corpus):
    rnn = RNN.init(corpus.K, rng=0)
    loss, _, _ = rnnlib.loss_and_gradients(rnn, corpus.data[:25], corpus.data[1:26], np.zeros(100))
    assert abs(loss - 25 * np.log(corpus.K)) < 0.01


def test_bad_sequences_are_refused():
    rnn = RNN.init(5, m=3)
    with pytest.raises(ValueError, match="one length"):
        rnnlib.loss_and_gradients(rnn, [1, 2], [1], np.zeros(3))
    with pytest.raises(ValueError, match=r"h0 must have shape \(3,\)"):
        rnnlib.loss_and_gradients(rnn, [1, 2], [2, 3], np.zeros(4))
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 5\) for this RNN; got -1\.\.3"):
        rnnlib.loss_and_gradients(rnn, [1, -1], [2, 3], np.zeros(3))
    with pytest.raises(ValueError, match=r"got 0\.\.5"):
        rnnlib.loss(rnn, [1, 0], [2, 5], np.zeros(3))
    with pytest.raises(ValueError, match="int character indices"):
        rnnlib.loss(rnn, [1.0, 0.0], [2, 1], np.zeros(3))


@pytest.mark.parametrize("reference", ["long double", "complex step"])
@pytest.mark.parametrize("batch", [0, 1])
def test_gradient_check_at_the_assignments_size(corpus, batch, reference):
    """m = 5, sigma = 0.01, the first and the second 25-character batches, h0 = 0: against centred
    differences in long double where it is wider than float64, and against the complex step, notebook 1's
    reference where it is not (float64 centred differences can exceed 1e-6 with a right gradient)."""
    if reference == "long double" and np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps:
        pytest.skip("long double is float64 on this platform: notebook 1 checks against the complex step")
    rnn = RNN.init(corpus.K, m=5, sigma=0.01, rng=0)
    x = corpus.data[25 * batch:25 * batch + 25]
    y = corpus.data[25 * batch + 1:25 * batch + 26]
    h0 = np.zeros(5)
    _, grads, _ = rnnlib.loss_and_gradients(rnn, x, y, h0)
    numerical = (rnnlib.numerical_gradients(rnn, x, y, h0, delta=1e-4) if reference == "long double"
                 else rnnlib.complex_step_gradients(rnn, x, y, h0))
    for name in "bcUWV":
        assert rnnlib.relative_error(grads[name], numerical[name]) < 1e-6, name


def test_float64_centred_differences_have_a_rounding_floor_that_long_double_lowers(corpus):
    """The check's own error, not the gradient's: the same analytic gradient looks worse
    against float64 centred differences than against long-double ones."""
    if np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps:
        pytest.skip("long double is float64 on this platform")
    rnn = RNN.init(corpus.K, m=5, rng=1)
    x, y, h0 = corpus.data[:25], corpus.data[1:26], np.zeros(5)
    _, grads, _ = rnnlib.loss_and_gradients(rnn, x, y, h0)
    f64 = rnnlib.numerical_gradients(rnn, x, y, h0, dtype=np.float64)
    ext = rnnlib.numerical_gradients(rnn, x, y, h0)
    assert rnnlib.relative_error(grads.W, ext.W) * 10 < rnnlib.relative_error(grads.W, f64.W)
    assert np.abs(grads.W - f64.W).max() > 1e-12


def test_a_wrong_gradient_is_caught_by_the_checks(rng):
    """The checks can fail: a sign error in one entry of W is reported."""
    rnn = random_rnn(6, 4, rng)
    x, y, h0 = rng.integers(0, 6, 10), rng.integers(0, 6, 10), np.zeros(4)
    _, grads, _ = rnnlib.loss_and_gradients(rnn, x, y, h0)
    grads.W[1, 2] *= -1
    assert rnnlib.relative_error(grads.W, rnnlib.complex_step_gradients(rnn, x, y, h0).W) > 0.1


def test_relative_error_is_the_largest_elementwise_ratio():
    assert rnnlib.relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rnnlib.relative_error([1.0, 3.0], [1.0, 1.0]) == pytest.approx(0.5)
    assert rnnlib.relative_error([0.0], [1e-9]) == pytest.approx(0.1)  # the 1e-8 floor
