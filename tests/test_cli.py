"""`python3 run.py train` and `python3 run.py sample` (scripts/train.py and scripts/sample.py), run
as a user runs them: in a subprocess, on a small text written here, with results in a temporary folder."""

import importlib.util
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import rnnlib

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
FAST = ["--m", "16", "--sample-every", "20", "--sample-length", "40"]
TEXT = "".join(f"The {a} {b} sat on the {c}, and sang to the {d}.\n"
               for a, b, c, d in itertools.product(["old", "small"], ["cat", "dog", "fox"],
                                                   ["mat", "wall", "hill", "boat"], ["moon", "sea", "king"]))



def script(command) -> list:
    """The command line that runs `python3 run.py command` in this environment: scripts/command.py."""
    return [sys.executable, str(SCRIPTS / f"{command}.py")]


def load(command):
    """scripts/command.py as a module (by its path: scripts/ holds serve.py and build_report.py too)."""
    spec = importlib.util.spec_from_file_location(command, SCRIPTS / f"{command}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(command, *args, cwd, **kwargs):
    """The command's (exit status, stdout, stderr), run in cwd with results going to cwd/results."""
    env = {**os.environ, "RNN_RESULTS": str(cwd / "results")}
    done = subprocess.run([*script(command), *args], cwd=cwd, env=env, capture_output=True,
                          timeout=120, **kwargs)
    return done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8")


def parameters(path):
    state = rnnlib.load_checkpoint(path)
    return state.rnn.theta, state.best.theta, state.history.smooth_loss, state.history.samples


def assert_same_run(a, b):
    for x, y in zip(parameters(a), parameters(b)):
        assert np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "poems.txt").write_text(TEXT, encoding="utf-8")
    return tmp_path


def test_help_gives_every_option_its_default():
    for command in ("train", "sample", "sweep"):
        # every option that takes a value; flags (--resume, --force, --last, --help) are off unless given
        options = [action for action in load(command).parser()._actions if action.nargs != 0]
        assert len(options) >= 5
        for action in options:
            assert "default" in action.help, action.dest


def test_train_then_sample(folder):
    status, out, err = run("train", "poems.txt", "--updates", "60", *FAST, cwd=folder)
    assert status == 0, err
    checkpoint = folder / "results" / "poems.npz"  # named after the text
    assert rnnlib.load_checkpoint(checkpoint).update == 60
    assert [f"--- sample at update {u} ---" in out for u in (0, 20, 40)] == [True] * 3
    assert "bits per character" in out and str(checkpoint) in out and "run.py sample --checkpoint" in out
    assert "smooth_loss=" in err  # the progress bar

    (folder / "poems.txt").unlink()  # the checkpoint holds the vocabulary: no text needed to sample
    status, out, err = run("sample", "--checkpoint", str(checkpoint), "--prime", "The cat", "--length", "200",
                           cwd=folder)
    assert status == 0, err
    assert out.startswith("The cat") and out.endswith("\n") and len(out) == len("The cat") + 200 + 1
    assert set(out) <= set(TEXT) and "best model" in err


def report_writes_its_model(folder, text):
    """What `run.py report` leaves in the results folder: the main run, and its finished model (here on text)."""
    corpus = rnnlib.Corpus(text, source="the report's text")
    rnnlib.train(rnnlib.RNN.init(corpus.K, m=8), corpus, updates=5, progress=False,
                 checkpoint=folder / "results" / "training.npz", finished=folder / "results" / "model.npz")


