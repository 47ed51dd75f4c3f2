"""`python3 run.py sweep` (scripts/sweep.py), run as a user runs it: in a subprocess, on a small text, with worker
processes on this machine or a real Dask cluster on 127.0.0.1; Ctrl-C, a killed worker, and the
rerun that trains only the missing rows."""

import csv
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from test_cli import SCRIPTS, TEXT, run, script

import rnnlib
import runs

# 4 runs of a fraction of a second each: a Ctrl-C after the first row lands while the others train
GRID = ["--m", "8,24", "--eta", "0.1,0.3", "--updates", "2000"]
KEYS = ["m", "eta", "seq_length", "seed"]


def rows(path):
    """The CSV's rows as dicts of strings, by their settings."""
    with open(path, newline="", encoding="utf-8") as f:
        return {tuple(row[k] for k in KEYS): row for row in csv.DictReader(f)}


def results(path):
    """The rows less their wall times: what must be the same bit for bit however the runs were spread."""
    return {settings: {k: v for k, v in row.items() if k != "seconds"} for settings, row in rows(path).items()}


def sweep(*args, cwd):
    return run("sweep", "poems.txt", *GRID, *args, cwd=cwd)


def start(*args, cwd):
    """The sweep as a child in its own process group, as a terminal runs it (Ctrl-C reaches the group)."""
    return subprocess.Popen([*script("sweep"), "poems.txt", *GRID, *args], cwd=cwd,
                            env={**os.environ, "RNN_RESULTS": str(cwd / "results")}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # not inherited ignored


def wait_for(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.05)


def local_workers(pid):
    """The pids of the loky worker processes that the process pid started."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):  # ended meanwhile
            continue
        if parent == pid and b"popen_loky_posix" in command:
            found.append(int(stat.parent.name))
    return found


def alive(pid):
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A folder with poems.txt and the sweep's rows trained by 2 local workers (results/sweep-poems.csv),
    and what the sweep printed."""
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "poems.txt").write_text(TEXT, encoding="utf-8")
    status, out, err = sweep("--workers", "2", cwd=folder)
    assert status == 0, err
    return folder, out


@pytest.fixture
def folder(swept):
    return swept[0]


def test_one_row_per_run_as_train_gives_it_then_the_table(swept):
    folder, said = swept
    table = rows(folder / "results" / "sweep-poems.csv")  # named after the text
    assert sorted(table) == sorted((m, eta, "25", "0") for m in ("8", "24") for eta in ("0.1", "0.3"))
    corpus = rnnlib.Corpus(TEXT)
    trained, held = corpus.split(0.9)  # the last 10% held out
    for m, eta in (("24", "0.3"), ("8", "0.1")):
        # what `run.py train --seed 0` trains, in this process: the same numbers, at full precision
        rnn = rnnlib.RNN.init(corpus.K, int(m), sigma=0.01, rng=0)
        history = rnnlib.train(rnn, trained, updates=2000, eta=float(eta), rng=0, sample_every=None, progress=False)
        row = table[m, eta, "25", "0"]
        assert (row["updates"], row["best_smooth_loss"]) == ("2000", repr(history.best_loss))
        assert row["held_out_bpc"] == repr(rnnlib.bits_per_char(rnn, held.data))
        assert 0 < float(row["seconds"]) < 60

    lines = said.splitlines()
    ranked = sorted(table.values(), key=lambda row: float(row["held_out_bpc"]))
    body = [line for line in lines if line.split()[:1] in ([r["m"]] for r in ranked)]
    assert len(body) == 4 and body[0].endswith("<- best") and not any("best" in line for line in body[1:])
    for line, row in zip(body, ranked):  # sorted by held-out bits per character
        assert line.split()[:2] == [row["m"], row["eta"]]
    best = ranked[0]
    assert (f"python3 run.py train poems.txt --m {best['m']} --eta {best['eta']} --seq-length 25 --seed 0 "
            f"--updates 2000") in lines[-1]


