"""lstm.py: its gradients against centred differences and the complex step, its interface, and its
training loop against rnnlib.train on the vanilla RNN."""

import math
import pickle

import numpy as np
import pytest

import lstm
import rnnlib

TEXT = "the cat sat on the mat; the rat ate the hat. that cat, that hat!\nthe end of it all.\n" * 3
CORPUS = rnnlib.Corpus(TEXT)


def small_case(K=6, m=4, n=9, seed=1):
    """A small LSTM with every parameter and the state drawn large enough that each gate matters."""
    rng = np.random.default_rng(seed)
    net = lstm.init(K, m, sigma=0.5, rng=seed)
    net.b[...], net.c[...] = rng.normal(0, 0.5, 4 * m), rng.normal(0, 0.5, K)
    x, y = rng.integers(0, K, n), rng.integers(0, K, n)
    return net, x, y, (rng.normal(0, 0.5, m), rng.normal(0, 0.5, m))


@pytest.mark.skipif(np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps,
                    reason="long double is float64 here: the complex-step test checks these gradients")
def test_gradients_match_centred_differences_in_long_double():
    net, x, y, state = small_case()
    _, grads, _ = lstm.loss_and_gradients(net, x, y, state)
    numerical = lstm.numerical_gradients(net, x, y, state)
    for name in grads:
        assert rnnlib.relative_error(grads[name], numerical[name]) < 1e-6, name


@pytest.mark.parametrize("seed", [1, 2])
def test_gradients_match_the_complex_step(seed):
    net, x, y, state = small_case(seed=seed)
    _, grads, _ = lstm.loss_and_gradients(net, x, y, state)
    complex_step = lstm.complex_step_gradients(net, x, y, state)
    for name in grads:
        assert rnnlib.relative_error(grads[name], complex_step[name]) < 1e-10, name


def test_gradient_errors_are_both_checks_per_parameter():
    net, x, y, state = small_case(seed=3)
    errors = lstm.gradient_errors(net, x, y, state)
    _, grads, _ = lstm.loss_and_gradients(net, x, y, state)
    assert list(errors) == list(grads)
    assert errors["W"][1] == rnnlib.relative_error(grads.W, lstm.complex_step_gradients(net, x, y, state).W)
    assert all(centred < 1e-6 and complex_step < 1e-10 for centred, complex_step in errors.values())


def test_a_wrong_gradient_is_caught():
    net, x, y, state = small_case()
    _, grads, _ = lstm.loss_and_gradients(net, x, y, state)
    complex_step = lstm.complex_step_gradients(net, x, y, state)
    grads.W[1, 2] *= 1.001
    assert rnnlib.relative_error(grads.W, complex_step.W) > 1e-4


def test_init_names_its_arrays_and_has_the_issues_size():
    net = lstm.init(80, 45, rng=0)
    assert net.theta.size == 26_360 and list(net) == ["b", "c", "U", "W", "V"]
    assert {name: a.shape for name, a in net.items()} == {"b": (180,), "c": (80,), "U": (180, 80),
                                                          "W": (180, 45), "V": (80, 45)}
    assert net.W is net["W"] and np.shares_memory(net.W, net.theta)
    assert not net.b.any() and not net.c.any() and net.U.std() == pytest.approx(rnnlib.SIGMA, rel=0.05)
    np.testing.assert_array_equal(lstm.init(80, 45, rng=0).theta, net.theta)
    assert not np.array_equal(lstm.init(80, 45, rng=1).theta, net.theta)


def test_the_gates_saturate_without_overflow():
    z = np.array([-1e4, -30.0, -1.0, 0.0, 2.0, 30.0, 1e4])
    with np.errstate(over="raise", invalid="raise"):
        gates = lstm.sigmoid(z)
    assert gates[0] == 0.0 and gates[-1] == 1.0 and gates[3] == 0.5
    np.testing.assert_allclose(gates[1:-1], 1 / (1 + np.exp(-z[1:-1])), rtol=0, atol=2e-16)  # a rounding or two


