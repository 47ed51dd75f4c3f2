"""The runner: runs in worker processes give exactly the same results as rnnlib.train in this
process, whatever the engine or the worker count; failures, lost workers and cancelling."""

import concurrent.futures
import dataclasses
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

import cluster
import rnnlib
import runs

TEXT = rnnlib.python_docs_text()[:20_000]
SPECS = [runs.Spec(m=16, updates=300, seed=0),
         runs.Spec(m=12, eta=0.2, seq_length=20, updates=250, seed=3, held_out=0.1, eval_every=100),
         runs.Spec(m=16, epochs=1, updates=200, seed=1, dtype="float32", sigma=0.05)]


def trained_here(spec: runs.Spec, updates: int | None = None):
    """spec's run as the plain rnnlib calls make it, in this process, stopped after `updates` updates
    if given (0: the initial network): (history or None, final RNN, held-out part or None)."""
    corpus = rnnlib.Corpus(TEXT)
    part, held = corpus.split(1 - spec.held_out) if spec.held_out else (corpus, None)
    rnn = rnnlib.RNN.init(corpus.K, spec.m, sigma=spec.sigma, rng=spec.seed, dtype=np.dtype(spec.dtype))
    history = None if updates == 0 else rnnlib.train(
        rnn, part, epochs=spec.epochs, updates=updates or spec.updates, seq_length=spec.seq_length, eta=spec.eta,
        rng=spec.seed, progress=False)
    return history, rnn, held


def expected_run(spec: runs.Spec):
    """(history, final RNN, held-out part, {u: held-out bits per character after u updates}), the
    last for u = 0, eval_every, ... below the total, each from a run of its own stopped after u."""
    history, rnn, held = trained_here(spec)
    marks = range(0, history.updates, spec.eval_every) if spec.eval_every else []
    return history, rnn, held, {u: rnnlib.bits_per_char(trained_here(spec, u)[1], held.data) for u in marks}


@pytest.fixture(scope="module")
def expected():
    return [expected_run(spec) for spec in SPECS]


def assert_same(result: runs.Result, spec, expected):
    history, rnn, held, evals = expected
    assert result.spec == spec and result.updates == history.updates
    assert np.array_equal(result.history.smooth_loss, history.smooth_loss)
    assert result.best_smooth_loss == history.best_loss and result.best_update == history.best_update
    assert np.array_equal(result.history.best.theta, history.best.theta)
    assert result.eval_bpc == evals
    if held is None:
        assert math.isnan(result.held_out_bpc)
    else:
        assert result.held_out_bpc == rnnlib.bits_per_char(rnn, held.data)
    assert result.seconds > 0


@pytest.mark.parametrize("workers", [1, 2])
def test_runs_in_local_workers_are_bit_for_bit_the_train_calls(workers, expected):
    results = dict(runs.map(runs.run, [(spec, TEXT, "docs", True) for spec in SPECS], workers=workers))
    assert sorted(results) == [0, 1, 2]
    for i, spec in enumerate(SPECS):
        assert_same(results[i], spec, expected[i])


def test_runs_on_a_dask_cluster_are_bit_for_bit_the_train_calls(dask_scheduler, expected):
    long_text = TEXT * 6  # over 100 kB: sent to the cluster once, not with each job
    jobs = [(spec, TEXT, "docs", True) for spec in SPECS] + [(SPECS[0], long_text), (SPECS[1], long_text)]
    results = dict(runs.map(runs.run, jobs, scheduler=dask_scheduler))
    for i, spec in enumerate(SPECS):
        assert_same(results[i], spec, expected[i])
    here = [runs.run(SPECS[0], long_text), runs.run(SPECS[1], long_text)]
    numbers = lambda r: (r.spec, r.updates, r.best_smooth_loss, r.best_update, repr(r.held_out_bpc))  # noqa: E731
    assert [numbers(results[3]), numbers(results[4])] == [numbers(r) for r in here]


def test_an_unreachable_scheduler_is_named(free_port, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1)
    with pytest.raises(runs.SchedulerUnreachable, match=f"no Dask scheduler answered at tcp://127.0.0.1:{free_port} "
                                                          f"within 1 s"):
        list(runs.map(runs.run, [(SPECS[0], TEXT)], scheduler=f"tcp://127.0.0.1:{free_port}"))


def test_a_tls_address_without_a_client_certificate_is_refused_before_connecting(free_port):
    with pytest.raises(runs.SchedulerUnreachable, match=f"tls://127.0.0.1:{free_port} is a TLS address, and this "
                                                          f"client has no certificate: .*TLS__CLIENT__CERT"):
        list(runs.map(runs.run, [(SPECS[0], TEXT)], scheduler=f"tls://127.0.0.1:{free_port}"))


