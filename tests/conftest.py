import json
import os
import socket
import subprocess
import sys
import time

import matplotlib
import numpy as np
import pytest

import rnnlib

matplotlib.use("Agg")  # the tests draw the report's figures, never show them


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
def trained(small_corpus):
    """A small network trained on small_corpus, with a sample every 100 updates: (rnn, history)."""
    rnn = rnnlib.RNN.init(small_corpus.K, m=16, rng=0)
    history = rnnlib.train(rnn, small_corpus, epochs=30, sample_every=100, sample_length=40,
                           progress=False)
    return rnn, history


@pytest.fixture(scope="session")
def markup():
    """A network that has learnt to write markup (</script>, <b>, &, <!--) and its corpus: what
    the report's HTML must show as text."""
    corpus = rnnlib.Corpus("</script><b>x & y</b><!-- -->\n" * 40, source="markup")
    rnn = rnnlib.RNN.init(corpus.K, m=16, rng=0)
    rnnlib.train(rnn, corpus, epochs=40, sample_every=None, progress=False)
    return rnn, corpus


@pytest.fixture
def serving_env(tmp_path):
    """The environment for serving the synthesis page in a test: a model trained in about a
    second on 30,000 characters of Python's documentation, and every folder Jupyter and Voila
    write to (connection files too), all under tmp_path."""
    corpus_path = tmp_path / "corpus.txt"
    corpus_path.write_text(rnnlib.python_docs_text()[:30_000], encoding="utf-8")
    corpus = rnnlib.load_corpus(corpus_path)
    results = tmp_path / "results"
    rnnlib.train(rnnlib.RNN.init(corpus.K, m=32, rng=0), corpus, updates=400, progress=False,
                 checkpoint=results / "training.npz", finished=results / "model.npz")
    return dict(os.environ, RNN_CORPUS=str(corpus_path), RNN_RESULTS=str(results), TMPDIR=str(tmp_path),
                JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
                JUPYTER_DATA_DIR=str(tmp_path / "data"))


@pytest.fixture
def free_port() -> int:
    """A loopback port that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def interrupt_on_call(monkeypatch):
    """interrupt_on_call(n): the n-th call of rnnlib.loss_and_gradients from now on raises
    KeyboardInterrupt, as an interrupt inside that update would, before it changes anything."""
    real = rnnlib.loss_and_gradients

    def arm(n):
        calls = []

        def counted(*args, **kwargs):
            calls.append(1)
            if len(calls) == n:
                raise KeyboardInterrupt
            return real(*args, **kwargs)

        monkeypatch.setattr(rnnlib, "loss_and_gradients", counted)

    return arm


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory):
    """A real Dask cluster on this machine, as README.md starts one for this machine alone (everything
    on 127.0.0.1: with --no-dashboard, an HTTP port would still listen on every interface), stopped
    at the end of the session: `dask scheduler` and two `dask worker` processes of one thread each.
    Yields (the scheduler's address, the processes' ids)."""
    folder = tmp_path_factory.mktemp("dask")
    dask, file = [sys.executable, "-m", "dask"], folder / "scheduler.json"
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder)
    scheduler = subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address",
                                  "127.0.0.1:0", "--scheduler-file", str(file)], **quiet)
    processes = [scheduler]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and scheduler.poll() is None:
            try:  # written once the scheduler listens
                address = json.loads(file.read_text())["address"]
                break
            except (OSError, ValueError, KeyError):
                time.sleep(0.1)
        else:
            raise RuntimeError("the Dask scheduler did not start")
        processes += [subprocess.Popen([*dask, "worker", address, "--nthreads", "1", "--no-nanny", "--host",
                                        "127.0.0.1", "--dashboard-address", "127.0.0.1:0", "--local-directory",
                                        str(folder)], **quiet)
                      for _ in range(2)]  # no nanny: two plain worker processes, quick to stop
        from distributed import Client
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, [process.pid for process in processes]
    finally:  # the workers (no children of their own) at once, then the scheduler
        for process in processes[1:]:
            process.kill()
            process.wait()
        scheduler.terminate()
        try:
            scheduler.wait(timeout=20)
        except subprocess.TimeoutExpired:
            scheduler.kill()


@pytest.fixture(scope="session")
def dask_scheduler(dask_cluster):
    """The address of dask_cluster's scheduler."""
    return dask_cluster[0]

