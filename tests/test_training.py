import math
import pickle

import numpy as np
import pytest

import plain_rnn
import rnnlib
from rnnlib import RNN, AdaGrad


def plain_training(rnn, data, seq_length, eta, updates, clip=5):
    """The assignment's training loop written out plainly: returns parameters, smooth losses,
    and for each update the number of entries of db, dc, dU, dW, dV beyond 5 (or clip)."""
    params = [rnn[name].copy() for name in "bcUWV"]
    memory = [np.zeros_like(p) for p in params]
    n_per_epoch = (len(data) - 1) // seq_length
    smooth, losses, clipped = None, [], []
    for update in range(updates):
        e = (update % n_per_epoch) * seq_length
        if e == 0:
            h = np.zeros(rnn.m)
        x, y = data[e:e + seq_length].tolist(), data[e + 1:e + seq_length + 1].tolist()
        loss, grads, h = plain_rnn.loss_and_gradients(*params, x, y, h)
        smooth = loss if smooth is None else 0.999 * smooth + 0.001 * loss
        losses.append(smooth)
        clipped.append([int(np.sum(np.abs(g) > (5 if clip is None else clip))) for g in grads])
        plain_rnn.adagrad_update(params, list(grads), memory, eta=eta, clip=clip)
    return params, losses, clipped


def test_training_matches_the_plain_loop_across_epoch_boundaries(small_corpus):
    rnn = RNN.init(small_corpus.K, m=16, sigma=0.1, rng=3)
    per_epoch = rnnlib.updates_per_epoch(len(small_corpus.data), 10)
    updates = 3 * per_epoch + 2
    expected_params, expected_losses, _ = plain_training(rnn, small_corpus.data, 10, 0.1, updates)
    history = rnnlib.train(rnn, small_corpus, updates=updates, seq_length=10, sample_every=None,
                           progress=False)
    assert history.updates == updates and history.updates_per_epoch == per_epoch
    np.testing.assert_allclose(history.smooth_loss, expected_losses, rtol=1e-10)
    for name, expected in zip("bcUWV", expected_params):
        np.testing.assert_allclose(rnn[name], expected, rtol=1e-8, atol=1e-12)


def test_a_large_vocabulary_trains_on_sparse_gradients_bit_for_bit_as_on_dense_ones(large_corpus, monkeypatch):
    real, asked = rnnlib.loss_and_gradients, []

    def note_the_gradients(rnn, x, y, h0, **kwargs):
        loss, grads, h = real(rnn, x, y, h0, **kwargs)
        asked.append((x, grads.cols))
        return loss, grads, h

    monkeypatch.setattr(rnnlib, "loss_and_gradients", note_the_gradients)
    rnn = RNN.init(large_corpus.K, m=16, sigma=0.1, rng=3)
    dense_rnn, optimiser = rnn.copy(), AdaGrad()
    per_epoch = rnnlib.updates_per_epoch(len(large_corpus.data), 10)
    updates = per_epoch + 5  # across an epoch boundary
    history = rnnlib.train(rnn, large_corpus, updates=updates, seq_length=10, sample_every=None, progress=False)
    assert len(asked) == updates and all(np.array_equal(cols, np.unique(x)) for x, cols in asked)
    monkeypatch.setattr(rnnlib, "loss_and_gradients", real)
    smooth, h = [], None
    for update in range(updates):  # the same updates, with dense gradients
        e = (update % per_epoch) * 10
        h = np.zeros(16) if e == 0 else h
        loss, grads, h = rnnlib.loss_and_gradients(dense_rnn, *rnnlib.sequence_at(large_corpus.data, e, 10), h)
        optimiser.step(dense_rnn, rnnlib.clip_gradients(grads))
        smooth.append(loss if update == 0 else 0.999 * smooth[-1] + 0.001 * loss)
    assert np.array_equal(rnn.theta, dense_rnn.theta) and np.array_equal(history.smooth_loss, smooth)


def test_the_assignments_vocabulary_trains_on_dense_gradients(small_corpus, monkeypatch):
    """K = 80 (here fewer) against seq_length = 25: gathering columns would cost more than it saves."""
    real, asked = rnnlib.loss_and_gradients, []

    def note_the_gradients(*args, **kwargs):
        loss, grads, h = real(*args, **kwargs)
        asked.append(grads.cols)
        return loss, grads, h

    monkeypatch.setattr(rnnlib, "loss_and_gradients", note_the_gradients)
    rnnlib.train(RNN.init(small_corpus.K, m=8), small_corpus, updates=5, progress=False)
    assert asked == [None] * 5


