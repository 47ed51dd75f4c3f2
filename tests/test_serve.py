"""`python3 run.py serve` refuses to serve a page without a finished model for the current corpus,
or on a busy port, and serves the synthesis page without links to files it does not serve."""

import importlib.util
import socket
import subprocess
import sys
from pathlib import Path

import rnnlib
from rnnlib import RNN

SCRIPT = Path(__file__).parent.parent / "scripts" / "serve.py"
spec = importlib.util.spec_from_file_location("serve", SCRIPT)
serve = importlib.util.module_from_spec(spec)
spec.loader.exec_module(serve)


def test_no_checkpoint_says_which_command_makes_one(tmp_path, monkeypatch, small_corpus):
    monkeypatch.setattr(rnnlib, "MODEL_PATH", tmp_path / "model.npz")
    problem = serve.check_model(small_corpus)
    assert "No finished model yet" in problem and "python3 run.py report" in problem


def test_a_checkpoint_for_another_text_is_refused(tmp_path, monkeypatch, small_corpus):
    path = tmp_path / "model.npz"
    monkeypatch.setattr(rnnlib, "MODEL_PATH", path)
    other = rnnlib.Corpus(small_corpus.text.upper(), source="shouting")
    rnnlib.train(RNN.init(other.K, m=4), other, updates=3, checkpoint=path, progress=False)
    problem = serve.check_model(small_corpus)
    assert "trained on shouting, but the corpus now is pangrams" in problem
    assert "python3 run.py report" in problem
    path.write_bytes(b"garbage")
    assert "not a readable checkpoint" in serve.check_model(small_corpus)


def test_a_matching_checkpoint_is_served(tmp_path, monkeypatch, small_corpus):
    path = tmp_path / "model.npz"
    monkeypatch.setattr(rnnlib, "MODEL_PATH", path)
    rnnlib.train(RNN.init(small_corpus.K, m=4), small_corpus, updates=3, checkpoint=path, progress=False)
    assert serve.check_model(small_corpus) is None


def test_the_training_time_it_names_is_measured(monkeypatch, small_corpus):
    clock = iter([100.0, 100.3])  # 300 updates in 0.3 s: 1 ms each
    monkeypatch.setattr(serve.time, "perf_counter", lambda: next(clock))
    updates = 4 * rnnlib.updates_per_epoch(len(small_corpus.data), 25)
    said = serve.training_estimate(small_corpus)
    assert f"its training, {updates:,} updates at 1.00 ms each as measured just now" in said
    assert f"about {max(1, round(updates * 0.001 / 60))} min here" in said


def test_links_to_other_files_leave_the_served_page():
    markdown = ("# 3 · Synthesis\n\n"
                "[README](../README.md) · [1 · Gradient check](1_gradient_check.ipynb) · "
                "[2 · Training](2_training.ipynb)\n\n"
                "Text from the best model of [2 · Training](2_training.ipynb \"notebook 2\"), see "
                "[the docs](https://docs.python.org/3/) and [below](#Summary).\n"
                "![a figure](figure.png)\n\n"
                "Next: [4 · Beyond the assignment](4_beyond.ipynb).")
    assert serve.without_local_links(markdown) == (
        "# 3 · Synthesis\n\n\n"
        "Text from the best model of 2 · Training, see [the docs](https://docs.python.org/3/) and [below](#Summary).\n"
        "![a figure](figure.png)\n")


def test_a_busy_port_is_refused_in_one_line(serving_env, free_port):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", free_port))
        busy.listen()
        done = subprocess.run([sys.executable, str(SCRIPT), f"--port={free_port}"], env=serving_env,
                              capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"Port {free_port} on 127.0.0.1 is in use (another server?): give another with --port N.\n"