def test_every_setting_reaches_its_run(tmp_path):
    """Each row is the run of its own m, eta, seq_length and seed: a setting left out on the way to the
    workers (every run then trained with its default) would give rows the numbers of another run."""
    (tmp_path / "poems.txt").write_text(TEXT, encoding="utf-8")
    status, _, err = run("sweep", "poems.txt", "--m", "8,12", "--eta", "0.1,0.3", "--seq-length", "10,25",
                         "--seeds", "0,1", "--updates", "100", "--workers", "2", "--out", "grid.csv", cwd=tmp_path)
    assert status == 0, err
    table = rows(tmp_path / "grid.csv")
    assert sorted(table) == sorted((m, eta, s, seed) for m in ("8", "12") for eta in ("0.1", "0.3")
                                   for s in ("10", "25") for seed in ("0", "1"))
    for (m, eta, s, seed), row in table.items():
        spec = runs.Spec(m=int(m), eta=float(eta), seq_length=int(s), seed=int(seed), updates=100, held_out=0.1)
        result = runs.run(spec, TEXT)  # the same run, in this process
        assert (row["updates"], row["best_smooth_loss"], row["held_out_bpc"]) == \
            ("100", repr(result.best_smooth_loss), repr(result.held_out_bpc)), spec
    # and each setting matters: no two of the 16 runs give the same numbers
    assert len({(row["best_smooth_loss"], row["held_out_bpc"]) for row in table.values()}) == 16


def test_a_dask_cluster_gives_the_same_rows(folder, dask_scheduler):
    status, out, err = sweep("--scheduler", dask_scheduler, "--out", "dask.csv", cwd=folder)
    assert status == 0, err
    assert f"on the Dask cluster at {dask_scheduler}" in out
    assert results(folder / "dask.csv") == results(folder / "results" / "sweep-poems.csv")


def test_ctrl_c_keeps_the_finished_rows_and_the_rerun_trains_the_others(folder):
    out = folder / "stopped.csv"
    child = start("--workers", "2", "--out", out.name, cwd=folder)
    try:
        wait_for(out.exists, "row")
        workers = local_workers(child.pid)
        os.killpg(child.pid, signal.SIGINT)  # as Ctrl-C in a terminal: to the sweep and its workers
        said, err = child.communicate(timeout=30)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == 130, err
    # no traceback of ours; a worker that the terminal's Ctrl-C meets while it is still importing (before
    # it ignores SIGINT) may print its own, and is killed with the rest
    assert not any(name in err for name in ("runs.py", "cluster.py", "sweep.py", "cli_common.py", "rnnlib.py")), err
    assert workers and not any(alive(pid) for pid in workers)  # none left training in the background
    kept = rows(out)
    assert 1 <= len(kept) < 4 and f"Stopped: {len(kept)} of the 4 runs are in stopped.csv" in said
    status, said, err = sweep("--workers", "2", "--out", out.name, cwd=folder)
    assert status == 0, err
    assert f"4 runs, {len(kept)} of them already in stopped.csv; {4 - len(kept)} to train" in said
    assert {k: rows(out)[k] for k in kept} == kept  # the kept rows stay as they were, seconds and all
    assert results(out) == results(folder / "results" / "sweep-poems.csv")


def test_a_killed_worker_loses_only_its_run_and_the_rerun_trains_it(folder):
    out = folder / "killed.csv"
    child = start("--workers", "2", "--out", out.name, cwd=folder)
    try:
        # a worker starts for a run: killed now, that run is surely not finished, however fast the machine
        wait_for(lambda: local_workers(child.pid), "worker process")
        os.kill(local_workers(child.pid)[0], signal.SIGKILL)
        said, err = child.communicate(timeout=60)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == 1, err
    assert len(rows(out)) == 3
    (lost,) = set(rows(folder / "results" / "sweep-poems.csv")) - set(rows(out))
    m, eta, s, seed = lost
    named = f"m {m}, eta {eta}, seq-length {s}, seed {seed}"
    assert f"lost: {named} (its worker died)" in err
    assert f"1 run lost, its worker died: {named}. The same command again trains it." in said
    status, said, err = sweep("--workers", "2", "--out", out.name, cwd=folder)
    assert status == 0 and "3 of them already in killed.csv; 1 to train" in said, err
    assert results(out) == results(folder / "results" / "sweep-poems.csv")


