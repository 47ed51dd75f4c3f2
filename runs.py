"""Many independent training runs at once, each in its own worker process: on this machine with
joblib's process pool (loky), or on a Dask cluster given its scheduler's address.

rnnlib trains one run; this module dispatches many, and measures each on its held-out part.  One
implementation serves the notebooks, `run.py sweep` (scripts/sweep.py) and the tests:

    Spec(m=50, eta=0.2, seed=1, updates=5_000, held_out=0.1)   one training's settings
    run(spec, text) -> Result            that training, in this process (and its held-out
                                         bits per character, through rnnlib.train's on_update)
    map(run, [(spec, text), ...])        many, in worker processes: (index, Result or RunFailed)
                                         as each finishes
    Runner(workers=2).submit(f, *args)   one job in the background: a concurrent.futures.Future

What travels to a worker: the function, by its module and name (the worker imports it: a Dask
worker needs this project installed), and its arguments, pickled, the text among them; a
worker reads no file of the user's.  Each worker runs one job at a time with one BLAS thread,
so a run's result is bit for bit what the same rnnlib.train call gives in one process.

Dask itself is cluster.py's: connecting to a scheduler, the messages when none answers, sending
jobs and texts to its workers, and undoing in a worker what Dask's nanny does to memory allocation.
"""

from __future__ import annotations

import atexit
import collections
import concurrent.futures
import contextlib
import hashlib
import math
import numbers
import os
import signal
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import cluster
import rnnlib
from cluster import SchedulerUnreachable as SchedulerUnreachable  # what Runner raises

# The code a run's result depends on: a cached result is valid while these files are unchanged.
CODE_FILES = (Path(rnnlib.__file__), Path(__file__))


def default_workers() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# ----------------------------------------------------------------------------- one run


@dataclass(frozen=True)
class Spec:
    """One training's settings.  A run with seed S starts from RNN.init(K, m, sigma, rng=S) and
    trains with rng=S, as `run.py train --seed S` does; it stops after `updates` updates or
    `epochs` epochs, whichever comes first (give at least one).  held_out: the last fraction
    of the text is never trained on, and the final parameters' bits per character on it are
    measured (0: train on all of it); eval_every: measure it also every that many updates along
    the way (Result.eval_bpc)."""

    m: int = rnnlib.M
    eta: float = rnnlib.ETA
    seq_length: int = rnnlib.SEQ_LENGTH
    seed: int = rnnlib.DEFAULT_SEED
    updates: int | None = None
    epochs: int | None = None
    sigma: float = rnnlib.SIGMA
    dtype: str = "float64"
    held_out: float = 0.0
    eval_every: int | None = None

    def __post_init__(self):
        for name in ("m", "seq_length", "updates", "epochs", "eval_every"):
            if getattr(self, name) is not None:
                rnnlib.positive_int(getattr(self, name), name)
        if self.updates is None and self.epochs is None:
            raise ValueError("give updates or epochs (or both: the run stops at the first reached)")
        rnnlib.positive_int(self.seed, "seed", or_zero=True)
        rnnlib.positive_number(self.eta, "eta")
        rnnlib.positive_number(self.sigma, "sigma", or_zero=True)
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', not {self.dtype!r}")
        if not (isinstance(self.held_out, numbers.Real) and 0 <= self.held_out < 1):
            raise ValueError(f"held_out must be a fraction in [0, 1), not {self.held_out!r}")
        if self.eval_every is not None and not self.held_out:
            raise ValueError("eval_every measures the held-out part: give held_out too")


@dataclass
class Result:
    """What a run gives: its spec; updates done; the lowest smooth loss and the update it was
    reached at; held_out_bpc, rnnlib.bits_per_char of the final parameters on the held-out part
    (nan without one); seconds, the wall time of the training in the worker; when asked, the
    whole rnnlib.History (smooth loss per update, best model); and with spec.eval_every, eval_bpc:
    {u: bits per character on the held-out part after u updates} for u = 0, eval_every, ... below
    the last update (whose are held_out_bpc)."""

    spec: Spec
    updates: int
    best_smooth_loss: float
    best_update: int
    held_out_bpc: float
    seconds: float
    history: rnnlib.History | None = None
    eval_bpc: dict = field(default_factory=dict)