def test_a_pickled_lstm_keeps_its_arrays_views_of_theta():
    net = lstm.init(6, 4, rng=0)
    again = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(again.theta, net.theta)
    again.theta[:] = 1.0
    assert (again.W == 1.0).all() and (again["b"] == 1.0).all() and not (net.W == 1.0).any()


def test_the_state_carries_a_sequence_on():
    net, x, y, state = small_case(n=12)
    L, _, (h, c) = lstm.loss_and_gradients(net, x, y, state)
    L1, _, middle = lstm.loss_and_gradients(net, x[:5], y[:5], state)
    L2, _, (h2, c2) = lstm.loss_and_gradients(net, x[5:], y[5:], middle)
    assert L == pytest.approx(L1 + L2, rel=1e-12) and L == pytest.approx(lstm.loss(net, x, y, state), rel=1e-12)
    np.testing.assert_allclose(h2, h, rtol=1e-12)
    np.testing.assert_allclose(c2, c, rtol=1e-12)
    _, H, C = lstm.states(net, x, state)
    np.testing.assert_array_equal(H[-1], h)
    np.testing.assert_allclose(H[1:], lstm.sigmoid(lstm.states(net, x, state)[0][:, 8:12]) * np.tanh(C[1:]))


def test_bits_per_char_is_the_loss_of_the_whole_text_in_bits():
    net = lstm.init(CORPUS.K, 5, sigma=0.3, rng=2)
    x = CORPUS.data[:60]
    whole = lstm.loss(net, x[:-1], x[1:], net.zero_state()) / 59 / math.log(2)
    assert lstm.bits_per_char(net, x, chunk=7) == pytest.approx(whole, rel=1e-12)
    state = (np.full(5, 0.3), np.full(5, -0.2))
    from_state = lstm.loss(net, x[:-1], x[1:], state) / 59 / math.log(2)
    assert lstm.bits_per_char(net, x, state, chunk=7) == pytest.approx(from_state, rel=1e-12) != whole


class RNN(rnnlib.RNN):
    """rnnlib's network, with the zero state lstm.train starts each epoch from."""

    def zero_state(self):
        return np.zeros(self.m)


def test_its_training_loop_is_rnnlibs_on_the_rnn_bit_for_bit():
    updates = 3 * rnnlib.updates_per_epoch(len(CORPUS.data), 10) + 4  # over epoch ends
    ours, theirs = RNN.init(CORPUS.K, 8, rng=3), rnnlib.RNN.init(CORPUS.K, 8, rng=3)
    history = lstm.train(ours, CORPUS, updates=updates, seq_length=10, eta=0.3, clip=0.5,
                         loss_and_gradients=lambda rnn, x, y, h: rnnlib.loss_and_gradients(rnn, x, y, h))
    expected = rnnlib.train(theirs, CORPUS, updates=updates, seq_length=10, eta=0.3, clip=0.5, sample_every=None,
                            progress=False)
    np.testing.assert_array_equal(history.smooth_loss, expected.smooth_loss)
    np.testing.assert_array_equal(ours.theta, theirs.theta)
    np.testing.assert_array_equal(history.best.theta, expected.best.theta)
    assert history.best_update == expected.best_update


def test_training_lowers_the_loss_and_calls_on_update():
    net, seen = lstm.init(CORPUS.K, 16, rng=0), []
    history = lstm.train(net, CORPUS, updates=300, eta=0.1, on_update=lambda u, n: seen.append(u))
    assert seen == list(range(1, 301)) and history.smooth_loss.shape == (300,)
    assert history.smooth_loss[-1] < 0.8 * history.smooth_loss[0]
    assert history.best_loss == history.smooth_loss.min() == history.smooth_loss[history.best_update]
    before, one = lstm.init(CORPUS.K, 16, rng=0), lstm.init(CORPUS.K, 16, rng=0)
    _, _, (h, c) = lstm.loss_and_gradients(before, *rnnlib.sequence_at(CORPUS.data, 0, 25), before.zero_state())
    carried = lstm.train(one, CORPUS, updates=1).state  # the state the one update carried out
    np.testing.assert_array_equal(carried[0], h)
    np.testing.assert_array_equal(carried[1], c)