def test_a_user_error_is_one_line_and_exit_1(folder, free_port):
    nobody = f"tcp://127.0.0.1:{free_port}"
    # the scheduler's 10 s of waiting pass while the other mistakes are tried
    waiting = start("--m", "8", "--eta", "0.1", "--scheduler", nobody, "--out", "none.csv", cwd=folder)  # 1 run
    (folder / "other.csv").write_text("name,score\nada,3\n", encoding="utf-8")
    (folder / "reversed.txt").write_text(TEXT[::-1], encoding="utf-8")
    (folder / "tiny.txt").write_text("A short text.\n", encoding="utf-8")
    csv_file = folder / "results" / "sweep-poems.csv"
    before = csv_file.read_bytes()
    per_epoch = rnnlib.updates_per_epoch(len(rnnlib.Corpus(TEXT).split(0.9)[0]), 25)
    mistakes = {
        "a bad list value": (["poems.txt", "--m", "0,x"],
                             ["argument --m: must be a whole number >= 1, not '0', in '0,x'", "50,100,200"]),
        "a bad rate": (["poems.txt", "--eta", "0.1,fast"], ["--eta: must be a positive number, not 'fast', in "
                                                            "'0.1,fast' (a list is values separated by commas, e.g. "
                                                            "0.05,0.1,0.2)"]),
        "one bad value": (["poems.txt", "--m", "0"], ["--m: must be a whole number >= 1, not '0' (a list is values"]),
        "a rate that is no number": (["poems.txt", "--eta", "abc"], ["--eta: must be a positive number, not 'abc' "
                                                                     "(a list is values separated by commas, e.g. "
                                                                     "0.05,0.1,0.2)"]),
        "a bad seed": (["poems.txt", "--seeds", "-1"], ["e.g. 0,1,2"]),
        "a held-out part of everything": (["poems.txt", "--held-out", "1"], ["--held-out: must be a fraction"]),
        "both engines": (["poems.txt", "--workers", "2", "--scheduler", nobody], ["leave out one of the two"]),
        "another length of training": (["poems.txt", *GRID[:4], "--updates", "300"],
                                       ["sweep-poems.csv holds the rows of another sweep",
                                        "2,000 updates at --seq-length 25, not --updates 300", "another --out"]),
        "another length in epochs": (["poems.txt", "--epochs", "2"],
                                     [f"2,000 updates at --seq-length 25, not --epochs 2, which is {2 * per_epoch} "
                                      f"updates"]),
        "another held-out part": (["poems.txt", *GRID, "--held-out", "0.2"], ["--held-out 0.1, not 0.2"]),
        "another text": (["reversed.txt", *GRID, "--out", "results/sweep-poems.csv"],
                         ["trained on another text than reversed.txt"]),
        "a file that is not a sweep's": (["poems.txt", "--out", "other.csv"],
                                         ["other.csv is not a sweep's table", "another --out"]),
        "a text too short to hold out": (["tiny.txt"], ["the last 10% of tiny.txt is 1 character(s)"]),
    }
    try:
        for name, (args, words) in mistakes.items():
            status, out, err = run("sweep", *args, cwd=folder)
            assert (status, out) == (1, "") and err.startswith("error: ") and err.count("\n") == 1, (name, err)
            for word in words:
                assert word in err, (name, err)
        said, err = waiting.communicate(timeout=60)
    finally:
        waiting.kill()
        waiting.wait()
    assert waiting.returncode == 1 and err.count("\n") == 1, err
    assert said.startswith("Sweep on poems.txt") and "1 run, not yet in none.csv; 1 to train on the Dask" in said
    # the commands it suggests name the dask of this environment (not on PATH), for this machine alone
    dask = Path(sys.executable).with_name("dask")
    assert f"error: no Dask scheduler answered at {nobody} within 10 s" in err
    assert (f"`{dask} scheduler --host 127.0.0.1 --port {free_port} --dashboard-address 127.0.0.1:8787`, then "
            f"`{dask} worker {nobody} --nthreads 1 --host 127.0.0.1 --dashboard-address 127.0.0.1:0`") in err
    assert csv_file.read_bytes() == before and not (folder / "none.csv").exists()  # never touched by a refusal


