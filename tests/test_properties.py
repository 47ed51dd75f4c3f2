"""Property tests: the corpus round trip, synthesis at any temperature, any bytes as a corpus."""

import os
import tempfile
import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnlib

VOCABULARY = rnnlib.Corpus("abc XYZ\n\t.,;'\"é€😀", source="vocabulary")


@given(st.text(alphabet=VOCABULARY.chars))
def test_encode_decode_round_trip_over_the_vocabulary(text):
    indices = VOCABULARY.encode(text)
    assert indices.shape == (len(text),) and (indices >= 0).all() and (indices < VOCABULARY.K).all()
    assert VOCABULARY.decode(indices) == text


@given(st.text(min_size=1))
def test_any_text_is_its_own_corpus(text):
    corpus = rnnlib.Corpus(text)
    assert corpus.decode(corpus.data) == text and corpus.K == len(set(text))
    assert list(corpus.chars) == sorted(corpus.chars)


@settings(deadline=None)
@given(temperature=st.floats(1e-3, 1e3), scale=st.sampled_from([0.01, 1.0, 1e2, 1e4, 1e6]),
       K=st.integers(1, 12), m=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_synthesis_stays_in_range_without_warnings(temperature, scale, K, m, seed):
    rng = np.random.default_rng(seed)
    rnn = rnnlib.RNN(m, K)
    rnn.theta[:] = rng.normal(0.0, scale, rnn.theta.shape)
    h0 = rng.uniform(-1, 1, m)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        Y = rnnlib.synthesize(rnn, h0, int(rng.integers(K)), 50, temperature=temperature, rng=seed)
    assert Y.shape == (50,) and Y.min() >= 0 and Y.max() < K


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_a_corpus_or_a_clear_value_error(data):
    fd, name = tempfile.mkstemp(suffix=".txt")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            corpus = rnnlib.load_corpus(name)
        except ValueError as err:
            assert name in str(err) and ("not UTF-8" in str(err) or "is empty" in str(err))
        else:
            assert corpus.K >= 1 and "\r" not in corpus.text
            assert corpus.text == data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    finally:
        os.unlink(name)
