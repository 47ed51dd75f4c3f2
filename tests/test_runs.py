"""The runner: runs in worker processes give exactly the same results as rnnlib.train in this
process, whatever the engine or the worker count; failures, lost workers and cancelling."""

import concurrent.futures
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import psutil
import pytest

import rnnlib
import runs

TEXT = rnnlib.python_docs_text()[:20_000]
SPECS = [runs.Spec(m=16, updates=300, seed=0),
         runs.Spec(m=12, eta=0.2, seq_length=20, updates=250, seed=3, held_out=0.1, eval_every=100),
         runs.Spec(m=16, epochs=1, updates=200, seed=1, dtype="float32", sigma=0.05)]


def trained_here(spec: runs.Spec):
    """spec's run as the plain rnnlib calls make it, in this process: (history, final RNN, held out)."""
    corpus = rnnlib.Corpus(TEXT)
    part, held = corpus.split(1 - spec.held_out) if spec.held_out else (corpus, None)
    rnn = rnnlib.RNN.init(corpus.K, spec.m, sigma=spec.sigma, rng=spec.seed, dtype=np.dtype(spec.dtype))
    history = rnnlib.train(rnn, part, epochs=spec.epochs, updates=spec.updates, seq_length=spec.seq_length,
                           eta=spec.eta, rng=spec.seed, progress=False,
                           eval_data=None if held is None else held.data, eval_every=spec.eval_every or 10_000)
    return history, rnn, held


@pytest.fixture(scope="module")
def expected():
    return [trained_here(spec) for spec in SPECS]


def assert_same(result: runs.Result, spec, expected):
    history, rnn, held = expected
    assert result.spec == spec and result.updates == history.updates
    assert np.array_equal(result.history.smooth_loss, history.smooth_loss)
    assert result.best_smooth_loss == history.best_loss and result.best_update == history.best_update
    assert np.array_equal(result.history.best.theta, history.best.theta)
    assert result.history.eval_bpc == history.eval_bpc
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
    monkeypatch.setattr(runs, "CONNECT_TIMEOUT", 1)
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


def test_the_cache_key_changes_with_the_text_the_settings_and_the_code(tmp_path, monkeypatch):
    spec = runs.Spec(updates=100)
    key = runs.cache_key(spec, TEXT)
    assert runs.cache_key(runs.Spec(updates=100), TEXT) == key
    assert runs.cache_key(spec, TEXT[:-1] + "!") != key
    assert runs.cache_key(runs.Spec(updates=100, seed=1), TEXT) != key
    assert runs.cache_key(runs.Spec(updates=100, eta=0.05), TEXT) != key
    code = [tmp_path / path.name for path in runs.CODE_FILES]
    for source, copy in zip(runs.CODE_FILES, code):
        copy.write_bytes(source.read_bytes())
    monkeypatch.setattr(runs, "CODE_FILES", tuple(code))
    assert runs.cache_key(spec, TEXT) == key
    code[0].write_text(code[0].read_text() + "\n# an edit\n")
    assert runs.cache_key(spec, TEXT) != key


@pytest.mark.parametrize("settings, message", [
    (dict(m=0, updates=1), "m must be a positive integer, not 0"),
    (dict(), "give updates or epochs"),
    (dict(updates=1, eta=-1), "eta must be a positive finite number"),
    (dict(updates=1, held_out=1.0), "held_out must be a fraction in"),
    (dict(updates=1, eval_every=10), "eval_every measures the held-out part"),
    (dict(updates=1, dtype="float16"), "dtype must be"),
])
def test_a_spec_refuses_bad_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        runs.Spec(**settings)
