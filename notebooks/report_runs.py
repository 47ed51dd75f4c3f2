"""The report's runs beyond the main run: every training a notebook starts in worker processes
(runs.Runner) while its cells go on, in one place, so that a notebook reuses another's runs and the
tests' scale (shared.SCALE) reaches all of them.

- The seed runs (SeedRuns, seed_runs): the main run's settings but for the seed of U, W, V, kept in
  the results folder with their networks; notebook 2 shows them as the band of luck, notebooks 4, 5
  and 6 reuse seeds 0, 1, 2 of them as the baseline of every comparison.
- Notebook 4's runs (train_runs): each seed without clipping (unclipped_run), and each truncation
  window at equal characters and at equal updates (window_run); run_all runs a list of jobs.
- Notebook 6's runs (Background): held_out_run, the same network on held-out and on seen text;
  dtype_runs, float64 against float32; other_kernel_run, a seed under another OpenBLAS kernel.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import rnnlib
import runs
from rnnlib import RNN, Corpus, History
from shared import SEEDS

# ------------------------------------------------------- the seed runs: notebook 2's band, every comparison's baseline


BAND_UPDATES = 20_000  # the seed runs' updates (times shared.SCALE): notebooks 4 and 6 reuse them


def seed_run(spec: runs.Spec, text: str, source: str) -> tuple:
    """The training runs.run(spec, text) does (spec holds out nothing), in a worker: (its smooth
    loss per update, its final parameters theta)."""
    corpus = Corpus(text, source)
    rnn = RNN.init(corpus.K, spec.m, sigma=spec.sigma, rng=spec.seed, dtype=np.dtype(spec.dtype))
    history = rnnlib.train(rnn, corpus, epochs=spec.epochs, updates=spec.updates, seq_length=spec.seq_length,
                           eta=spec.eta, rng=spec.seed, sample_every=None, progress=False)
    return history.smooth_loss, rnn.theta


class SeedRuns:
    """Runs that differ only in the seed of U, W, V (the published run is one such draw), for
    their first `updates` updates, started at once in worker processes (runs.Runner: `runner`,
    or a new one with a worker per core but one, the notebook training its main run meanwhile).
    dtype "float32": the same runs in float32.

    Each is kept in the results folder under a key of the text, its settings and the code
    (runs.cache_key), its final network beside it, and recalled instead of trained again:
    notebooks 4, 5 and 6 reuse notebook 2's.  from_main: the seed of the main run, whose first
    updates are that seed's run: not started, collect takes it from the main run (and its network
    after `updates` updates, if the main run's training called watch after each update)."""

    def __init__(self, corpus: Corpus, seeds=range(6), updates: int = BAND_UPDATES, m: int = rnnlib.M, *,
                 from_main: int | None = None, runner: runs.Runner | None = None, dtype: str = "float64"):
        self.corpus, self.seeds, self.updates, self.from_main = corpus, list(seeds), updates, from_main
        self.specs = {seed: runs.Spec(m=m, seed=seed, updates=updates, dtype=dtype) for seed in self.seeds}
        self.kept = {seed: loss for seed in self.seeds if (loss := self._recall(seed)) is not None}
        self.runner, self.own_runner, self.pending, self._keeping = runner, runner is None, {}, threading.Lock()
        self._watched = None  # the main run's parameters after `updates` updates, if watch saw them
        for seed in self.seeds:
            if seed not in self.kept and seed != from_main:
                self._start(seed)

    def _path(self, seed) -> Path:
        return rnnlib.RESULTS_DIR / "seed_runs" / f"{runs.cache_key(self.specs[seed], self.corpus.text)}.npy"

    def _recall(self, seed):
        with contextlib.suppress(OSError, ValueError):  # none kept, or a damaged file: train it again
            return np.load(self._path(seed), allow_pickle=False)
        return None

    def _network_path(self, seed) -> Path:
        return rnnlib.RESULTS_DIR / "seed_networks" / self._path(seed).name

    def _start(self, seed):
        if self.runner is None:
            self.runner = runs.Runner(workers=max(1, runs.default_workers() - 1))
        future = self.runner.submit(seed_run, self.specs[seed], self.corpus.text, self.corpus.source)
        future.add_done_callback(lambda done: self._keep_run(seed, done))  # kept even if no one collects it
        self.pending[seed] = future

    def _keep_run(self, seed, future):
        if not future.cancelled() and future.exception() is None:
            with self._keeping:
                loss, theta = future.result()
                self._save(self._network_path(seed), theta)
                if seed not in self.kept:
                    self._keep(seed, loss)

    def _keep(self, seed, loss):
        self._save(self._path(seed), loss)
        self.kept[seed] = loss

    @staticmethod
    def _save(path: Path, array):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"partial-{path.name}")  # whole or absent: replaced in one step
        np.save(partial, array)
        os.replace(partial, path)

    def watch(self, state) -> None:
        """An on_update hook for the main run's training: keeps its parameters after `updates`
        updates, the network of seed from_main's run, which collect saves if it is that run."""
        if state.update == self.updates:
            self._watched = state.rnn.theta.copy()

    def _is_main_run(self, history: History, seed: int) -> bool:
        """Whether history is the run of this seed: its first two updates are that run's."""
        spec = self.specs[seed]
        if history is None or history.updates < spec.updates:
            return False
        first = rnnlib.train(RNN.init(self.corpus.K, m=spec.m, rng=seed), self.corpus, updates=2, rng=seed,
                             sample_every=None, progress=False)
        return np.array_equal(first.smooth_loss, history.smooth_loss[:2])

    def collect(self, main: History | None = None) -> dict:
        """{seed: smooth loss per update}, waiting for the runs still training (each is kept as
        it arrives, collected or not).  main: the main run's history, the seed from_main's run
        (trained now instead if main is not that run or stopped before `updates` updates).  A
        stop while waiting stops the workers; the runs already finished stay kept."""
        if self.runner is not None and self.own_runner:  # the main run is over: its core takes seed runs too
            self.runner.workers = runs.default_workers()
        try:
            if self.from_main is not None and self.from_main not in self.kept and self.from_main not in self.pending:
                if self._is_main_run(main, self.from_main):
                    self._keep(self.from_main, main.smooth_loss[:self.updates].copy())
                    if self._watched is not None:
                        self._save(self._network_path(self.from_main), self._watched)
                else:
                    print(f"Seed {self.from_main}'s run is trained too: the main run given is not its run, "
                          f"or stopped before {self.updates:,} updates.")
                    self._start(self.from_main)
            seeds = {future: seed for seed, future in self.pending.items()}
            for future in concurrent.futures.as_completed(seeds):
                future.result()  # a run that failed says so here
                self._keep_run(seeds[future], future)
        except KeyboardInterrupt:
            if self.runner is not None:
                self.runner.cancel()
            raise
        return {seed: self.kept[seed] for seed in self.seeds}

    def networks(self) -> dict:
        """{seed: the run's network after `updates` updates}, recalled from the results folder, or
        trained now (beside the runs still training) for the seeds whose network was not kept."""
        for seed in self.seeds:
            if not self._network_path(seed).is_file() and seed not in self.pending:
                self._start(seed)
        self.collect()
        networks = {}
        for seed, spec in self.specs.items():
            rnn = RNN.init(self.corpus.K, m=spec.m, sigma=spec.sigma, rng=seed, dtype=np.dtype(spec.dtype))
            rnn.theta[...] = np.load(self._network_path(seed), allow_pickle=False)
            networks[seed] = rnn
        return networks


