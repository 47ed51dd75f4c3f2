"""nbval runs the notebooks with their results in a temporary folder, so that the tests never
overwrite the best model of the user's last report."""

import os
import shutil
import tempfile

_made = None


def pytest_configure(config):
    global _made
    if not os.environ.get("RNN_RESULTS"):
        _made = os.environ["RNN_RESULTS"] = tempfile.mkdtemp(prefix="rnn-results-")


def pytest_unconfigure(config):
    if _made:
        shutil.rmtree(_made, ignore_errors=True)
        os.environ.pop("RNN_RESULTS", None)
