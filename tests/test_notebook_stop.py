"""Notebook 2 stopped in its training cell, as the stop button stops it (SIGINT to the kernel):
the cell shows a short message, not a traceback; its last line is a statement that continues
the run, after which the cells below run; and the finished model that notebooks 3-5 read is
the one from before until the resumed run ends."""

import importlib.util
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
from jupyter_client import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import rnnlib

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SCRIPTS = NOTEBOOKS.parent / "scripts"
_spec = importlib.util.spec_from_file_location("nbval_conftest", NOTEBOOKS / "conftest.py")
_spec.loader.exec_module(nbval_conftest := importlib.util.module_from_spec(_spec))
TEST_SCALE = nbval_conftest.TEST_SCALE  # the scale nbval runs the notebooks at

# What the stop button does to a kernel: SIGINT, here sent by the kernel to itself in update 300.
STOP_IN_UPDATE_300 = """\
import os, signal
_real, _calls = rnnlib.loss_and_gradients, []

def _stop_button_in_update_300(*args, **kwargs):
    _calls.append(1)
    if len(_calls) == 301:
        os.kill(os.getpid(), signal.SIGINT)
    return _real(*args, **kwargs)

rnnlib.loss_and_gradients = _stop_button_in_update_300"""
# Ctrl-C in the terminal that runs `python3 run.py report`: SIGINT to the process executing the notebook.
CTRL_C_IN_UPDATE_300 = STOP_IN_UPDATE_300.replace("os.getpid()", "os.getppid()")


@pytest.fixture
def small_text(tmp_path, monkeypatch):
    """The offline text and an empty results folder, for the kernel (its environment), at nbval's
    scale (TEST_SCALE), where four epochs of this text take the main run past notebook 2's check."""
    path = tmp_path / "corpus.txt"
    path.write_text(rnnlib.python_docs_text(), encoding="utf-8")
    monkeypatch.setenv(rnnlib.CORPUS_ENV, str(path))
    monkeypatch.setenv("RNN_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("RNN_REPORT_SCALE", TEST_SCALE)
    return rnnlib.load_corpus(path), tmp_path / "results"


def kernels_total(corpus) -> int:
    """The main run's updates in the kernel: four epochs at TEST_SCALE (as shared.scaled counts)."""
    return max(1, round(4 * rnnlib.updates_per_epoch(len(corpus.data), 25) * float(TEST_SCALE)))


def test_a_stopped_notebook_continues_with_the_hint_and_keeps_the_finished_model(small_text):
    corpus, results = small_text
    model, run = results / "model.npz", results / "training.npz"
    rnnlib.train(rnnlib.RNN.init(corpus.K, m=100, rng=5), corpus, updates=50, rng=5, progress=False,
                 checkpoint=run, finished=model)  # an earlier finished run
    before = model.read_bytes()

    nb = nbformat.read(NOTEBOOKS / "2_training.ipynb", as_version=4)
    training = next(i for i, cell in enumerate(nb.cells) if "finished=rnnlib.MODEL_PATH" in cell.source)
    nb.cells.insert(training, nbformat.v4.new_code_cell(STOP_IN_UPDATE_300))
    training += 1
    with tempfile.TemporaryDirectory() as sockets:
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "kernel"))
        client = NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": str(NOTEBOOKS)}})
        with client.setup_kernel():
            for i in range(training):
                client.execute_cell(nb.cells[i], i)
            with pytest.raises(CellExecutionError):
                client.execute_cell(nb.cells[training], training)

            error = next(out for out in nb.cells[training].outputs if out.output_type == "error")
            total = kernels_total(corpus)
            assert error.ename == "TrainingStopped"
            assert error.traceback == [  # the whole message: no traceback, three lines
                f"Interrupted after update 301 of {total:,}: the run so far is saved in {run}. "
                f"The finished model in {model} is unchanged.",
                "To continue it (to the same end, bit for bit), then the cells below:",
                f"    rnn, history = rnnlib.resume({str(run)!r}, corpus)"]
            assert model.read_bytes() == before and rnnlib.load_checkpoint(run).update == 301

            # The progress bar stops at the update the text names, and says so in red.
            widgets = client.widget_state.values()
            (bar,) = [state for state in widgets if state.get("bar_style") == "danger"]
            assert bar["value"] == 301 and bar["max"] == total
            assert any(re.search(rf"\b301/{total}\b", state.get("value", "")) for state in widgets
                       if state.get("_model_name") == "HTMLModel"), "no progress text at 301"

            # The user runs the hint in a new cell under the training cell, then the cells below.
            hint = nbformat.v4.new_code_cell(error.traceback[-1].strip())
            nb.cells.insert(training + 1, hint)
            for i in range(training + 1, len(nb.cells)):
                client.execute_cell(nb.cells[i], i)

    finished = rnnlib.load_checkpoint(model)
    assert finished.update == finished.total == total and finished.best_update > 0
    assert np.array_equal(finished.history.smooth_loss, rnnlib.load_checkpoint(run).history.smooth_loss)
    summary = "".join(out.get("text", "") for out in nb.cells[-2].outputs)
    assert f"{total:,} updates; lowest smooth loss {finished.best_loss:.2f}" in summary