def seed_runs(corpus: Corpus, seeds=range(6), updates: int = BAND_UPDATES, m: int = rnnlib.M, *,
              runner: runs.Runner | None = None, dtype: str = "float64") -> dict:
    """{seed: smooth loss per update} of SeedRuns (in dtype): recalled from the results folder, or
    trained in worker processes now."""
    return SeedRuns(corpus, seeds, updates, m, runner=runner, dtype=dtype).collect()


# ------------------------------------------------------------ notebook 4: without clipping, and the truncation windows


SEQ_LENGTHS = (10, rnnlib.SEQ_LENGTH, 50, 100)  # part 3's windows, the main run's among them
REACH_UPDATES = 4_000                           # part 1's network "after 4,000 updates" is part 3's run
CHARACTERS = REACH_UPDATES * rnnlib.SEQ_LENGTH  # with the main run's window, which reads this many characters
HELD_OUT = 50_000                               # characters at the end of the text that part 3 measures on
UNCLIPPED_UPDATES = BAND_UPDATES // 2           # the first half of the seed runs, the clipped runs part 2 reuses
SNAPSHOTS = 40                                  # W is kept at this many points of each part-3 run


def run_all(calls) -> list:
    """[function(*args) for function, *args in calls], the calls run side by side in worker
    processes on the local cores (runs.Runner); the results in the order of calls.  A failed
    call raises its runs.RunFailed; Ctrl-C cancels the rest."""
    with runs.Runner() as runner:
        futures = [runner.submit(function, *args) for function, *args in calls]
        return [future.result() for future in futures]


