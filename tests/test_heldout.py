"""Held-out evaluation: bits per character, the split that keeps the vocabulary, and a run
(runs.run) that measures the held-out part along the way; checkpoints of an earlier rnnlib that
kept that record load and resume exactly."""

import math
import tracemalloc

import numpy as np
import pytest

import rnnlib
import runs
from rnnlib import RNN


def test_bits_per_char_is_the_mean_loss_of_the_next_character_in_bits(small_corpus, rng):
    rnn = RNN.init(small_corpus.K, m=16, sigma=0.3, rng=0)
    x = small_corpus.data[:120]
    h0 = rng.normal(size=16) * 0.5
    expected = rnnlib.loss(rnn, x[:-1], x[1:], h0) / 119 / math.log(2)
    assert rnnlib.bits_per_char(rnn, x, h0) == pytest.approx(expected, rel=1e-13)
    zeros = rnnlib.loss(rnn, x[:-1], x[1:], np.zeros(16)) / 119 / math.log(2)
    assert rnnlib.bits_per_char(rnn, x) == pytest.approx(zeros, rel=1e-13)
    assert rnnlib.bits_per_char(RNN(16, small_corpus.K), x) == pytest.approx(math.log2(small_corpus.K))


def test_the_chunks_carry_the_hidden_state_across(rng):
    K = 2000  # chunks of 2**20 // K = 524 characters
    rnn = RNN.init(K, m=8, sigma=0.5, rng=1)
    x = rng.integers(0, K, size=3 * 524 + 7)
    expected = rnnlib.loss(rnn, x[:-1], x[1:], np.zeros(8)) / (x.size - 1) / math.log(2)
    assert rnnlib.bits_per_char(rnn, x) == pytest.approx(expected, rel=1e-12)


def test_memory_does_not_grow_with_the_text(rng):
    rnn = RNN.init(80, m=8, rng=0)
    x = rng.integers(0, 80, size=300_000)
    tracemalloc.start()
    try:
        rnnlib.bits_per_char(rnn, x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40e6 < x.size * 80 * 8  # an (n, K) array of probabilities would be 192 MB


@pytest.mark.parametrize("x, message", [
    ([3], "at least 2 characters"),
    ([], "at least 2 characters"),
    ([[1, 2], [3, 4]], "1-D"),
    ([1, 2, 80], r"must lie in \[0, 80\)"),
    ([-1, 2], r"must lie in \[0, 80\)"),
    ([0.5, 1.5], "int character indices"),
])
def test_bits_per_char_refuses_what_it_cannot_read(x, message):
    with pytest.raises(ValueError, match=message):
        rnnlib.bits_per_char(RNN.init(80, m=4), np.array(x))


def test_a_split_keeps_the_whole_vocabulary():
    corpus = rnnlib.Corpus("abcabcabcabcabcabcabcabcabcXYZ", source="t")
    train, held_out = corpus.split(0.9)
    assert train.text + held_out.text == corpus.text and len(train.text) == 27
    assert train.chars == held_out.chars == corpus.chars and train.K == held_out.K == 6
    assert "X" not in train.text and train.decode(train.data) == train.text
    assert np.array_equal(np.concatenate([train.data, held_out.data]), corpus.data)
    assert train.source == "t, first 90%" and held_out.source == "t, last 10%"
    with pytest.raises(ValueError, match="both sides"):
        corpus.split(1.0)


def test_a_run_measures_the_held_out_part_every_eval_every_updates(small_corpus):
    spec = runs.Spec(m=8, updates=23, held_out=0.2, eval_every=10)
    result = runs.run(spec, small_corpus.text, history=True)
    train, held_out = small_corpus.split(0.8)
    assert list(result.eval_bpc) == [0, 10, 20]  # the final parameters' is result.held_out_bpc
    for u in (10, 20):
        rnn = RNN.init(train.K, m=8, rng=0)
        rnnlib.train(rnn, train, updates=u, rng=0, sample_every=None, progress=False)
        assert result.eval_bpc[u] == rnnlib.bits_per_char(rnn, held_out.data)
    assert result.eval_bpc[0] == rnnlib.bits_per_char(RNN.init(train.K, m=8, rng=0), held_out.data)
    assert result.eval_bpc[20] < result.eval_bpc[0]
    assert runs.run(runs.Spec(m=8, updates=3, held_out=0.2), small_corpus.text).eval_bpc == {}


def test_a_checkpoint_with_the_held_out_record_of_an_earlier_rnnlib_loads_and_resumes_exactly(tmp_path, small_corpus):
    """rnnlib's train once measured the held-out part itself, and its checkpoints kept that record."""
    train, held_out = small_corpus.split(0.8)
    straight = RNN.init(train.K, m=8, rng=0)
    expected = rnnlib.train(straight, train, updates=30, sample_every=None, progress=False)
    path = tmp_path / "run.npz"
    rnnlib.train(RNN.init(train.K, m=8, rng=0), train, updates=14, checkpoint=path, sample_every=None,
                 progress=False)
    with np.load(path) as f:
        fields = dict(f)
    np.savez(path, **fields, eval_every=4, eval_updates=np.array([0, 4, 8, 12]), eval_bpc=np.full(4, 5.0),
             eval_data=held_out.data.astype(np.uint8))
    assert rnnlib.load_checkpoint(path).update == 14
    rnn, history = rnnlib.resume(path, train, updates=30, progress=False)
    assert np.array_equal(rnn.theta, straight.theta) and np.array_equal(history.smooth_loss, expected.smooth_loss)