def kill_own_process():
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_failed_run_and_a_dead_worker_cost_only_their_own_runs():
    too_long = runs.Spec(m=4, updates=10, seq_length=500)
    jobs = [(runs.run, (SPECS[0], TEXT)), (runs.run, (too_long, "short text")), (kill_own_process, ()),
            (runs.run, (SPECS[2], TEXT))]
    with runs.Runner(workers=2) as runner:
        futures = [runner.submit(function, *args) for function, args in jobs]
        concurrent.futures.wait(futures, timeout=60)
    assert futures[0].result().updates == 300 and futures[3].result().updates == 200
    with pytest.raises(runs.RunFailed, match=r"run\(Spec\(m=4.*\) failed: ValueError: .* fewer than seq_length"):
        futures[1].result()
    assert not futures[1].exception().lost and isinstance(futures[1].exception().__cause__, ValueError)
    with pytest.raises(runs.RunFailed, match="kill_own_process was lost: its worker process died") as lost:
        futures[2].result()
    assert lost.value.lost and lost.value.job == ()


def test_map_yields_failures_as_values():
    outcomes = dict(runs.map(runs.run, [(SPECS[0], TEXT), (SPECS[0], "x")], workers=2))
    assert outcomes[0].updates == 300 and isinstance(outcomes[1], runs.RunFailed)


def gone(pid: int, within: float = 10) -> bool:
    """Whether process pid ends (or is a zombie: ended, not yet reaped) within that many seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def test_cancelling_kills_the_workers_and_drops_the_waiting_jobs():
    runner = runs.Runner(workers=1)
    worker = runner.submit(os.getpid).result(timeout=60)
    busy, waiting = runner.submit(time.sleep, 60), runner.submit(os.getpid)
    time.sleep(0.5)
    runner.cancel()
    assert waiting.cancelled()
    with pytest.raises(concurrent.futures.CancelledError):
        busy.result(timeout=5)
    assert gone(worker)


def test_ctrl_c_while_collecting_stops_the_workers():
    seen = []
    with pytest.raises(KeyboardInterrupt):
        for index, pid in runs.map(os.getpid, [()] * 1, workers=1):
            seen.append(pid)
            raise KeyboardInterrupt
    assert gone(seen[0])


def test_the_workers_of_a_killed_parent_stop(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", "import runs, time\nrunner = runs.Runner(workers=1)\n"
                               "runner.submit(time.sleep, 60)\nprint('started', flush=True)\ntime.sleep(60)"],
                              stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    assert parent.stdout.readline() == "started\n"
    deadline = time.monotonic() + 30
    while not (children := psutil.Process(parent.pid).children(recursive=True)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert children
    parent.kill()  # no chance to cancel anything
    parent.wait()
    assert [child.cmdline() for child in children if not gone(child.pid)] == []


def meet(folder: str, parties: int = 2, within: float = 60):
    """A job that leaves its pid in folder, then waits (up to `within` seconds) for `parties` pids
    there in all.  Returns (its pid, the pids it saw): all parties' only if they ran at once."""
    Path(folder, str(os.getpid())).touch()
    deadline = time.monotonic() + within
    while len(list(Path(folder).iterdir())) < parties and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.getpid(), sorted(int(p.name) for p in Path(folder).iterdir())


@pytest.mark.parametrize("engine", ["runner", "map"])
def test_two_workers_run_two_jobs_at_once_in_two_processes(tmp_path, engine):
    """Each job waits until both have started: with fewer workers than asked for, the first would
    wait alone for the second, queued behind it, and find itself alone when its wait runs out."""
    if engine == "runner":
        with runs.Runner(workers=2) as runner:
            outcomes = [runner.submit(meet, str(tmp_path)) for _ in range(2)]
        outcomes = [future.result() for future in outcomes]
    else:
        outcomes = [outcome for _, outcome in runs.map(meet, [(str(tmp_path),)] * 2, workers=2)]
    pids = sorted(pid for pid, _ in outcomes)
    assert len(set(pids)) == 2 and os.getpid() not in pids
    assert [seen for _, seen in outcomes] == [pids, pids]


BLAS_THREADS = """import json, runs
from threadpoolctl import threadpool_info
def blas(pools): return [pool["num_threads"] for pool in pools if pool["user_api"] == "blas"]
[(_, pools)] = runs.map(threadpool_info, [()], workers=1)
print(json.dumps([blas(threadpool_info()), blas(pools)]))
"""


