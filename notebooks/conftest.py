"""nbval runs the notebooks with their results in a temporary folder, so that the tests never
overwrite the best model of the user's last report, and at a small scale (RNN_REPORT_SCALE, which
shared.SCALE reads: every run of the report makes that fraction of its updates, and notebook 4
measures that fraction of its stretches), so that every cell runs in a fraction of the report's
time; a scale set already is kept."""

import os
import shutil
import tempfile

TEST_SCALE = "0.05"

_made = None


def pytest_configure(config):
    global _made
    if not os.environ.get("RNN_RESULTS"):
        _made = os.environ["RNN_RESULTS"] = tempfile.mkdtemp(prefix="rnn-results-")
    os.environ.setdefault("RNN_REPORT_SCALE", TEST_SCALE)


def pytest_unconfigure(config):
    if _made:
        shutil.rmtree(_made, ignore_errors=True)
        os.environ.pop("RNN_RESULTS", None)