def run(spec: Spec, text: str, source: str = "text", history: bool = False) -> Result:
    """Train one run of spec on text (a str: the text itself, not a path) in this process."""
    corpus = rnnlib.Corpus(text, source)
    train_part, held_out = corpus.split(1 - spec.held_out) if spec.held_out else (corpus, None)
    rnn = rnnlib.RNN.init(corpus.K, spec.m, sigma=spec.sigma, rng=spec.seed, dtype=np.dtype(spec.dtype))
    eval_bpc = {}  # with spec.eval_every: the held-out part after 0, eval_every, 2 eval_every, ... updates

    def measure(state):  # called after each update; the final parameters' measure is bpc, below
        if state.update % spec.eval_every == 0 and state.update < state.total:
            eval_bpc[state.update] = rnnlib.bits_per_char(state.rnn, held_out.data)

    start = time.perf_counter()
    if spec.eval_every:
        eval_bpc[0] = rnnlib.bits_per_char(rnn, held_out.data)
    trained = rnnlib.train(rnn, train_part, epochs=spec.epochs, updates=spec.updates, seq_length=spec.seq_length,
                           eta=spec.eta, rng=spec.seed, sample_every=None, progress=False,
                           on_update=measure if spec.eval_every else None)
    seconds = time.perf_counter() - start
    bpc = math.nan if held_out is None else rnnlib.bits_per_char(rnn, held_out.data)
    return Result(spec, trained.updates, trained.best_loss, trained.best_update, bpc, seconds,
                  trained if history else None, eval_bpc)


def code_fingerprint() -> str:
    """SHA-256 of the code a run's result depends on (CODE_FILES) and NumPy's version."""
    digest = hashlib.sha256(np.__version__.encode())
    for path in CODE_FILES:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def cache_key(spec: Spec, text: str) -> str:
    """A name for run(spec, text)'s result that changes with the text, the settings or the code:
    a result saved under it may be reused instead of training again."""
    return hashlib.sha256(f"{rnnlib.text_fingerprint(text)} {spec!r} {code_fingerprint()}".encode()).hexdigest()


# ----------------------------------------------------------------------------- many runs


class RunFailed(Exception):
    """A job that gave no result: it raised (lost False; the error is the __cause__), or its
    worker process died, e.g. killed (lost True).  job: its arguments, to say which run it was
    and to submit it again."""

    def __init__(self, message: str, job: tuple = (), lost: bool = False):
        super().__init__(message)
        self.job, self.lost = job, lost


def _describe(function, args) -> str:
    shown = next((repr(a) for a in args if isinstance(a, Spec)), "")
    return f"{getattr(function, '__name__', 'job')}({shown})" if shown else getattr(function, "__name__", "job")