def train_runs(corpus: Corpus, seq_lengths=SEQ_LENGTHS, updates: int = REACH_UPDATES,
               unclipped_updates: int = UNCLIPPED_UPDATES, seeds=range(SEEDS)) -> tuple[list, dict]:
    """The notebook's trainings, side by side, for each seed: unclipped_run, and window_run for
    each seq_length at equal characters (as many as `updates` updates of the main run's window
    read) and at equal updates (`updates` each; the main run's window is the same run in both).
    Returns (windows: each run's dict with its "seed" and "equal": "characters" or "updates", the
    main run's window once for each; {seed: unclipped_run})."""
    characters = updates * rnnlib.SEQ_LENGTH
    jobs = [("unclipped", seed, (unclipped_run, corpus.text, corpus.source, unclipped_updates, seed))
            for seed in seeds]  # the longest first
    for seed in seeds:
        jobs += [("characters", seed, (window_run, corpus.text, corpus.source, n, characters, HELD_OUT, seed))
                 for n in seq_lengths]
        jobs += [("updates", seed, (window_run, corpus.text, corpus.source, n, updates * n, HELD_OUT, seed))
                 for n in seq_lengths if updates * n != characters]
    results = run_all([call for *_, call in jobs])
    unclipped, windows = {}, []
    for (equal, seed, _), result in zip(jobs, results):
        if equal == "unclipped":
            unclipped[seed] = result
            continue
        windows.append(dict(result, seed=seed, equal=equal))
        if result["characters"] == characters and result["updates"] == updates:  # the same run at both
            windows.append(dict(result, seed=seed, equal="updates"))
    return windows, unclipped


