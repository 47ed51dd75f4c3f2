"""Held-out evaluation: bits per character, the split that keeps the vocabulary, and training
that records both, checkpointed and resumed exactly."""

import math
import tracemalloc

import numpy as np
import pytest

import rnnlib
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


def test_training_records_held_out_bits_per_char_as_it_samples(small_corpus):
    train, held_out = small_corpus.split(0.8)
    rnn = RNN.init(train.K, m=8, rng=0)
    initial = rnn.copy()
    history = rnnlib.train(rnn, train, updates=23, eval_data=held_out.data, eval_every=10, progress=False)
    assert list(history.eval_bpc) == [0, 10, 20]
    assert history.eval_bpc[0] == rnnlib.bits_per_char(initial, held_out.data)  # before update 0's step
    assert history.eval_bpc[20] < history.eval_bpc[0]
    assert rnnlib.train(RNN.init(train.K, m=8), train, updates=3, progress=False).eval_bpc == {}


def test_held_out_data_the_network_cannot_read_is_refused_at_once(small_corpus):
    with pytest.raises(ValueError, match="must lie in"):
        rnnlib.train(RNN.init(small_corpus.K, m=4), small_corpus, updates=3,
                     eval_data=np.array([0, small_corpus.K]), progress=False)


def test_checkpoints_keep_the_held_out_record_and_resume_continues_it_exactly(tmp_path, small_corpus):
    train, held_out = small_corpus.split(0.8)
    settings = dict(eval_data=held_out.data, eval_every=4, sample_every=None, progress=False)
    straight = RNN.init(train.K, m=8, rng=0)
    expected = rnnlib.train(straight, train, updates=30, **settings)
    path = tmp_path / "run.npz"
    rnnlib.train(RNN.init(train.K, m=8, rng=0), train, updates=14, checkpoint=path, **settings)
    saved = rnnlib.load_checkpoint(path)
    assert list(saved.history.eval_bpc) == [0, 4, 8, 12] and np.array_equal(saved.eval_data, held_out.data)
    rnn, history = rnnlib.resume(path, train, updates=30, progress=False)
    assert history.eval_bpc == expected.eval_bpc and np.array_equal(rnn.theta, straight.theta)