def _init_worker(parent: int):
    """In each local worker, before its first job.  Ctrl-C reaches the whole process group, and
    the parent decides (it cancels), so the worker ignores it (rnnlib.train keeps ignoring it).
    A parent that dies without cancelling (killed) leaves no worker training for no one, even
    one that dies before this runs (parent: its pid, given by the parent)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def exit_with_parent():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=exit_with_parent, daemon=True).start()


def _call(function, *args):
    """A job, in a worker: one BLAS thread, so that runs side by side do not compete for cores
    (numpy is loaded by now, so threadpoolctl finds its BLAS)."""
    cluster.unfix_mmap_threshold()
    with threadpool_limits(limits=1):
        return function(*args)


_live_runners = weakref.WeakSet()


class Runner:
    """Jobs in worker processes, started as they are submitted and run in that order.

    workers: local worker processes (default: all cores), each a one-process loky executor, so
    that a worker that dies is known to have been running exactly its job; they start with
    the first job and stop when there is nothing left to do (runner.workers may be raised
    meanwhile: more jobs then run at once).  scheduler: a Dask scheduler's
    address (e.g. tcp://host:8786) instead; workers is then the cluster's business (start them
    with `dask worker ADDRESS --nthreads 1`, so each runs one job at a time).  Raises
    SchedulerUnreachable if it does not answer within cluster.CONNECT_TIMEOUT seconds.

    submit returns a concurrent.futures.Future: its result is the job's return value; its
    exception RunFailed (the job raised, or its worker died) or CancelledError (cancelled).
    cancel() stops everything: jobs not started are dropped and local workers are killed (a job
    already running on a Dask worker runs to its end there; its result is dropped).  close()
    waits for the jobs submitted.  As a context manager: close() when the block ends, cancel()
    when an exception (Ctrl-C) leaves it.  Runners still working when Python exits are cancelled.
    """

    def __init__(self, *, workers: int | None = None, scheduler: str | None = None):
        self.workers = default_workers() if workers is None else rnnlib.positive_int(workers, "workers")
        self.scheduler = scheduler
        self._lock = threading.Condition()
        self._pending = collections.deque()    # (future, function, args), not started yet
        self._running = {}                     # engine future -> (our future, function, args, local slot)
        self._executors = {}                   # slot -> loky executor (local engine)
        self._thread = None
        self._cancelled = False
        self._cluster = cluster.Cluster(scheduler) if scheduler else None
        _live_runners.add(self)

    def submit(self, function, *args) -> concurrent.futures.Future:
        """Run function(*args) in a worker; function must be importable there by its name."""
        future = concurrent.futures.Future()
        with self._lock:
            if self._cancelled:
                raise RuntimeError("this Runner was cancelled: make a new one")
            if self._cluster is not None:
                self._submit_dask(future, function, args)
            else:
                self._pending.append((future, function, args))
                if self._thread is None:
                    self._thread = threading.Thread(target=self._dispatch, name="runs.Runner", daemon=True)
                    self._thread.start()
                self._lock.notify_all()
        return future

    def map(self, function, jobs):
        """function(*job) for each job: yields (index, return value or RunFailed) as each finishes.
        Ctrl-C (or leaving the loop early) cancels the jobs not yet finished."""
        futures = {self.submit(function, *job): i for i, job in enumerate(jobs)}
        try:
            for future in concurrent.futures.as_completed(futures):
                try:
                    yield futures[future], future.result()
                except RunFailed as failed:
                    yield futures[future], failed
        except BaseException:
            self.cancel()
            raise

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            pending, self._pending = list(self._pending), collections.deque()
            running = list(self._running.items())
            self._running.clear()
            executors, self._executors = list(self._executors.values()), {}
            self._lock.notify_all()
        for future, _, _ in pending:
            future.cancel()
        for engine_future, (future, *_) in running:
            if self._cluster is not None:
                engine_future.cancel()
            _settle(future, exception=concurrent.futures.CancelledError())
        # loky's shutdown trips over a job it has not handed to its worker yet: let it do that first
        deadline = time.monotonic() + 1
        for engine_future, _ in running:
            while (not (self._cluster or engine_future.running() or engine_future.done())
                   and time.monotonic() < deadline):
                time.sleep(0.01)
        for executor in executors:
            executor.shutdown(wait=False, kill_workers=True)
        if self._cluster is not None:
            self._cluster.close()

    def close(self) -> None:
        """Wait for the jobs submitted, then let the workers go."""
        with self._lock:
            while (self._pending or self._running or self._thread) and not self._cancelled:
                self._lock.wait(0.2)
        if self._cluster is not None and not self._cancelled:
            self._cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        self.cancel() if kind is not None else self.close()

    # --- the local engine: a thread hands each waiting job to the first free one-process executor

    def _dispatch(self):
        while True:
            with self._lock:
                self._start_waiting_jobs()
                if self._cancelled or not self._running:  # all done: let the workers go
                    executors, self._executors = list(self._executors.values()), {}
                    self._thread = None
                    self._lock.notify_all()
                    break
                waiting = list(self._running)
            done, _ = concurrent.futures.wait(waiting, timeout=0.5, return_when="FIRST_COMPLETED")
            with self._lock:
                for engine_future in done:
                    if engine_future in self._running:  # else cancelled meanwhile
                        self._finish_local(engine_future)
                self._lock.notify_all()
        for executor in executors:
            executor.shutdown(wait=True)

    def _start_waiting_jobs(self):
        from joblib.externals.loky import ProcessPoolExecutor

        busy = {slot for *_, slot in self._running.values()}
        free = [slot for slot in range(self.workers) if slot not in busy]
        while free and self._pending:
            future, function, args = self._pending.popleft()
            if not future.set_running_or_notify_cancel():  # cancelled while it waited
                continue
            slot = free.pop(0)
            if slot not in self._executors:
                self._executors[slot] = ProcessPoolExecutor(max_workers=1, initializer=_init_worker,
                                                            initargs=(os.getpid(),))
            self._running[self._executors[slot].submit(_call, function, *args)] = future, function, args, slot

    def _finish_local(self, engine_future):
        from joblib.externals.loky.process_executor import BrokenProcessPool

        future, function, args, slot = self._running.pop(engine_future)
        try:
            _settle(future, result=engine_future.result())
        except BrokenProcessPool as err:  # its worker died: a new one takes the slot's next job
            self._executors.pop(slot).shutdown(wait=False, kill_workers=True)
            _settle(future, exception=RunFailed(f"{_describe(function, args)} was lost: its worker process "
                                                f"died ({err}); it can be submitted again", args, lost=True))
        except Exception as err:
            _settle(future, exception=_failed(function, args, err))

    # --- the Dask engine: the scheduler queues and places the jobs

    def _submit_dask(self, future, function, args):
        engine_future = self._cluster.submit(_call, function, *args)
        future.set_running_or_notify_cancel()
        self._running[engine_future] = future, function, args, None

        def finished(engine_future):
            with self._lock:
                entry = self._running.pop(engine_future, None)
                self._lock.notify_all()
            if entry is None:  # cancelled
                return
            future, function, args, _ = entry
            if engine_future.status == "finished":
                _settle(future, result=engine_future.result())
                return
            error = engine_future.exception() if engine_future.status == "error" else None
            if why := cluster.lost(error):
                _settle(future, exception=RunFailed(f"{_describe(function, args)} was lost: {why}; it can be "
                                                    f"submitted again", args, lost=True))
            else:
                _settle(future, exception=_failed(function, args, error))

        engine_future.add_done_callback(finished)


def _failed(function, args, error) -> RunFailed:
    failed = RunFailed(f"{_describe(function, args)} failed: {type(error).__name__}: {error}", args)
    failed.__cause__ = error
    return failed


def _settle(future, result=None, exception=None):
    """Give future its outcome unless it has one (a cancelled job's worker may still answer)."""
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        future.set_exception(exception) if exception is not None else future.set_result(result)


def map(function, jobs, *, workers: int | None = None, scheduler: str | None = None):
    """function(*job) for each job of jobs, each in a worker process: locally with `workers`
    processes (default: all cores), or on the Dask cluster whose scheduler is at `scheduler`.
    Yields (index into jobs, return value) as each finishes, the value a RunFailed for a job
    that raised or whose worker died (the others go on).  Ctrl-C stops the workers and
    propagates; everything yielded before it is the caller's."""
    with Runner(workers=workers, scheduler=scheduler) as runner:
        yield from runner.map(function, jobs)


@atexit.register
def _cancel_live_runners():
    for runner in list(_live_runners):
        runner.cancel()
