"""Checkpoints, bit-exact resume, interrupts, and checkpoint files that are not what they seem."""

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnlib
from rnnlib import RNN

SETTINGS = dict(seq_length=25, sample_every=5, sample_length=30, progress=False)


def fresh(corpus, seed=0):
    return RNN.init(corpus.K, m=12, sigma=0.1, rng=seed)


def assert_same_run(a_rnn, a_history, b_rnn, b_history):
    """Bit for bit: parameters, smooth losses, clipping counts, samples and the best model."""
    assert np.array_equal(a_rnn.theta, b_rnn.theta)
    assert np.array_equal(a_history.smooth_loss, b_history.smooth_loss)
    assert np.array_equal(a_history.clipped, b_history.clipped) and a_history.clipped.dtype == np.int64
    assert a_history.samples == b_history.samples
    assert np.array_equal(a_history.best.theta, b_history.best.theta)
    assert (a_history.best_loss, a_history.best_update) == (b_history.best_loss, b_history.best_update)


@pytest.fixture
def uninterrupted(small_corpus):
    rnn = fresh(small_corpus)
    history = rnnlib.train(rnn, small_corpus, updates=35, rng=7, **SETTINGS)
    return rnn, history


def test_a_checkpoint_holds_the_whole_state(tmp_path, small_corpus):
    path = tmp_path / "run.npz"
    rnn = fresh(small_corpus)
    history = rnnlib.train(rnn, small_corpus, updates=13, rng=7, checkpoint=path, checkpoint_every=5,
                           **SETTINGS)
    ckpt = rnnlib.load_checkpoint(path)
    per_epoch = rnnlib.updates_per_epoch(len(small_corpus.data), 25)
    assert (ckpt.update, ckpt.total, ckpt.checkpoint_every, ckpt.seq_length) == (13, 13, 5, 25)
    assert (ckpt.epoch, ckpt.e) == (13 // per_epoch, (13 % per_epoch) * 25)
    assert ckpt.chars == small_corpus.chars and ckpt.source == "pangrams"
    assert np.array_equal(ckpt.rnn.theta, rnn.theta) and np.array_equal(ckpt.best.theta, history.best.theta)
    assert np.array_equal(ckpt.history.smooth_loss, history.smooth_loss)
    assert np.array_equal(ckpt.history.clipped, history.clipped) and ckpt.history.clipped.any() and ckpt.clip == 5
    assert ckpt.history.samples == history.samples and ckpt.best_update == history.best_update
    assert ckpt.optimiser.eta == 0.1 and ckpt.optimiser.G.shape == rnn.theta.shape
    assert ckpt.smooth == history.smooth_loss[-1]
    assert "update 13 of 13" in repr(ckpt)
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("first", [3, 10, 17])  # inside the first epoch, at its end, in the second
def test_resume_is_bit_for_bit_an_uninterrupted_run(tmp_path, small_corpus, uninterrupted, first):
    path = tmp_path / "run.npz"
    rnnlib.train(fresh(small_corpus), small_corpus, updates=first, rng=7, checkpoint=path,
                 checkpoint_every=4, **SETTINGS)
    rnn, history = rnnlib.resume(path, small_corpus, updates=35, progress=False)
    assert_same_run(rnn, history, *uninterrupted)
    assert rnnlib.load_checkpoint(path).update == 35


def test_resume_in_several_steps_and_to_the_original_total(tmp_path, small_corpus, uninterrupted):
    path = tmp_path / "run.npz"
    rnn = fresh(small_corpus)
    with pytest.raises(FloatingPointError):
        calls = []
        real = rnnlib.loss_and_gradients

        def nan_at_21(*args, **kwargs):
            calls.append(1)
            loss, grads, h = real(*args, **kwargs)
            return (math.nan if len(calls) == 22 else loss), grads, h

        rnnlib.loss_and_gradients = nan_at_21
        try:
            rnnlib.train(rnn, small_corpus, updates=35, rng=7, checkpoint=path, checkpoint_every=6,
                         **SETTINGS)
        finally:
            rnnlib.loss_and_gradients = real
    assert rnnlib.load_checkpoint(path).update == 18  # the last good checkpoint stayed
    rnnlib.resume(path, small_corpus, updates=26, progress=False)
    rnn, history = rnnlib.resume(path, small_corpus, updates=35, progress=False)
    assert_same_run(rnn, history, *uninterrupted)


@pytest.mark.parametrize("vocabulary, dtype", [("small", np.float32), ("large", np.float64), ("large", np.float32)])
def test_resume_is_bit_exact_in_float32_and_on_sparse_gradients(tmp_path, small_corpus, large_corpus, vocabulary,
                                                                dtype):
    corpus = small_corpus if vocabulary == "small" else large_corpus  # large: K > 4 seq_length, sparse dU

    def start():
        return RNN.init(corpus.K, m=12, sigma=0.1, rng=0, dtype=dtype)

    rnn = start()
    history = rnnlib.train(rnn, corpus, updates=30, rng=7, **SETTINGS)
    path = tmp_path / "run.npz"
    rnnlib.train(start(), corpus, updates=11, rng=7, checkpoint=path, **SETTINGS)
    state = rnnlib.load_checkpoint(path)
    assert state.rnn.dtype == state.best.dtype == state.optimiser.G.dtype == state.h.dtype == dtype
    resumed, resumed_history = rnnlib.resume(path, corpus, updates=30, progress=False)
    assert resumed.dtype == dtype
    assert_same_run(resumed, resumed_history, rnn, history)


def test_a_run_without_clipping_resumes_without_clipping(tmp_path, small_corpus):
    rnn = RNN.init(small_corpus.K, m=12, sigma=0.3, rng=0)
    history = rnnlib.train(rnn, small_corpus, updates=30, rng=7, clip=None, **SETTINGS)
    clipped = RNN.init(small_corpus.K, m=12, sigma=0.3, rng=0)
    rnnlib.train(clipped, small_corpus, updates=30, rng=7, **SETTINGS)
    assert history.clipped.any() and not np.array_equal(rnn.theta, clipped.theta)  # clipping mattered here
    path = tmp_path / "run.npz"
    rnnlib.train(RNN.init(small_corpus.K, m=12, sigma=0.3, rng=0), small_corpus, updates=11, rng=7, clip=None,
                 checkpoint=path, **SETTINGS)
    assert rnnlib.load_checkpoint(path).clip is None
    assert_same_run(*rnnlib.resume(path, small_corpus, updates=30, progress=False), rnn, history)


def test_a_checkpoint_from_before_the_counts_resumes_with_them_unknown(tmp_path, small_corpus, uninterrupted):
    path = tmp_path / "run.npz"
    rnnlib.train(fresh(small_corpus), small_corpus, updates=10, rng=7, checkpoint=path, **SETTINGS)
    rewrite(path, clipped=None, clip=None)  # as rnnlib wrote it before counting
    state = rnnlib.load_checkpoint(path)
    assert state.clip == 5 and state.history.clipped.shape == (10, 5) and (state.history.clipped == -1).all()
    _, history = rnnlib.resume(path, small_corpus, updates=35, progress=False)
    assert (history.clipped[:10] == -1).all()
    assert np.array_equal(history.clipped[10:], uninterrupted[1].clipped[10:])
    assert np.array_equal(history.smooth_loss, uninterrupted[1].smooth_loss)
    saved = rnnlib.load_checkpoint(path).history.clipped  # resume saved it again: the -1s come back as -1
    assert saved.dtype == np.int64 and np.array_equal(saved, history.clipped)


def test_unknown_counts_saved_unsigned_by_an_earlier_rnnlib_load_as_unknown(good_checkpoint):
    """rnnlib saved the counts unsigned for a while: a resumed old checkpoint's -1 became 65535."""
    counts = rnnlib.load_checkpoint(good_checkpoint).history.clipped
    damaged = counts.astype(np.uint16)
    damaged[:3] = 65535
    rewrite(good_checkpoint, clipped=damaged)
    loaded = rnnlib.load_checkpoint(good_checkpoint).history.clipped
    assert (loaded[:3] == -1).all() and np.array_equal(loaded[3:], counts[3:])


def test_resume_counts_epochs_like_train(tmp_path, small_corpus):
    path = tmp_path / "run.npz"
    per_epoch = rnnlib.updates_per_epoch(len(small_corpus.data), 25)
    rnnlib.train(fresh(small_corpus), small_corpus, epochs=1, rng=7, checkpoint=path, **SETTINGS)
    _, history = rnnlib.resume(path, small_corpus, epochs=3, progress=False)
    assert history.updates == 3 * per_epoch


def test_an_interrupt_stops_cleanly_and_the_run_resumes_exactly(tmp_path, small_corpus, uninterrupted,
                                                                monkeypatch, interrupt_on_call):
    path = tmp_path / "run.npz"
    real = rnnlib.loss_and_gradients
    interrupt_on_call(13)  # in update 12
    rnn = fresh(small_corpus)
    with pytest.raises(KeyboardInterrupt, match=r"Interrupted after update 12 of 35: the run so far is saved in "
                                                r".*run\.npz") as stopped:
        rnnlib.train(rnn, small_corpus, updates=35, rng=7, checkpoint=path, checkpoint_every=100, **SETTINGS)
    history = stopped.value.history  # the caller stops too, with what was done
    assert history.interrupted and history.updates == 12
    # In IPython: three lines, no traceback, the last the statement that continues the notebook.
    assert stopped.value._render_traceback_() == [
        f"Interrupted after update 12 of 35: the run so far is saved in {path}.",
        "To continue it (to the same end, bit for bit), then the cells below:",
        f"    rnn, history = rnnlib.resume({str(path)!r}, corpus)"]
    assert np.isfinite(history.best_loss) and history.best_update < 12
    assert rnnlib.load_checkpoint(path).update == 12
    monkeypatch.setattr(rnnlib, "loss_and_gradients", real)
    rnn, history = rnnlib.resume(path, small_corpus, progress=False)
    assert not history.interrupted
    assert_same_run(rnn, history, *uninterrupted)


def test_an_interrupt_before_the_first_update_still_leaves_a_checkpoint(tmp_path, small_corpus, interrupt_on_call):
    interrupt_on_call(1)
    with pytest.raises(KeyboardInterrupt) as stopped:
        rnnlib.train(fresh(small_corpus), small_corpus, updates=35, checkpoint=tmp_path / "r.npz", **SETTINGS)
    assert stopped.value.history.interrupted and stopped.value.history.updates == 0
    assert rnnlib.load_checkpoint(tmp_path / "r.npz").update == 0


def test_an_interrupt_without_a_checkpoint_says_there_is_nothing_to_resume(small_corpus, interrupt_on_call):
    interrupt_on_call(4)  # in update 3
    with pytest.raises(KeyboardInterrupt, match="after update 3 of 35: no checkpoint was asked for") as stopped:
        rnnlib.train(fresh(small_corpus), small_corpus, updates=35, **SETTINGS)
    assert stopped.value.history.updates == 3


@pytest.fixture
def sigint_default():
    """Python's own SIGINT handler for the test, whatever the test process inherited (a
    background job, for one, starts with SIGINT ignored)."""
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, inherited)


