import warnings

import numpy as np
import pytest

import rnnlib
from rnnlib import RNN


def constant_model(logits):
    """A network whose every prediction is softmax(logits): W, U, V are zero, c = logits."""
    rnn = RNN(3, len(logits))
    rnn.c[:] = logits
    return rnn


def test_same_seed_same_text_and_indices_in_range():
    rnn = RNN.init(30, m=20, sigma=0.5, rng=0)
    a = rnnlib.synthesize(rnn, np.zeros(20), 3, 500, rng=11)
    b = rnnlib.synthesize(rnn, np.zeros(20), 3, 500, rng=np.random.default_rng(11))
    c = rnnlib.synthesize(rnn, np.zeros(20), 3, 500, rng=12)
    assert a.shape == (500,) and np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.min() >= 0 and a.max() < 30


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_draws_follow_the_softmax_of_the_logits_over_the_temperature(dtype):
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05, 0.0]) + 1e-300)  # the last is impossible
    n = 200_000
    rnn = constant_model(logits).astype(dtype)
    for T in (1.0, 0.5, 2.0):
        p = np.exp(logits / T)
        p /= p.sum()
        counts = np.bincount(rnnlib.synthesize(rnn, np.zeros(3, dtype), 0, n, T, rng=1), minlength=5)
        assert counts[4] == 0
        expected = n * p[:4]
        chi2 = ((counts[:4] - expected) ** 2 / expected).sum()
        assert chi2 < 16.3, (T, counts, expected)  # p = 0.001 for 3 degrees of freedom


def test_draws_depend_on_the_hidden_state_and_the_input():
    """With x0 alone deciding the first draw, different inputs give different first characters."""
    rnn = RNN(4, 3)
    rnn.U[:, 0], rnn.U[:, 1] = [5, 0, 0, 0], [0, 5, 0, 0]
    rnn.V[0, 0] = rnn.V[1, 1] = 40  # h's first unit says "0", its second says "1"
    assert rnnlib.synthesize(rnn, np.zeros(4), 0, 1, rng=0)[0] == 0
    assert rnnlib.synthesize(rnn, np.zeros(4), 1, 1, rng=0)[0] == 1


@pytest.mark.parametrize("T", [1e-3, 1e-300, 1.0, 1e3, 1e300])
def test_extreme_temperatures_and_large_weights_are_stable(T):
    rnn = RNN.init(50, m=30, sigma=1.0, rng=0)
    rnn.theta *= 1e3
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        Y = rnnlib.synthesize(rnn, np.zeros(30), 0, 300, temperature=T, rng=0)
    assert Y.min() >= 0 and Y.max() < 50


def test_a_near_zero_temperature_picks_the_most_likely_character():
    logits = np.array([0.0, 2.0, 1.9, -1.0])
    Y = rnnlib.synthesize(constant_model(logits), np.zeros(3), 0, 1000, temperature=1e-3, rng=0)
    assert (Y == 1).all()


@pytest.mark.parametrize("T", [0, -1.0, float("nan"), float("inf"), "warm", None])
def test_a_temperature_that_is_not_positive_and_finite_is_refused(T):
    with pytest.raises(ValueError, match=f"temperature must be a positive finite number, not {T!r}"):
        rnnlib.synthesize(RNN.init(5, m=3), np.zeros(3), 0, 10, temperature=T)


def test_bad_length_and_start_are_refused():
    rnn = RNN.init(5, m=3)
    with pytest.raises(ValueError, match="n must be a whole number >= 0, not -1"):
        rnnlib.synthesize(rnn, np.zeros(3), 0, -1)
    with pytest.raises(ValueError, match=r"x0 must be a character index in \[0, 5\)"):
        rnnlib.synthesize(rnn, np.zeros(3), 5, 10)
    assert rnnlib.synthesize(rnn, np.zeros(3), 0, 0).shape == (0,)


def test_generate_warms_up_on_the_prime(small_corpus):
    rnn = RNN.init(small_corpus.K, m=16, sigma=0.3, rng=0)
    prime = "The quick"
    text = rnnlib.generate(rnn, small_corpus, 50, prime=prime, rng=3)
    x = small_corpus.encode(prime)
    h = rnnlib.hidden_states(rnn, x[:-1], np.zeros(16))[-1]
    assert text == small_corpus.decode(rnnlib.synthesize(rnn, h, x[-1], 50, rng=3))
    assert text != rnnlib.generate(rnn, small_corpus, 50, prime="k", rng=3)
    assert len(rnnlib.generate(rnn, small_corpus, 50, rng=3)) == 50


def test_a_prime_outside_the_vocabulary_is_named(small_corpus):
    rnn = RNN.init(small_corpus.K, m=4)
    with pytest.raises(ValueError, match=r"'Z' \(U\+005A\) at position 4"):
        rnnlib.generate(rnn, small_corpus, 10, prime="The Zebra")
    with pytest.raises(ValueError, match="at least one character"):
        rnnlib.generate(rnn, small_corpus, 10, prime="")
