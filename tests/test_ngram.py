"""ngram.py against brute-force counting on small texts, and its distributions summing to 1."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ngram
import rnnlib

TEXT = "the cat sat on the mat; the rat ate the hat. that cat, that hat!\nthe end"
CORPUS = rnnlib.Corpus(TEXT)


def brute_force(data, K, n, discounts, kneser_ney):
    """p(w | history) by the docstring's recursion, counting with Counter over tuples."""
    data = [int(v) for v in data]
    occurs = Counter(tuple(data[i:i + k]) for k in range(1, n + 2) for i in range(len(data) - k + 1))

    def N(gram, top):
        if top or not kneser_ney:
            return occurs[gram]
        return sum(1 for a in range(K) if occurs[(a,) + gram])

    def p(w, history, j):
        if j < 0:
            return 1 / K
        if len(history) < j:  # not enough history for this order
            return p(w, history, j - 1)
        c, top = tuple(history[len(history) - j:]), j == n - 1
        counted = [N(c + (v,), top) for v in range(K)]
        total, types = sum(counted), sum(1 for v in counted if v > 0)
        if total == 0:
            return p(w, history, j - 1)
        D = discounts[j]
        return max(counted[w] - D, 0) / total + D * types / total * p(w, history, j - 1)

    return lambda w, history: p(w, list(history), n - 1)


@pytest.mark.parametrize("kneser_ney", [True, False])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_probabilities_match_brute_force_counting(n, kneser_ney):
    data, K = CORPUS.data, CORPUS.K
    discounts = (0.9, 0.5, 0.75, 0.3)[:n]
    model = ngram.NGram(ngram.count(data, K, n), n, discounts, kneser_ney)
    brute = brute_force(data, K, n, discounts, kneser_ney)
    other = CORPUS.encode("then a rat sat on that cat.")  # histories seen and never seen
    for x in (data, other):
        expected = [brute(int(x[t]), x[max(0, t - n + 1):t]) for t in range(1, len(x))]
        np.testing.assert_allclose(model.probabilities(x), expected, rtol=1e-12)


def test_counts_are_the_counter_counts():
    data, K = CORPUS.data, CORPUS.K
    counts = ngram.count(data, K, 3)
    for j in range(3):
        table = counts.raw[j]
        expected = Counter(tuple(data[i:i + j + 1]) for i in range(len(data) - j))
        codes = {sum(int(g) * K ** (j - i) for i, g in enumerate(gram)): k for gram, k in expected.items()}
        assert dict(zip(table.grams.tolist(), table.N.tolist())) == codes
        assert table.total.sum() == len(data) - j


@settings(deadline=None, max_examples=60)
@given(text=st.text(alphabet="abcde \n", min_size=8, max_size=200), n=st.integers(1, 5),
       discounts=st.lists(st.floats(0.01, 1.0), min_size=5, max_size=5), kneser_ney=st.booleans(),
       history=st.lists(st.integers(0, 6), max_size=6))
def test_each_distribution_sums_to_one_over_the_vocabulary(text, n, discounts, kneser_ney, history):
    corpus = rnnlib.Corpus(text, chars="abcde \n")
    model = ngram.NGram(ngram.count(corpus.data, corpus.K, n), n, tuple(discounts), kneser_ney)
    p = model.distribution(history)
    assert p.shape == (corpus.K,) and (p > 0).all()
    assert p.sum() == pytest.approx(1.0, abs=1e-12)


def test_tune_picks_each_orders_best_discount_on_the_slice_alone():
    data, K = CORPUS.data, CORPUS.K
    cut = round(len(data) * 0.8)
    D1, D2 = ngram.tune(data, K, 2, fraction=0.2)
    counts = ngram.count(data[:cut], K, 2)

    def bits(n, discounts):
        return ngram.bits_per_char(ngram.NGram(counts, n, discounts), data[cut:])

    assert bits(1, (D1,)) == min(bits(1, (D,)) for D in ngram.GRID)
    assert bits(2, (D1, D2)) == min(bits(2, (D1, D)) for D in ngram.GRID)


def test_fit_counts_all_of_the_text_with_the_discounts_tuned_on_its_end():
    models = ngram.fit(CORPUS.data, CORPUS.K, 4)
    discounts = ngram.tune(CORPUS.data, CORPUS.K, 4)
    assert [(m.n, m.discounts) for m in models] == [(n, discounts[:n]) for n in range(1, 5)]
    whole = ngram.NGram(ngram.count(CORPUS.data, CORPUS.K, 4), 4, discounts)
    np.testing.assert_array_equal(models[-1].probabilities(CORPUS.data), whole.probabilities(CORPUS.data))
    histories = {TEXT[i:i + j] for j in range(4) for i in range(len(TEXT) - j)}  # those followed by a character
    assert models[-1].contexts == len(histories)


def test_bits_per_char_is_the_mean_negative_log2_probability():
    model = ngram.NGram(ngram.count(CORPUS.data, CORPUS.K, 2), 2, (0.5, 0.5))
    x = CORPUS.encode("the hat")
    expected = -np.mean([np.log2(model.distribution(x[:t])[x[t]]) for t in range(1, len(x))])
    assert ngram.bits_per_char(model, x) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: ngram.count(CORPUS.data, CORPUS.K, 0), "n must be a positive integer"),
    (lambda: ngram.count(CORPUS.data, 80, 11), "too large for K = 80"),
    (lambda: ngram.count(CORPUS.data, 3, 2), "must lie in"),
    (lambda: ngram.NGram(ngram.count(CORPUS.data, CORPUS.K, 2), 3, (0.5,) * 3), "n must lie in 1 ... 2"),
    (lambda: ngram.NGram(ngram.count(CORPUS.data, CORPUS.K, 2), 2, (0.5, 1.5)), "discounts in"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