def test_ctrl_c_finishes_the_current_update_first(tmp_path, small_corpus, monkeypatch, sigint_default):
    """A real SIGINT arriving mid-update: that update completes, the checkpoint is written, and
    then KeyboardInterrupt stops the caller."""
    real, calls = rnnlib.loss_and_gradients, []

    def sigint_during_update_5(*args, **kwargs):
        calls.append(1)
        if len(calls) == 6:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)  # let the handler run here, in the middle of the update
        return real(*args, **kwargs)

    monkeypatch.setattr(rnnlib, "loss_and_gradients", sigint_during_update_5)
    with pytest.raises(KeyboardInterrupt) as stopped:
        rnnlib.train(fresh(small_corpus), small_corpus, updates=35, rng=7,
                     checkpoint=tmp_path / "run.npz", **SETTINGS)
    assert stopped.value.history.interrupted and stopped.value.history.updates == 6
    assert rnnlib.load_checkpoint(tmp_path / "run.npz").update == 6
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_a_second_ctrl_c_stops_at_once_and_writes_nothing(tmp_path, small_corpus, monkeypatch, sigint_default):
    real, calls = rnnlib.loss_and_gradients, []

    def two_sigints_in_update_5(*args, **kwargs):
        calls.append(1)
        if len(calls) == 6:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
        return real(*args, **kwargs)

    monkeypatch.setattr(rnnlib, "loss_and_gradients", two_sigints_in_update_5)
    with pytest.raises(KeyboardInterrupt) as stopped:
        rnnlib.train(fresh(small_corpus), small_corpus, updates=35, checkpoint=tmp_path / "run.npz",
                     checkpoint_every=2, **SETTINGS)
    assert not hasattr(stopped.value, "history")  # raised from inside update 5, not after it
    assert rnnlib.load_checkpoint(tmp_path / "run.npz").update == 4  # the last one written before
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_process_that_ignores_ctrl_c_keeps_ignoring_it(small_corpus, monkeypatch):
    real, during = rnnlib.loss_and_gradients, []

    def note_the_handler(*args, **kwargs):
        during.append(signal.getsignal(signal.SIGINT))
        return real(*args, **kwargs)

    monkeypatch.setattr(rnnlib, "loss_and_gradients", note_the_handler)
    inherited = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        history = rnnlib.train(fresh(small_corpus), small_corpus, updates=5, **SETTINGS)
    finally:
        signal.signal(signal.SIGINT, inherited)
    assert during == [signal.SIG_IGN] * 5 and not history.interrupted