def test_a_job_trains_with_one_blas_thread():
    """In a process whose BLAS has its default threads (run.py test gives this one a single thread)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", BLAS_THREADS], env=env, capture_output=True, text=True, timeout=120)
    parent, worker = json.loads(done.stdout.splitlines()[-1])
    if max(parent) < 2:
        pytest.skip("this machine's BLAS has one thread anyway: a worker's limit could not show")
    assert worker and worker == [1] * len(worker)


BASE = runs.Spec(updates=100, held_out=0.1)
OTHER_VALUES = dict(m=50, eta=0.05, seq_length=20, seed=1, updates=200, epochs=3, sigma=0.02, dtype="float32",
                    held_out=0.2, eval_every=10)


def test_the_cache_key_changes_with_each_setting():
    assert set(OTHER_VALUES) == {field.name for field in dataclasses.fields(runs.Spec)}  # every field, a new one too
    key = runs.cache_key(BASE, TEXT)
    assert runs.cache_key(runs.Spec(updates=100, held_out=0.1), TEXT) == key
    for name, value in OTHER_VALUES.items():
        assert getattr(BASE, name) != value
        assert runs.cache_key(dataclasses.replace(BASE, **{name: value}), TEXT) != key, name


def test_the_cache_key_changes_with_the_text():
    key = runs.cache_key(BASE, TEXT)
    for text in (TEXT[:-1] + "!", TEXT[:-1], TEXT + " ", "!" + TEXT[1:]):
        assert runs.cache_key(BASE, text) != key


def test_the_cache_key_changes_with_numpys_version(monkeypatch):
    key = runs.cache_key(BASE, TEXT)
    monkeypatch.setattr(np, "__version__", np.__version__ + ".post1")
    assert runs.cache_key(BASE, TEXT) != key


def test_the_code_files_are_the_library_and_the_runner():
    assert sorted(path.resolve() for path in runs.CODE_FILES) == [Path(rnnlib.__file__), Path(runs.__file__)]


@pytest.mark.parametrize("edited", range(len(runs.CODE_FILES)))
def test_the_cache_key_changes_with_each_code_file(tmp_path, monkeypatch, edited):
    key = runs.cache_key(BASE, TEXT)
    code = [tmp_path / path.name for path in runs.CODE_FILES]
    for source, copy in zip(runs.CODE_FILES, code):
        copy.write_bytes(source.read_bytes())
    monkeypatch.setattr(runs, "CODE_FILES", tuple(code))
    assert runs.cache_key(BASE, TEXT) == key
    code[edited].write_text(code[edited].read_text() + "\n# an edit\n")
    assert runs.cache_key(BASE, TEXT) != key


@pytest.mark.parametrize("settings, message", [
    (dict(m=0, updates=1), "m must be a positive integer, not 0"),
    (dict(m=2.5, updates=1), "m must be a positive integer, not 2.5"),
    (dict(seq_length=0, updates=1), "seq_length must be a positive integer, not 0"),
    (dict(), "give updates or epochs"),
    (dict(updates=0), "updates must be a positive integer, not 0"),
    (dict(epochs=-1), "epochs must be a positive integer, not -1"),
    (dict(updates=1, seed=-1), "seed must be a whole number >= 0, not -1"),
    (dict(updates=1, seed=True), "seed must be a whole number >= 0, not True"),
    (dict(updates=1, eta=0), "eta must be a positive finite number, not 0"),
    (dict(updates=1, eta=-1), "eta must be a positive finite number, not -1"),
    (dict(updates=1, eta=math.inf), "eta must be a positive finite number, not inf"),
    (dict(updates=1, sigma=-0.01), "sigma must be a finite number >= 0, not -0.01"),
    (dict(updates=1, sigma=math.nan), "sigma must be a finite number >= 0, not nan"),
    (dict(updates=1, dtype="float16"), "dtype must be"),
    (dict(updates=1, held_out=1.0), "held_out must be a fraction in"),
    (dict(updates=1, held_out=-0.1), "held_out must be a fraction in"),
    (dict(updates=1, held_out=0.1, eval_every=0), "eval_every must be a positive integer, not 0"),
    (dict(updates=1, eval_every=10), "eval_every measures the held-out part"),
])
def test_a_spec_refuses_bad_settings_when_made(settings, message):
    """At construction, in the caller's process, not later inside a worker."""
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        runs.Spec(**settings)


@pytest.mark.parametrize("workers", [0, -2, 1.5, True])
def test_a_runner_refuses_a_bad_worker_count(workers):
    with pytest.raises(ValueError, match=f"^workers must be a positive integer, not {workers!r}$"):
        runs.Runner(workers=workers)
