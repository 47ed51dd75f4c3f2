"""The finished model and the run in progress live in two files: a run writes its `finished`
file only when it reaches its total, so a stopped or failed run never replaces the last
finished model, and the stopped run stays resumable."""

import shutil

import numpy as np
import pytest

import rnnlib
from rnnlib import RNN


def run(corpus, *, rng=0, **kwargs):
    return rnnlib.train(RNN.init(corpus.K, m=8, rng=rng), corpus, updates=40, rng=rng, progress=False,
                        checkpoint_every=10, **kwargs)


@pytest.fixture
def finished(tmp_path, small_corpus):
    """A finished run (seed 0) in tmp_path: (checkpoint, model, the model file's bytes)."""
    checkpoint, model = tmp_path / "training.npz", tmp_path / "model.npz"
    run(small_corpus, checkpoint=checkpoint, finished=model)
    return checkpoint, model, model.read_bytes()


def test_a_finished_run_writes_its_model_and_its_checkpoint_alike(finished, small_corpus):
    checkpoint, model, _ = finished
    saved, ran = rnnlib.load_checkpoint(model), rnnlib.load_checkpoint(checkpoint)
    assert saved.update == saved.total == 40 and np.array_equal(saved.best.theta, ran.best.theta)
    assert saved.best_loss == ran.best_loss and np.array_equal(saved.history.smooth_loss, ran.history.smooth_loss)


def test_a_stopped_run_leaves_the_model_and_resumes_into_it(finished, small_corpus, interrupt_on_call):
    checkpoint, model, before = finished
    whole = run(small_corpus, rng=1)  # what the new run gives when nothing stops it
    interrupt_on_call(24)  # in update 23 of a new run, seed 1
    with pytest.raises(KeyboardInterrupt) as stopped:
        run(small_corpus, rng=1, checkpoint=checkpoint, finished=model)
    assert model.read_bytes() == before  # the finished model, untouched
    assert rnnlib.load_checkpoint(checkpoint).update == 23  # the stopped run, resumable
    lines = stopped.value._render_traceback_()
    assert f"The finished model in {model} is unchanged." in lines[0]
    assert lines[-1] == f"    rnn, history = rnnlib.resume({str(checkpoint)!r}, corpus)"

    # The hint, as the notebook runs it: the checkpoint remembers where its model goes.
    corpus = small_corpus
    rnn, history = rnnlib.resume(str(checkpoint), corpus, progress=False)
    assert np.array_equal(history.smooth_loss, whole.smooth_loss)
    assert np.array_equal(rnnlib.load_checkpoint(model).best.theta, whole.best.theta)
    assert model.read_bytes() != before


def test_a_failed_run_leaves_the_model(finished, small_corpus, monkeypatch):
    checkpoint, model, before = finished
    real, calls = rnnlib.loss_and_gradients, []

    def diverges_at_update_30(*args, **kwargs):
        calls.append(1)
        loss, *rest = real(*args, **kwargs)
        return (np.nan if len(calls) == 31 else loss, *rest)

    monkeypatch.setattr(rnnlib, "loss_and_gradients", diverges_at_update_30)
    with pytest.raises(FloatingPointError):
        run(small_corpus, rng=1, checkpoint=checkpoint, finished=model)
    assert model.read_bytes() == before and rnnlib.load_checkpoint(checkpoint).update == 30


def test_the_first_stopped_run_says_there_is_no_model_yet(tmp_path, small_corpus, interrupt_on_call):
    interrupt_on_call(5)
    with pytest.raises(KeyboardInterrupt) as stopped:
        run(small_corpus, checkpoint=tmp_path / "training.npz", finished=tmp_path / "model.npz")
    assert "There is no finished model yet" in str(stopped.value)
    assert not (tmp_path / "model.npz").exists()


def test_a_results_folder_moved_whole_keeps_the_link(tmp_path, small_corpus, interrupt_on_call):
    interrupt_on_call(15)
    with pytest.raises(KeyboardInterrupt):
        run(small_corpus, checkpoint=tmp_path / "a" / "training.npz", finished=tmp_path / "a" / "model.npz")
    shutil.move(tmp_path / "a", tmp_path / "b")
    rnnlib.resume(tmp_path / "b" / "training.npz", small_corpus, progress=False)
    assert rnnlib.load_checkpoint(tmp_path / "b" / "model.npz").update == 40
    assert not (tmp_path / "a").exists()
