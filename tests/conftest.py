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