def test_sample_without_checkpoint_samples_the_model_written_last(folder):
    results, shout = folder / "results", TEXT.upper()
    status, out, err = run("sample", cwd=folder)  # nothing trained yet: which commands make a model
    assert status == 1 and "no checkpoint at" in err and "`python3 run.py train TEXT` (or `python3 run.py report`)" \
        in err

    def sample():
        status, out, err = run("sample", "--length", "300", cwd=folder)
        assert status == 0, err
        return out, err.splitlines()[0]

    report_writes_its_model(folder, shout)
    out, said = sample()
    assert set(out) <= set(shout + "\n")
    assert said == (f"No --checkpoint: {results / 'model.npz'}, the report's last finished run, is the model "
                    f"written last; --checkpoint PATH samples another.")

    assert run("train", "poems.txt", "--updates", "30", *FAST, cwd=folder)[0] == 0
    out, said = sample()
    assert not set(out) <= set(shout + "\n") and set(out) <= set(TEXT)
    assert said == (f"No --checkpoint: {results / 'poems.npz'}, the checkpoint `python3 run.py train` saved last, "
                    f"is the model written last (after {results / 'model.npz'}, the report's last finished run); "
                    f"--checkpoint PATH samples another.")
    assert (results / "last-trained").read_text() == "poems.npz\n"  # inside results/: moves with it

    report_writes_its_model(folder, shout)  # the report, run again, writes the newest
    assert set(sample()[0]) <= set(shout + "\n")

    # a checkpoint anywhere, and a run stopped by Ctrl-C (saved) counts as much as a finished one
    elsewhere = folder / "elsewhere" / "run.npz"
    args = [*script("train"), "poems.txt", "--updates", "1000000", "--checkpoint", str(elsewhere), *FAST]
    child = subprocess.Popen(args, cwd=folder, env={**os.environ, "RNN_RESULTS": str(results)},
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert "sample at update 0 " in child.stdout.readline() + child.stdout.readline()
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=60) == 130
    finally:
        child.kill()
        child.wait()
    out, said = sample()
    assert said.startswith(f"No --checkpoint: {elsewhere}, the checkpoint `python3 run.py train` saved last")
    assert (results / "last-trained").read_text() == f"{elsewhere}\n"


def test_sample_defaults_to_a_newline_prime_and_reproduces_with_a_seed(folder):
    run("train", "poems.txt", "--updates", "20", *FAST, cwd=folder)
    outs = [run("sample", "--checkpoint", "results/poems.npz", "--length", "50", *seed, cwd=folder)[1]
            for seed in ([], [], ["--seed", "1"], ["--last"])]
    assert all(out[0] == "\n" and len(out) == 52 for out in outs)
    assert outs[0] == outs[1] != outs[2]


def test_resume_continues_bit_for_bit(folder):
    assert run("train", "poems.txt", "--updates", "30", "--checkpoint", "split.npz", *FAST, cwd=folder)[0] == 0
    status, out, err = run("train", "poems.txt", "--updates", "60", "--checkpoint", "split.npz", "--resume", *FAST,
                           cwd=folder)
    assert status == 0, err
    assert "sample at update 40" in out and "sample at update 20" not in out  # only the new ones
    assert run("train", "poems.txt", "--updates", "60", "--checkpoint", "straight.npz", *FAST, cwd=folder)[0] == 0
    assert_same_run(folder / "split.npz", folder / "straight.npz")


def test_a_vocabulary_of_any_characters_survives_the_checkpoint(folder):
    odd = "naïve 😀 日本語 e\u0301 tab\there NUL\x00 " * 20
    (folder / "odd.txt").write_text(odd, encoding="utf-8")
    assert run("train", "odd.txt", "--updates", "5", *FAST, cwd=folder)[0] == 0
    assert rnnlib.load_checkpoint(folder / "results" / "odd.npz").chars == rnnlib.Corpus(odd).chars
    (folder / "odd.txt").unlink()
    status, out, _ = run("sample", "--checkpoint", "results/odd.npz", "--prime", "😀 日", "--length", "30",
                         cwd=folder)
    assert status == 0 and out.startswith("😀 日") and len(out) == 3 + 30 + 1 and set(out) <= set(odd + "\n")