def test_a_killed_training_process_resumes_to_the_same_parameters(tmp_path, small_corpus):
    """SIGKILL part-way through a run that checkpoints often; resume from what it left."""
    path = tmp_path / "run.npz"
    script = textwrap.dedent(f"""
        import rnnlib
        corpus = rnnlib.Corpus({small_corpus.text!r}, source="pangrams")
        rnn = rnnlib.RNN.init(corpus.K, m=12, sigma=0.1, rng=0)
        rnnlib.train(rnn, corpus, updates=10_000_000, rng=7, checkpoint={str(path)!r},
                     checkpoint_every=3, seq_length=25, sample_every=5, sample_length=30, progress=False)
    """)
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if path.exists() and rnnlib.load_checkpoint(path).update >= 300:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the training process wrote no checkpoint past update 300 in 60 s")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    done = rnnlib.load_checkpoint(path).update  # whatever moment it died, the file is whole
    target = done + 40
    rnn, history = rnnlib.resume(path, small_corpus, updates=target, progress=False)
    reference = fresh(small_corpus)
    reference_history = rnnlib.train(reference, small_corpus, updates=target, rng=7, **SETTINGS)
    assert_same_run(rnn, history, reference, reference_history)


# ---------------------------------------------------------------------------- bad checkpoint files