def test_synthesis_is_seeded_and_in_range():
    net = lstm.init(CORPUS.K, 6, sigma=0.5, rng=4)
    Y = lstm.synthesize(net, net.zero_state(), 0, 200, temperature=0.8, rng=5)
    assert Y.shape == (200,) and Y.min() >= 0 and Y.max() < CORPUS.K and len(set(Y.tolist())) > 3
    np.testing.assert_array_equal(Y, lstm.synthesize(net, net.zero_state(), 0, 200, temperature=0.8, rng=5))
    cold = lstm.synthesize(net, net.zero_state(), 0, 50, temperature=1e-3, rng=6)
    P = rnnlib.softmax(lstm.states(net, [0], net.zero_state())[1][1:] @ net.V.T + net.c)
    assert cold[0] == P.argmax()


def test_generate_runs_the_prime_through_the_network_then_draws_from_its_state():
    net, prime = lstm.init(CORPUS.K, 6, sigma=0.5, rng=4), CORPUS.text[:10]
    x = CORPUS.encode(prime)
    _, H, C = lstm.states(net, x[:-1], net.zero_state())
    drawn = lstm.synthesize(net, (H[-1], C[-1]), int(x[-1]), 30, temperature=0.8, rng=5)
    assert lstm.generate(net, CORPUS, 30, temperature=0.8, prime=prime, rng=5) == CORPUS.decode(drawn)
    from_zeros = lstm.synthesize(net, net.zero_state(), int(x[-1]), 30, temperature=0.8, rng=5)
    assert CORPUS.decode(from_zeros) != CORPUS.decode(drawn)  # the prime's first characters set the state


def test_run_trains_on_the_first_part_and_measures_the_rest():
    result = lstm.run(8, 0, 50, TEXT)
    assert result.history.smooth_loss.shape == (50,) and result.seconds > 0
    train_part, rest = CORPUS.split(0.9)
    assert rnnlib.updates_per_epoch(len(train_part), 25) == 9 and len(rest) == 25
    state = result.history.state
    assert result.held_out_bpc == pytest.approx(lstm.bits_per_char(result.net, rest.data, state), rel=1e-12)
    assert result.held_out_from_zeros == pytest.approx(lstm.bits_per_char(result.net, rest.data), rel=1e-12)
    end = (49 % 9 + 1) * 25 + 1                 # 9 updates an epoch: update 50 is the 5th of the 6th epoch
    assert result.training_bpc == pytest.approx(
        lstm.bits_per_char(result.net, train_part.data[end - len(rest.data):end], state), rel=1e-12)


def test_last_read_is_the_text_the_last_updates_read():
    data = np.arange(101)                       # 4 updates of 25 an epoch
    np.testing.assert_array_equal(lstm.last_read(data, 2, 25, 30), np.arange(21, 51))
    np.testing.assert_array_equal(lstm.last_read(data, 6, 25, 100), np.arange(0, 51))  # the second epoch's start
    np.testing.assert_array_equal(lstm.last_read(data, 4, 25, 10), np.arange(91, 101))


@pytest.mark.parametrize("call, message", [
    (lambda net: lstm.loss_and_gradients(net, [0, 1], [1], net.zero_state()), "one length"),
    (lambda net: lstm.loss_and_gradients(net, [0, 9], [1, 2], net.zero_state()), r"\[0, 6\)"),
    (lambda net: lstm.loss_and_gradients(net, [0, 1], [1, 2], np.zeros(4)), r"the pair \(h, c\)"),
    (lambda net: lstm.init(6, 0), "m must be a positive integer"),
    (lambda net: lstm.train(net, CORPUS, updates=0), "updates must be a positive integer"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call(lstm.init(6, 4, rng=0))