def test_a_real_ctrl_c_saves_and_the_resume_is_exact(folder):
    args = [*script("train"), "poems.txt", "--updates", "1000000", "--checkpoint", "run.npz", *FAST]
    child = subprocess.Popen(args, cwd=folder, env={**os.environ, "RNN_RESULTS": str(folder / "results")},
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # not inherited ignored
    try:
        lines = iter(child.stdout.readline, "")
        assert any("sample at update 20 " in line for line in lines)  # well into training
        time.sleep(0.3)
        child.send_signal(signal.SIGINT)
        out = "".join(lines)
        assert child.wait(timeout=30) == 130
    finally:
        child.kill()
        child.wait()
    assert "Stopping after this update (press Ctrl-C again to stop at once, saving nothing)" in out
    assert "To continue: python3 run.py train poems.txt --checkpoint run.npz --resume" in out
    done = rnnlib.load_checkpoint(folder / "run.npz").update
    assert done > 20
    total = str(done + 30)
    assert run("train", "poems.txt", "--checkpoint", "run.npz", "--resume", "--updates", total, cwd=folder)[0] == 0
    assert run("train", "poems.txt", "--checkpoint", "straight.npz", "--updates", total, *FAST, cwd=folder)[0] == 0
    assert_same_run(folder / "run.npz", folder / "straight.npz")


# ---------------------------------------------------------------------------- user errors


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A folder with poems.txt, its checkpoint after 30 updates, and texts that are wrong in each way."""
    folder = tmp_path_factory.mktemp("errors")
    (folder / "poems.txt").write_text(TEXT, encoding="utf-8")
    assert run("train", "poems.txt", "--updates", "30", *FAST, cwd=folder)[0] == 0
    (folder / "latin1.txt").write_bytes("café au lait\n".encode("latin-1"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "short.txt").write_text("too short\n", encoding="utf-8")
    (folder / "shouting.txt").write_text(TEXT.upper(), encoding="utf-8")
    (folder / "reversed.txt").write_text(TEXT[::-1], encoding="utf-8")
    good = (folder / "results" / "poems.npz").read_bytes()
    (folder / "truncated.npz").write_bytes(good[:len(good) // 2])
    np.savez(folder / "foreign.npz", weights=np.zeros(3))
    return folder


ERRORS = {
    "missing text": (["nothing.txt"], ["no such file: nothing.txt"]),
    "a folder for a text": (["results"], ["results is a directory, not a text file: pass the path of a UTF-8 text "
                                          "file\n"]),  # and no example: results/ holds no .txt file
    "unreadable text": (["poems.txt/inside"], ["cannot read poems.txt/inside", "Not a directory"]),
    "not UTF-8": (["latin1.txt"], ["latin1.txt is not UTF-8", "offset 3", "iconv"]),
    "empty text": (["empty.txt"], ["empty.txt is empty"]),
    "shorter than seq_length": (["short.txt"], ["short.txt has 10 characters", "--seq-length"]),
    "bad option value": (["poems.txt", "--m", "0"], ["--m: must be a whole number >= 1, not '0'", "--help"]),
    "existing checkpoint": (["poems.txt"], ["poems.npz already exists", "--resume", "--force"]),
    "resume without a checkpoint": (["poems.txt", "--checkpoint", "none.npz", "--resume"],
                                    ["no checkpoint at none.npz", "leave out --resume"]),
    "resume another vocabulary": (["shouting.txt", "--checkpoint", "results/poems.npz", "--resume"],
                                  ["vocabulary differs", f"missing {''.join(sorted(set(TEXT) - set(TEXT.upper())))!r}",
                                   f"extra {''.join(sorted(set(TEXT.upper()) - set(TEXT)))!r}"]),
    "resume another text": (["reversed.txt", "--checkpoint", "results/poems.npz", "--resume"],
                            ["trained on poems.txt, not on reversed.txt", "--force"]),
    "resume with other settings": (["poems.txt", "--resume", "--m", "32"], ["--m 32 (it has 16)"]),
    "resume already done": (["poems.txt", "--resume", "--updates", "30"], ["has done 30 updates", "--updates 60"]),
    "sample a damaged checkpoint": (["sample", "--checkpoint", "truncated.npz"], ["truncated.npz is not a readable"]),
    "sample a foreign file": (["sample", "--checkpoint", "foreign.npz"], ["not an rnnlib checkpoint", "give"]),
    "prime outside the vocabulary": (["sample", "--checkpoint", "results/poems.npz", "--prime", "Zoë"],
                                     ["--prime", "'Z' (U+005A), 'ë' (U+00EB)", "poems.txt"]),
    "temperature zero": (["sample", "--checkpoint", "results/poems.npz", "--temperature", "0"],
                         ["--temperature: must be a positive number, not '0'"]),
    "temperature not a number": (["sample", "--checkpoint", "results/poems.npz", "--temperature", "warm"],
                                 ["--temperature: must be a positive number, not 'warm'"]),
}


@pytest.mark.parametrize("args, words", ERRORS.values(), ids=ERRORS.keys())
def test_a_user_error_is_one_line_and_exit_1(trained, args, words):
    before = (trained / "results" / "poems.npz").read_bytes()
    status, out, err = run(*(args if args[0] == "sample" else ["train", *args]), cwd=trained)
    assert (status, out) == (1, "") and err.startswith("error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err
    assert (trained / "results" / "poems.npz").read_bytes() == before  # never touched by a refusal


def test_run_py_reads_the_users_paths_from_the_users_folder(folder):
    """run.py runs most commands from the project's folder, but train and sample take paths the
    user typed: relative ones mean the user's folder."""
    env = {**os.environ, "RNN_RESULTS": str(folder / "results")}
    run_py = [sys.executable, str(SCRIPTS.parent / "run.py")]
    done = subprocess.run([*run_py, "train", "poems.txt", "--updates", "5", "--checkpoint", "mine.npz", *FAST],
                          cwd=folder, env=env, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    assert (folder / "mine.npz").is_file()
    done = subprocess.run([*run_py, "sample", "--checkpoint", "mine.npz", "--length", "10", "--prime", "T"],
                          cwd=folder, env=env, capture_output=True, timeout=300)
    assert done.returncode == 0 and len(done.stdout.decode()) == 1 + 10 + 1


# ---------------------------------------------------------------------------- a reader that goes away


def into_head(command_line, lines, cwd):
    """command_line with stdout into a pipe whose reader reads `lines` lines and goes away, as `| head -n
    LINES` does: (exit status, stderr)."""
    child = subprocess.Popen(command_line, cwd=cwd, env={**os.environ, "RNN_RESULTS": str(cwd / "results")},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(lines):
            child.stdout.readline()
        child.stdout.close()
        _, err = child.communicate(timeout=120)
    finally:
        child.kill()
        child.wait()
    return child.returncode, err


def assert_quiet(err):
    """Nothing on stderr about the pipe: no traceback, no BrokenPipeError, not even Python's at exit."""
    assert not any(word in err for word in ("Traceback", "BrokenPipe", "Exception ignored", "error")), err


def test_a_reader_that_goes_away_stops_train_quietly_with_141_and_the_run_saved(folder):
    line = [*script("train"), "poems.txt", "--updates", "1000000", "--checkpoint", "long.npz", *FAST]
    status, err = into_head(line, 2, cwd=folder)  # `train ... | head -2`: its first line, and a sample's
    assert status == 141
    assert_quiet(err)
    done = rnnlib.load_checkpoint(folder / "long.npz").update  # saved as after Ctrl-C, and noted for sample
    assert 0 < done < 1_000_000 and (folder / "results" / "last-trained").read_text() == f"{folder / 'long.npz'}\n"
    status, out, _ = run("train", "poems.txt", "--checkpoint", "long.npz", "--resume", "--updates", str(done + 5),
                         cwd=folder)
    assert status == 0 and f"Resuming long.npz at update {done:,}" in out


def test_a_reader_that_goes_away_stops_sample_and_sweep_quietly_with_141(folder):
    assert run("train", "poems.txt", "--updates", "20", *FAST, cwd=folder)[0] == 0
    # more than a pipe holds (64 kB): the reader leaves while sample still writes
    status, err = into_head([*script("sample"), "--length", "300000"], 1, cwd=folder)
    assert status == 141
    assert_quiet(err)

    # `python3 run.py sweep ... | head -1`: the sweep trains, then its table meets the closed pipe
    sweep = [sys.executable, str(SCRIPTS.parent / "run.py"), "sweep", "poems.txt", "--m", "8", "--updates", "50",
             "--workers", "1", "--out", "sweep.csv"]
    status, err = into_head(sweep, 1, cwd=folder)
    assert status == 141
    assert_quiet(err)
    assert (folder / "sweep.csv").read_text().count("\n") == 2  # its row is kept: the header and the row


def test_a_reader_that_goes_away_stops_bench_quietly_with_141(folder):
    bench = [sys.executable, str(SCRIPTS.parent / "benchmarks" / "bench.py"), "--updates", "100", "--rounds", "3",
             "--chars", "1000"]
    status, err = into_head(bench, 1, cwd=folder)  # its first line; the measurements, a second later, meet the pipe
    assert status == 141
    assert_quiet(err)