def test_ctrl_c_in_run_py_report_stops_the_training_cell_as_the_stop_button_does(small_text, tmp_path):
    """The terminal's Ctrl-C reaches build_report, not the kernel (in a session of its own): it is
    passed on, so training saves its last update; the notebook file and the finished model stay."""
    corpus, results = small_text
    model, run = results / "model.npz", results / "training.npz"
    rnnlib.train(rnnlib.RNN.init(corpus.K, m=100, rng=5), corpus, updates=50, rng=5, progress=False,
                 checkpoint=run, finished=model)
    before = model.read_bytes()
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for module in set(NOTEBOOKS.glob("*.py")) - {NOTEBOOKS / "conftest.py"}:  # the modules notebooks import
        shutil.copy(module, folder)
    nb = nbformat.read(NOTEBOOKS / "2_training.ipynb", as_version=4)
    training = next(i for i, cell in enumerate(nb.cells) if "finished=rnnlib.MODEL_PATH" in cell.source)
    nb.cells.insert(training, nbformat.v4.new_code_cell(CTRL_C_IN_UPDATE_300))
    del nb.cells[training]["id"]  # the notebook's format (4.4) has no cell ids
    nbformat.write(nb, folder / "2_training.ipynb")
    saved = (folder / "2_training.ipynb").read_bytes()

    done = subprocess.run([sys.executable, "-c", f"import build_report, pathlib, sys; build_report.NOTEBOOKS = "
                           f"pathlib.Path({str(folder)!r}); sys.exit(build_report.main([]))"],
                          cwd=SCRIPTS, capture_output=True, text=True, timeout=600,
                          # Python's own Ctrl-C, whatever this process has (a background job ignores it)
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert done.returncode == 130, done.stdout + done.stderr
    total = kernels_total(corpus)
    # A few updates more than 301: the signal travels through this process to the kernel.
    *earlier, last = done.stderr.splitlines()
    stopped = re.fullmatch(r"Stopped in notebooks/2_training\.ipynb, which is left as it was: Interrupted after "
                           rf"update ([\d,]+) of {total:,}: the run so far is saved in .*", last)
    assert stopped, done.stderr
    # Before it, nothing of ours: at most a seed run's worker that the kernel's shutdown interrupted while
    # it was still importing (ipykernel sends its children SIGINT; a worker ignores it once started)
    ours = ("rnnlib", "build_report", "execute_notebooks", "helpers_2_training.py", "shared.py", "report_runs.py",
            "runs.py", "cluster.py")
    assert not any(name in line for line in earlier for name in ours), done.stderr
    update = int(stopped.group(1).replace(",", ""))
    assert 301 <= update < total and rnnlib.load_checkpoint(run).update == update
    assert (folder / "2_training.ipynb").read_bytes() == saved
    assert model.read_bytes() == before


def test_in_a_notebook_the_stop_message_names_the_stop_button_not_ctrl_c(tmp_path):
    """The line training prints on the first stop request says what a second one does, in the words of
    where it runs: in a kernel (a notebook) that is the stop button, as Ctrl-C means nothing there."""
    code = STOP_IN_UPDATE_300 + """
corpus = rnnlib.Corpus("the cat sat on the mat\\n" * 40)
rnnlib.train(rnnlib.RNN.init(corpus.K, m=8), corpus, updates=10_000, sample_every=None, progress=False)"""
    printed, errors = [], []

    def collect(message):
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        elif message["msg_type"] == "error":
            errors.append(message["content"]["ename"])

    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "kernel"))
    km.start_kernel(cwd=str(tmp_path))
    try:
        client = km.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        client.execute_interactive("import rnnlib\n" + code, timeout=120, output_hook=collect)
        client.stop_channels()
    finally:
        km.shutdown_kernel(now=True)
    said = "".join(printed)
    assert errors == ["TrainingStopped"]
    assert "Stopping after this update (press the stop button again to stop at once, saving nothing)" in said
    assert "Ctrl-C" not in said
