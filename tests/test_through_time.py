"""How far back a gradient reaches: rnnlib.jacobian_norms against finite differences and a
plain product of the step Jacobians."""

import numpy as np
import pytest

import rnnlib
from rnnlib import RNN


@pytest.fixture
def network(rng):
    """A small network with recurrent weights large enough that products neither vanish at once
    nor blow up, a sequence and a hidden state to read it from."""
    rnn = RNN.init(7, m=6, sigma=0.6, rng=2)
    return rnn, rng.integers(0, 7, 12), np.tanh(rng.normal(size=6))


def last_state(rnn, x, h):
    return rnnlib.hidden_states(rnn, x, h)[-1]


def test_jacobian_norms_match_finite_differences(network):
    rnn, x, h0 = network
    n, delta = len(x), 1e-6
    H = rnnlib.hidden_states(rnn, x, h0)
    norms = rnnlib.jacobian_norms(rnn, x, h0)
    assert norms.shape == (n,)
    for k in range(1, n + 1):
        # column j of dh_n/dh_{n-k}: the change of h_n when h_{n-k} moves along e_j
        J = np.column_stack([(last_state(rnn, x[n - k:], H[n - k] + delta * e) -
                              last_state(rnn, x[n - k:], H[n - k] - delta * e)) / (2 * delta)
                             for e in np.eye(rnn.m)])
        assert norms[k - 1] == pytest.approx(np.linalg.norm(J, 2), rel=1e-6, abs=1e-12)
    assert norms[-1] < norms[0] / 10  # decaying: the test covers more than one order of magnitude


def test_jacobian_norms_match_the_plain_product(network):
    rnn, x, h0 = network
    H = rnnlib.hidden_states(rnn, x, h0)
    n, J, expected = len(x), np.eye(rnn.m), []
    for t in range(n, 0, -1):
        J = J @ np.diag(1 - H[t] ** 2) @ rnn.W  # dh_n/dh_{t-1} = dh_n/dh_t dh_t/dh_{t-1}
        expected.append(np.linalg.norm(J, 2))
    np.testing.assert_allclose(rnnlib.jacobian_norms(rnn, x, h0), expected, rtol=1e-12)


def test_jacobian_norms_of_one_step_are_those_of_the_step_jacobian(network):
    rnn, x, h0 = network
    h1 = np.tanh(rnn.W @ h0 + rnn.U[:, x[0]] + rnn.b)
    assert rnnlib.jacobian_norms(rnn, x[:1], h0)[0] == pytest.approx(
        np.linalg.svd(np.diag(1 - h1 ** 2) @ rnn.W, compute_uv=False)[0], rel=1e-13)


def test_jacobian_norms_refuse_bad_input(network):
    rnn, x, h0 = network
    with pytest.raises(ValueError, match=r"h0 must have shape \(6,\)"):
        rnnlib.jacobian_norms(rnn, x, h0[:3])
    with pytest.raises(ValueError, match=r"character indices must lie in \[0, 7\)"):
        rnnlib.jacobian_norms(rnn, x + 7, h0)
    with pytest.raises(ValueError, match="non-empty 1-D index arrays"):
        rnnlib.jacobian_norms(rnn, x[:0], h0)