@pytest.fixture
def good_checkpoint(tmp_path, small_corpus):
    path = tmp_path / "good.npz"
    rnnlib.train(fresh(small_corpus), small_corpus, updates=8, rng=7, checkpoint=path, **SETTINGS)
    return path


def rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as f:
        fields = {name: f[name] for name in f.files}
    fields.update(changes)
    fields = {k: v for k, v in fields.items() if v is not None}
    with open(path, "wb") as f:
        np.savez(f, **fields)


def test_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no checkpoint at .*nothing\.npz: train with checkpoint="):
        rnnlib.load_checkpoint(tmp_path / "nothing.npz")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        rnnlib.load_checkpoint(tmp_path)


def test_truncated_checkpoint(good_checkpoint):
    data = good_checkpoint.read_bytes()
    for keep in (len(data) // 2, len(data) - 10, 100, 0):
        good_checkpoint.write_bytes(data[:keep])
        with pytest.raises(ValueError, match=r"good\.npz is not a readable checkpoint .*truncated"):
            rnnlib.load_checkpoint(good_checkpoint)


def test_a_file_that_is_not_an_npz(good_checkpoint):
    good_checkpoint.write_text("model weights, honest")
    with pytest.raises(ValueError, match="is not a readable checkpoint"):
        rnnlib.load_checkpoint(good_checkpoint)


def test_an_npz_that_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(ValueError, match=r"other\.npz is an \.npz file but not an rnnlib checkpoint"):
        rnnlib.load_checkpoint(path)


def test_a_pickled_object_is_never_loaded(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, format=np.array(rnnlib.CHECKPOINT_FORMAT), version=1,
             theta=np.array([{"pickled": "object"}], dtype=object))
    with pytest.raises(ValueError, match="not a readable checkpoint .*allow_pickle"):
        rnnlib.load_checkpoint(path)


def test_an_unknown_format_version(good_checkpoint):
    rewrite(good_checkpoint, version=np.array(99))
    with pytest.raises(ValueError, match="format version 99; this rnnlib reads version 1"):
        rnnlib.load_checkpoint(good_checkpoint)


@pytest.mark.parametrize("changes", [
    {"theta": np.zeros(5)},
    {"h": np.zeros(3)},
    {"smooth_loss": np.zeros(2)},
    {"rng": np.array("{not json")},
    {"rng": np.array(json.dumps({"bit_generator": "NoSuchGenerator"}))},
    {"chars": np.zeros(2, dtype="<u4")},
    {"update": None},
    {"clipped": np.zeros((3, 5), dtype=np.uint16)},
    {"clip": np.array(-5.0)},
])
def test_a_damaged_checkpoint_names_the_file(good_checkpoint, changes):
    rewrite(good_checkpoint, **changes)
    with pytest.raises(ValueError, match=r"good\.npz is a damaged checkpoint"):
        rnnlib.load_checkpoint(good_checkpoint)


def test_resuming_with_another_vocabulary(good_checkpoint, small_corpus):
    other = rnnlib.Corpus(small_corpus.text + "€", source="with euro")
    with pytest.raises(ValueError, match=r"vocabulary of \d+ characters \(pangrams\).*extra '€'"):
        rnnlib.resume(good_checkpoint, other, progress=False)


def test_resuming_when_the_totals_are_reached(good_checkpoint, small_corpus):
    with pytest.raises(ValueError, match=r"has done 8 updates already, and 8 were asked for"):
        rnnlib.resume(good_checkpoint, small_corpus, progress=False)
    with pytest.raises(ValueError, match=r"and 5 were asked for: ask for more"):
        rnnlib.resume(good_checkpoint, small_corpus, updates=5, progress=False)


def test_resuming_on_another_text_with_the_same_characters_warns(good_checkpoint, small_corpus):
    shuffled = rnnlib.Corpus(small_corpus.text[::-1], source="reversed")
    with pytest.warns(UserWarning, match="not the text .* was trained on"):
        rnnlib.resume(good_checkpoint, shuffled, updates=10, progress=False)


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory, small_corpus):
    path = tmp_path_factory.mktemp("ckpt") / "run.npz"
    rnnlib.train(fresh(small_corpus), small_corpus, updates=8, rng=7, checkpoint=path, **SETTINGS)
    return path.read_bytes()


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_bytes_give_a_checkpoint_or_a_clear_value_error(checkpoint_bytes, tmp_path, data):
    damaged = bytearray(checkpoint_bytes)
    for _ in range(data.draw(st.integers(1, 4))):
        damaged[data.draw(st.integers(0, len(damaged) - 1))] ^= data.draw(st.integers(1, 255))
    damaged = damaged[:data.draw(st.integers(0, len(damaged)))]
    path = tmp_path / "damaged.npz"
    path.write_bytes(bytes(damaged))
    try:
        ckpt = rnnlib.load_checkpoint(path)
    except ValueError as err:
        assert "damaged.npz" in str(err)
    else:
        assert isinstance(ckpt, rnnlib.TrainingState)