def test_epochs_count_updates_as_the_assignment_does(small_corpus):
    n = len(small_corpus.data)
    per_epoch = (n - 1) // 25
    assert rnnlib.updates_per_epoch(n, 25) == per_epoch
    history = rnnlib.train(RNN.init(small_corpus.K, m=8), small_corpus, epochs=2, progress=False)
    assert history.updates == 2 * per_epoch
    history = rnnlib.train(RNN.init(small_corpus.K, m=8), small_corpus, epochs=2, updates=3,
                           progress=False)
    assert history.updates == 3  # whichever comes first
    assert rnnlib.updates_per_epoch(1_107_542, 25) * 4 == 177_204  # the book's four epochs


def own_losses(smooth_loss):
    """Each update's own loss, recovered by undoing smooth = 0.999 smooth + 0.001 loss."""
    return np.concatenate([smooth_loss[:1], (smooth_loss[1:] - 0.999 * smooth_loss[:-1]) / 0.001])


def test_the_loss_falls_and_the_smooth_loss_follows_its_recurrence(small_corpus):
    rnn = RNN.init(small_corpus.K, m=32, rng=0)
    history = rnnlib.train(rnn, small_corpus, epochs=40, progress=False, sample_every=None)
    start = 25 * math.log(small_corpus.K)  # the loss of a uniform guess
    assert history.smooth_loss[0] == pytest.approx(start, rel=1e-3)
    losses = own_losses(history.smooth_loss)
    assert losses.min() > 0 and losses[-20:].mean() < 0.2 * start
    assert np.all(np.diff(history.smooth_loss[50:]) < 0)


def test_best_is_the_model_that_gave_the_lowest_smooth_loss(small_corpus):
    history = rnnlib.train(RNN.init(small_corpus.K, m=16, rng=0), small_corpus, updates=300,
                           progress=False, sample_every=None)
    assert history.best_loss == history.smooth_loss.min()
    assert history.best_update == int(history.smooth_loss.argmin())
    # The parameters of update k are those after k AdaGrad steps: replay to best_update.
    replay = RNN.init(small_corpus.K, m=16, rng=0)
    rnnlib.train(replay, small_corpus, updates=history.best_update, progress=False, sample_every=None)
    assert np.array_equal(replay.theta, history.best.theta)


def test_samples_every_n_updates_from_update_zero(small_corpus):
    history = rnnlib.train(RNN.init(small_corpus.K, m=8), small_corpus, updates=25,
                           sample_every=10, sample_length=30, progress=False, rng=5)
    assert sorted(history.samples) == [0, 10, 20]
    assert all(len(text) == 30 and set(text) <= set(small_corpus.chars)
               for text in history.samples.values())
    again = rnnlib.train(RNN.init(small_corpus.K, m=8), small_corpus, updates=25,
                         sample_every=10, sample_length=30, progress=False, rng=5)
    assert again.samples == history.samples


def test_on_update_sees_every_whole_update_once(tmp_path, small_corpus, monkeypatch):
    real, losses, seen = rnnlib.loss_and_gradients, [], []

    def counted(*args, **kwargs):
        losses.append(1)
        return real(*args, **kwargs)

    def hook(state):  # after update state.update - 1, before the next update's loss
        seen.append((state.update, len(losses), state.history.updates, state.rnn.theta.copy(),
                     state.history.samples.get(state.update - 1)))

    monkeypatch.setattr(rnnlib, "loss_and_gradients", counted)
    settings = dict(sample_every=10, sample_length=30, progress=False, rng=5)
    rnn = RNN.init(small_corpus.K, m=8)
    history = rnnlib.train(rnn, small_corpus, updates=25, on_update=hook, **settings)
    assert [(u, n, h) for u, n, h, *_ in seen] == [(u, u, u) for u in range(1, 26)]
    assert np.array_equal(seen[-1][3], rnn.theta) and not np.array_equal(seen[0][3], seen[-1][3])
    assert {u - 1: text for u, *_, text in seen if text is not None} == history.samples
    # resumed: only the updates done from now on, the same parameters as in one run
    path, first = tmp_path / "run.npz", seen[:]
    seen[:] = []
    rnnlib.train(RNN.init(small_corpus.K, m=8), small_corpus, updates=12, checkpoint=path, **settings)
    seen[:] = []
    _, resumed = rnnlib.resume(path, small_corpus, updates=25, progress=False, on_update=hook)
    assert [u for u, *_ in seen] == list(range(13, 26)) and resumed.samples == history.samples
    assert all(np.array_equal(a[3], b[3]) for a, b in zip(seen, first[12:]))


