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
