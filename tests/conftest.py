import numpy as np
import pytest

import rnnlib


@pytest.fixture(scope="session")
def corpus():
    """The corpus a user gets: the book where data/ holds it, else the offline default."""
    return rnnlib.load_corpus()


@pytest.fixture(scope="session")
def small_corpus():
    """A short text with repeats, for training runs of a few epochs in well under a second."""
    text = ("The quick brown fox jumps over the lazy dog.\n"
            "Pack my box with five dozen liquor jugs!\n") * 3
    return rnnlib.Corpus(text, source="pangrams")


@pytest.fixture(scope="session")
def large_corpus():
    """A short text of K = 150 ideographs with Zipf frequencies: K > 4 seq_length, so training
    takes sparse gradients (dU's nonzero columns only)."""
    K, rng = 150, np.random.default_rng(5)
    chars, p = [chr(0x4E00 + k) for k in range(K)], 1 / np.arange(1, K + 1)
    text = "".join(chars[i] for i in rng.choice(K, size=2000, p=p / p.sum())) + "".join(chars)
    return rnnlib.Corpus(text, source="ideographs")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def markup():
    """A network that has learnt to write markup (</script>, <b>, &, <!--) and its corpus: what
    the report's HTML must show as text."""
    corpus = rnnlib.Corpus("</script><b>x & y</b><!-- -->\n" * 40, source="markup")
    rnn = rnnlib.RNN.init(corpus.K, m=16, rng=0)
    rnnlib.train(rnn, corpus, epochs=40, sample_every=None, progress=False)
    return rnn, corpus