def test_float32_training(small_corpus):
    rnn = RNN.init(small_corpus.K, m=16, rng=0, dtype=np.float32)
    history = rnnlib.train(rnn, small_corpus, epochs=10, progress=False)
    assert rnn.dtype == np.float32 and history.best.dtype == np.float32
    assert own_losses(history.smooth_loss)[-20:].mean() < 0.5 * history.smooth_loss[0]


def test_progress_bar_shows_the_smooth_loss_and_can_be_silenced(small_corpus, capsys):
    rnnlib.train(RNN.init(small_corpus.K, m=8), small_corpus, updates=150, progress=True)
    err = capsys.readouterr().err
    assert "150/150" in err and "smooth_loss=" in err
    rnnlib.train(RNN.init(small_corpus.K, m=8), small_corpus, updates=150, progress=False)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("kwargs, message", [
    ({"updates": 10, "seq_length": 0}, "seq_length must be a positive integer"),
    ({"updates": 10, "eta": 0.0}, "eta must be a positive finite number"),
    ({"updates": 10, "eta": float("inf")}, "eta must be a positive finite number"),
    ({"epochs": 0}, "epochs must be a positive integer"),
    ({"updates": -1}, "updates must be a positive integer"),
    ({"epochs": 1.5}, "epochs must be a positive integer"),
    ({}, "give epochs=N or updates=N"),
    ({"updates": 10, "sample_every": 0}, "sample_every must be a positive integer"),
    ({"updates": 10, "clip": 0}, "clip must be a positive finite number, not 0"),
    ({"updates": 10, "clip": -5.0}, "clip must be a positive finite number, not -5.0"),
    ({"updates": 10, "clip": "5"}, "clip must be a positive finite number, not '5'"),
])
def test_bad_settings_are_refused(small_corpus, kwargs, message):
    with pytest.raises(ValueError, match=message):
        rnnlib.train(RNN.init(small_corpus.K, m=4), small_corpus, progress=False, **kwargs)


def test_a_text_shorter_than_one_sequence_is_refused():
    corpus = rnnlib.Corpus("too short", source="tiny.txt")
    with pytest.raises(ValueError, match=r"tiny\.txt\) has 9 characters, fewer than seq_length \+ 1 = 26"):
        rnnlib.train(RNN.init(corpus.K, m=4), corpus, epochs=1, progress=False)


def test_a_network_for_another_vocabulary_is_refused(small_corpus):
    with pytest.raises(ValueError, match=r"K = 3 outputs but the corpus has K = "):
        rnnlib.train(RNN.init(3, m=4), small_corpus, epochs=1, progress=False)


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log:RuntimeWarning")
def test_a_non_finite_loss_stops_training_and_keeps_what_was_done(small_corpus):
    rnn = RNN.init(small_corpus.K, m=8, rng=0)
    rnnlib.train(rnn, small_corpus, updates=5, progress=False)
    rnn.V[:] *= 1e6  # every prediction certain, and mostly wrong: an infinite loss
    before = rnn.copy()
    with pytest.raises(FloatingPointError, match="loss at update 0 is inf") as caught:
        rnnlib.train(rnn, small_corpus, updates=10, progress=False)
    assert caught.value.history.updates == 0
    assert np.array_equal(rnn.theta, before.theta)


def test_a_divergence_part_way_keeps_the_history_so_far(small_corpus, monkeypatch):
    real = rnnlib.loss_and_gradients
    calls = []

    def nan_at_update_7(rnn, x, y, h0, **kwargs):
        calls.append(1)
        loss, grads, h = real(rnn, x, y, h0, **kwargs)
        return (math.nan if len(calls) == 8 else loss), grads, h

    monkeypatch.setattr(rnnlib, "loss_and_gradients", nan_at_update_7)
    with pytest.raises(FloatingPointError, match="update 7 is nan") as caught:
        rnnlib.train(RNN.init(small_corpus.K, m=8), small_corpus, updates=20, progress=False)
    history = caught.value.history
    assert history.updates == 7 and np.isfinite(history.smooth_loss).all()
    assert history.best_update < 7


def test_adagrad_is_the_assignments_update():
    rnn = RNN.init(2, m=1, sigma=1.0, rng=0)
    grads = rnnlib.Params(1, 2)
    grads.theta[:] = np.arange(1, rnn.theta.size + 1) / 10
    theta0 = rnn.theta.copy()
    optimiser = AdaGrad(eta=0.5)
    optimiser.step(rnn, grads)
    optimiser.step(rnn, grads)
    g = grads.theta
    G1, G2 = g ** 2, 2 * g ** 2
    expected = theta0 - 0.5 * g / np.sqrt(G1 + 1e-8) - 0.5 * g / np.sqrt(G2 + 1e-8)
    np.testing.assert_allclose(rnn.theta, expected, rtol=1e-15)
    np.testing.assert_array_equal(optimiser.G, G2)