def window_run(text: str, source: str, seq_length: int, characters: int = CHARACTERS, held_out: int = HELD_OUT,
               seed: int = rnnlib.DEFAULT_SEED, m: int = rnnlib.M) -> dict:
    """The main run's settings but for seq_length, on all of text but its last held_out characters,
    for `characters` characters (characters // seq_length updates).

    Returns the final network ("rnn"); the CPU seconds its training took, in all and per character
    (CPU time, so that other work on the machine does not count); the held-out bits per character
    of the final network ("bpc", read on from the hidden state the training reached, over the
    stretches it reads better than a uniform guess: read_normally) and the share of stretches it
    reads worse ("stuck"); the smooth loss;
    and "sigma", the largest singular value of W after "sigma_updates" updates (0, 1, and about
    SNAPSHOTS more)."""
    corpus = Corpus(text, source)
    train_part, held = corpus.split(1 - held_out / len(corpus))
    updates = characters // seq_length
    rnn = RNN.init(corpus.K, m=m, rng=seed)
    snapshots = {0: largest_singular_value(rnn.W)}

    every = max(1, updates // SNAPSHOTS)

    reached = {}  # the hidden state training reached at the last update

    def snapshot(state):  # W after state.update updates: after the first, then every `every`
        reached["h"] = state.h
        if state.update % every == 1 or every == 1:
            snapshots[state.update] = largest_singular_value(state.rnn.W)

    start = time.process_time()
    history = rnnlib.train(rnn, train_part, updates=updates, seq_length=seq_length, rng=seed, sample_every=None,
                           on_update=snapshot, progress=False)
    seconds = time.process_time() - start
    snapshots[updates] = largest_singular_value(rnn.W)
    return dict(seq_length=seq_length, seed=seed, updates=updates, characters=updates * seq_length, rnn=rnn,
                seconds=seconds, seconds_per_char=seconds / (updates * seq_length),
                **dict(zip(("bpc", "stuck"), read_normally(stretch_bits(rnn, held.data, reached["h"]), corpus.K))),
                held_out=held.source,
                smooth_loss=history.smooth_loss, sigma_updates=np.array(list(snapshots)),
                sigma=np.array(list(snapshots.values())))


def unclipped_run(text: str, source: str, updates: int = UNCLIPPED_UPDATES, seed: int = rnnlib.DEFAULT_SEED,
                  m: int = rnnlib.M) -> dict:
    """The main run's settings without clipping, for `updates` updates or until the loss is not
    finite.  Returns its smooth loss, its clipped counts (entries beyond rnnlib.CLIP that clipping
    would have cut) and "diverged": the update whose loss was not finite, or None."""
    corpus = Corpus(text, source)
    rnn = RNN.init(corpus.K, m=m, rng=seed)
    diverged = None
    try:
        history = rnnlib.train(rnn, corpus, updates=updates, rng=seed, sample_every=None, progress=False, clip=None)
    except FloatingPointError as err:  # the loss overflowed: what was done until then is the result
        history = err.history
        diverged = history.updates
    return dict(smooth_loss=history.smooth_loss, clipped=history.clipped, diverged=diverged, updates=updates)


def largest_singular_value(W) -> float:
    return float(np.linalg.norm(W, 2))


# ------------------------------------------------------------------ notebook 6: held out, float32, another BLAS kernel


def _printing(function, args, kwargs):
    """function(*args, **kwargs) in a worker: (its value, what it printed).  Its progress bars, on
    stderr, are dropped: the notebook shows none for a run it does not train itself."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        value = function(*args, **kwargs)
    return value, printed.getvalue()


class Background:
    """A notebook's independent runs, training in worker processes (a runs.Runner) while its
    cells go on.  submit(name, function, *args, **kwargs) starts function (one of this module's:
    the workers import it) as soon as a worker is free, in the order submitted; result(name)
    waits for it and prints what it printed.  A stop while waiting stops them all."""

    def __init__(self, workers: int | None = None):
        self.runner, self.jobs = runs.Runner(workers=workers), {}

    def submit(self, name: str, function, *args, **kwargs) -> None:
        self.jobs[name] = self.runner.submit(_printing, function, args, kwargs)

    def result(self, name: str):
        try:
            value, printed = self.jobs[name].result()
        except KeyboardInterrupt:
            self.runner.cancel()
            raise
        print(printed, end="")
        return value


@dataclass(eq=False)
class HeldOutRun:
    """What held_out_run measured: the training's history, and the bits per character of the same
    parameters on two texts of the same length, after each measured number of updates (0 first,
    the last update last): the held-out rest of the text, and the training part's last stretch;
    and, for the final parameters, the bits per character of each text's 1,000-character stretches
    (stretch_bits) and of each text read from a hidden state of zeros instead."""

    history: History
    held_out_bpc: dict        # {updates done: bits per character on the held-out part}
    training_bpc: dict        # {updates done: bits per character on as much of the training part's end}
    training_characters: int  # the length of the training part
    stretches: dict           # {"held out" / "training": stretch_bits of the final parameters on that text}
    from_zeros: dict          # {"held out" / "training": bits per character of the final parameters read from zeros}


def surprise(rnn: RNN, x, h0=None, chunk: int = 10_000) -> np.ndarray:
    """(n - 1,) -log2 p(x_{t+1} | x_1 ... x_t), the hidden state carried from h0 (default zeros)
    through all of x (rnnlib.bits_per_char is its mean); a chunk of it at a time."""
    h, bits = (np.zeros(rnn.m, dtype=rnn.dtype) if h0 is None else h0), []
    for start in range(0, len(x) - 1, chunk):
        end = min(start + chunk, len(x) - 1)
        H = rnnlib.hidden_states(rnn, x[start:end], h)                    # (end - start + 1, m)
        P = rnnlib.probabilities(rnn, H)                                  # (end - start, K)
        bits.append(-np.log2(P[np.arange(end - start), x[start + 1:end + 1]]))
        h = H[-1]
    return np.concatenate(bits)


def stretch_bits(rnn: RNN, x, h0=None, stretch: int = 1_000) -> np.ndarray:
    """The mean surprise (bits per character) of each whole stretch of `stretch` characters of x
    (x whole, if shorter), read as bits_per_char reads it from h0, the state carried through."""
    bits = surprise(rnn, x, h0)
    if len(bits) < stretch:
        return bits.mean(keepdims=True)
    return bits[:len(bits) // stretch * stretch].reshape(-1, stretch).mean(axis=1)


HELD_OUT_EPOCHS = 1  # notebook 6's held-out runs: each character of the training part read once


def read_normally(stretches, K: int) -> tuple[float, float]:
    """(bits per character over the stretches (stretch_bits) read better than a uniform guess over K
    characters, the share read worse): a network fallen into a state that predicts worse than knowing
    nothing is measured where it reads the text (over all stretches, if it reads none better)."""
    normal = stretches <= np.log2(K)
    return float(stretches[normal].mean() if normal.any() else stretches.mean()), float(1 - normal.mean())


def held_out_run(corpus: Corpus, fraction: float = 0.9, epochs: int = 4, seed: int = rnnlib.DEFAULT_SEED,
                 m: int = rnnlib.M, eval_every: int = 10_000, updates: int | None = None) -> HeldOutRun:
    """Train with the assignment's settings on the first `fraction` of the text for `epochs` epochs
    (or `updates` updates, if fewer).  Before the first update, every eval_every updates and after
    the last, the same parameters read two texts of the same length on from the hidden state the
    training has reached: the rest of the text, never trained on, and the training part's last
    stretch; after the last, their stretch_bits read the same way, and both read from zeros."""
    train_part, held_out = corpus.split(fraction)
    seen = train_part.data[-len(held_out.data):]
    print(f"training on {train_part.source} ({len(train_part):,} characters), measuring on "
          f"{held_out.source} ({len(held_out):,}) and on as many of the training part's last characters")
    held_out_bpc, training_bpc = {}, {}

    reached = {}  # the hidden state training reached at the last update
    def measure(update: int, rnn: RNN, h=None) -> None:
        held_out_bpc[update] = rnnlib.bits_per_char(rnn, held_out.data, h)
        training_bpc[update] = rnnlib.bits_per_char(rnn, seen, h)

    def at_the_marks(state):  # after every update: measure after every eval_every and after the last
        reached["h"] = state.h
        if state.update % eval_every == 0 or state.update == state.total:
            measure(state.update, state.rnn, state.h)

    rnn = RNN.init(corpus.K, m=m, rng=seed)
    measure(0, rnn)
    history = rnnlib.train(rnn, train_part, epochs=epochs, updates=updates, rng=seed, sample_every=None,
                           on_update=at_the_marks, progress=False)
    stretches = {"held out": stretch_bits(rnn, held_out.data, reached["h"]),
                 "training": stretch_bits(rnn, seen, reached["h"])}
    from_zeros = {"held out": rnnlib.bits_per_char(rnn, held_out.data), "training": rnnlib.bits_per_char(rnn, seen)}
    return HeldOutRun(history, held_out_bpc, training_bpc, len(train_part), stretches, from_zeros)


def dtype_runs(corpus: Corpus, updates: int = 20_000, seed: int = rnnlib.DEFAULT_SEED,
               m: int = rnnlib.M) -> dict:
    """{dtype name: (smooth loss, CPU seconds per update)} for the same run in float64 and float32
    (CPU time, so that the notebooks and runs training beside it do not count)."""
    by_dtype = {}
    for dtype in (np.float64, np.float32):
        rnn = RNN.init(corpus.K, m=m, rng=seed, dtype=dtype)
        start = time.process_time()
        history = rnnlib.train(rnn, corpus, updates=updates, rng=seed, sample_every=None)
        by_dtype[np.dtype(dtype).name] = history.smooth_loss, (time.process_time() - start) / updates
    return by_dtype


# OpenBLAS kernels every x86-64 machine since 2011 (2013) runs: the first that is not this process's own
KERNELS = ("Sandybridge", "Haswell")


_OTHER_KERNEL = """import sys, numpy as np, runs
from threadpoolctl import threadpool_info, threadpool_limits
text_path, out, seed, updates = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with threadpool_limits(limits=1):
    result = runs.run(runs.Spec(seed=seed, updates=updates), open(text_path, encoding="utf-8").read(), "text", True)
np.save(out, result.history.smooth_loss)
print(next((i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"), "unknown"))
"""


def blas_kernel() -> str:
    """The kernel this process's OpenBLAS runs (threadpoolctl), or "unknown" for another BLAS."""
    from threadpoolctl import threadpool_info

    return next((i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"),
                "unknown")


def other_kernel_run(corpus: Corpus, seed: int = rnnlib.DEFAULT_SEED, updates: int = 20_000,
                     kernel: str | None = None) -> dict:
    """The seed's run (runs.run, as notebook 2's seed runs) in a new Python process whose OpenBLAS
    was told, before NumPy loaded, to use `kernel` (OPENBLAS_CORETYPE; default the first of KERNELS
    that is not this process's): as another machine would round.  Returns its smooth loss, the
    kernel that process reports and this one's."""
    kernel = kernel or next(k for k in KERNELS if k != blas_kernel())
    with tempfile.TemporaryDirectory() as folder:
        text, out = os.path.join(folder, "text.txt"), os.path.join(folder, "loss.npy")
        with open(text, "w", encoding="utf-8") as f:
            f.write(corpus.text)
        done = subprocess.run([sys.executable, "-c", _OTHER_KERNEL, text, out, str(seed), str(updates)],
                              env={**os.environ, "OPENBLAS_CORETYPE": kernel}, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"the run under OPENBLAS_CORETYPE={kernel} failed: {done.stderr.strip()[-300:]}")
        return dict(smooth_loss=np.load(out), kernel=done.stdout.strip().splitlines()[-1], ours=blas_kernel(),
                    seed=seed, updates=updates)