def test_a_run_that_fails_says_why_and_the_others_keep_their_rows(folder):
    status, said, err = run("sweep", "poems.txt", "--m", "8", "--eta", "1e9,0.1", "--updates", "50", "--workers", "1",
                            "--out", "diverged.csv", cwd=folder)
    assert status == 1
    named = "m 8, eta 1000000000.0, seq-length 25, seed 0 (FloatingPointError: the loss at update"
    assert f"failed: {named}" in err and f"1 run failed: {named}" in said and "again" not in said
    assert list(rows(folder / "diverged.csv")) == [("8", "0.1", "25", "0")]


def test_run_py_reads_the_users_paths_from_the_users_folder(folder):
    done = subprocess.run([sys.executable, str(SCRIPTS.parent / "run.py"), "sweep", "poems.txt", "--m", "8",
                           "--updates", "20", "--workers", "1", "--out", "mine.csv"],
                          cwd=folder, env={**os.environ, "RNN_RESULTS": str(folder / "results")}, capture_output=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    assert list(rows(folder / "mine.csv")) == [("8", "0.1", "25", "0")]


def listening(pids) -> list:
    """The addresses (host, port) that the processes pids and their children listen on for TCP connections."""
    processes = [psutil.Process(pid) for pid in pids]
    processes += [child for process in processes for child in process.children(recursive=True)]
    return sorted({(c.laddr.ip, c.laddr.port) for process in processes
                   for c in process.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN})


def test_the_tests_cluster_listens_on_loopback_only(dask_cluster):
    _, pids = dask_cluster
    addresses = listening(pids)
    assert len(addresses) >= 4 and {host for host, _ in addresses} == {"127.0.0.1"}, addresses  # comm and HTTP each


def readme_one_machine_commands():
    """The README's commands for a Dask cluster on this machine alone: the block that starts with `dask scheduler`
    on 127.0.0.1, as argument lists."""
    readme = (SCRIPTS.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```\n(.*?)```", readme, flags=re.S)
    (block,) = [b for b in blocks if b.startswith(".venv/bin/dask scheduler --host 127.0.0.1")]
    return [shlex.split(line) for line in block.splitlines()]


def test_the_readmes_cluster_for_one_machine_listens_on_loopback_only_and_sweeps(folder, tmp_path):
    scheduler, worker, sweep_line = readme_one_machine_commands()
    assert scheduler[0] == worker[0] == ".venv/bin/dask" and sweep_line[:3] == ["python3", "run.py", "sweep"]
    ports = {}
    for port in ("8786", "8787"):  # free ones here, as other clusters may hold the README's
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports[port] = str(s.getsockname()[1])

    def here(words):  # the dask of this environment, and the free ports
        words = [re.sub(r"\b(8786|8787)\b", lambda m: ports[m.group()], word) for word in words]
        return [sys.executable, "-m", "dask", *words[1:]] if words[0] == ".venv/bin/dask" else words

    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path, start_new_session=True)
    processes = [subprocess.Popen(here(scheduler), **quiet)]
    address = f"tcp://127.0.0.1:{ports['8786']}"
    try:
        wait_for(lambda: ("127.0.0.1", int(ports["8786"])) in listening([processes[0].pid]), "scheduler")
        processes.append(subprocess.Popen(here(worker), **quiet))
        status, out, err = run("sweep", "poems.txt", "--m", "8,12", "--updates", "50", "--scheduler", address,
                               "--out", "readme.csv", cwd=folder)
        assert status == 0 and f"on the Dask cluster at {address}" in out, err
        # the scheduler, its dashboard, and for each of the 2 workers its nanny, itself and its HTTP port (the
        # sweep may have finished on the first worker before the second, on a busy machine, was up)
        wait_for(lambda: len(listening([process.pid for process in processes])) >= 8, "both workers")
        addresses = listening([process.pid for process in processes])
        assert len(addresses) >= 8 and {host for host, _ in addresses} == {"127.0.0.1"}, addresses
        assert ("127.0.0.1", int(ports["8787"])) in addresses  # the dashboard, where the README says
    finally:
        for process in reversed(processes):  # the workers first; each in its session, with its children
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