def test_clipping_and_adagrad_on_sparse_gradients_are_the_dense_forms_bit_for_bit(rng):
    """A column of U without a gradient is left exactly as it is, by the dense forms too."""
    m, K = 6, 40
    sparse_rnn = RNN.init(K, m=m, sigma=0.5, rng=0)
    dense_rnn, sparse_optimiser, dense_optimiser = sparse_rnn.copy(), AdaGrad(), AdaGrad()
    for _ in range(6):
        cols = np.unique(rng.integers(0, K, 8))
        sparse = rnnlib.Params(m, K, cols=cols)
        sparse.theta[:] = rng.normal(0.0, 4.0, sparse.theta.shape)  # some beyond the clipping limit
        dense = rnnlib.Params(m, K)
        for name in "bcWV":
            dense[name][...] = sparse[name]
        dense.U[:, cols] = sparse.U
        sparse_optimiser.step(sparse_rnn, rnnlib.clip_gradients(sparse))
        dense_optimiser.step(dense_rnn, rnnlib.clip_gradients(dense))
        assert np.array_equal(sparse.U, dense.U[:, cols])
        assert np.array_equal(sparse_rnn.theta, dense_rnn.theta)
        assert np.array_equal(sparse_optimiser.G, dense_optimiser.G)


def test_clipping_is_elementwise_to_plus_minus_five():
    grads = rnnlib.Params(1, 2)
    grads.theta[:] = [-7.0, 0.5, 5.0, 9.0, -5.5, 1.0, 2.0, -1e300]
    rnnlib.clip_gradients(grads)
    assert grads.theta.tolist() == [-5.0, 0.5, 5.0, 5.0, -5.0, 1.0, 2.0, -5.0]


def test_clipped_counts_the_entries_beyond_the_limit_per_array():
    grads = rnnlib.Params(1, 2)  # b (1,), c (2,), U (1, 2), W (1, 1), V (2, 1)
    grads.theta[:] = [-7.0, 0.5, 5.0, 9.0, -5.5, 1.0, 2.0, -1e300]
    assert rnnlib.clipped_counts(grads).tolist() == [1, 0, 2, 0, 1]
    assert rnnlib.clipped_counts(grads, limit=1.5).tolist() == [1, 1, 2, 0, 2]


@pytest.mark.parametrize("vocabulary", ["small", "large"])  # large: K > 4 seq_length, sparse dU
@pytest.mark.parametrize("clip", [5, 2.5, None])
def test_training_counts_and_clips_as_the_plain_loop_does(small_corpus, large_corpus, vocabulary, clip):
    corpus = small_corpus if vocabulary == "small" else large_corpus
    rnn = RNN.init(corpus.K, m=16, sigma=0.3, rng=3)
    updates = rnnlib.updates_per_epoch(len(corpus.data), 25) + 3  # across an epoch boundary
    expected_params, expected_losses, expected_clipped = plain_training(rnn, corpus.data, 25, 0.1, updates, clip)
    history = rnnlib.train(rnn, corpus, updates=updates, sample_every=None, progress=False, clip=clip)
    assert history.clipped.shape == (updates, 5) and history.clipped.dtype.kind == "i"
    assert history.clipped.tolist() == expected_clipped
    assert (history.clipped.sum(axis=0) > 0).sum() >= 3  # b, c, U, W or V: the counts are not all zeros
    np.testing.assert_allclose(history.smooth_loss, expected_losses, rtol=1e-10)
    for name, expected in zip("bcUWV", expected_params):  # AdaGrad's first steps magnify rounding
        np.testing.assert_allclose(rnn[name], expected, rtol=1e-6, atol=1e-9)


def test_a_history_and_a_training_state_hold_only_their_declared_fields(small_corpus, tmp_path):
    history = rnnlib.train(RNN.init(small_corpus.K, m=4), small_corpus, updates=3, progress=False,
                           checkpoint=tmp_path / "run.npz")
    state = rnnlib.load_checkpoint(tmp_path / "run.npz")
    for record in (history, state):
        with pytest.raises(AttributeError):
            record.train_bpc = {}  # a notebook's own measure belongs in its own object
    again = pickle.loads(pickle.dumps(history))  # as a worker sends it back
    assert np.array_equal(again.smooth_loss, history.smooth_loss) and again.best_update == history.best_update
