"""The runs, tables, figures and sentences of notebooks/6_beyond.ipynb: the notebook's runs in
the background (Background, worker processes that train while its cells go on); bits per
character on held-out text against as much training text with the same parameters
(held_out_run and its table, verdict and figure, for each seed, and the verdict rule on the gap);
runs nudged by a rounding-sized change beside the seeds of notebook 2 (rounding_spread); the same
seed under another OpenBLAS kernel (other_kernel_run); float32 against float64 over the seeds
(dtype_runs for the time per update, plot_dtypes and dtype_verdict); and the Summary's lines.
"""

import contextlib
import io
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

import rnnlib
import runs
from rnnlib import RNN, Corpus, History
from shared import Table, bits, compare, perplexity, record_findings, subplots

# ----------------------------------------------------------------------------- runs in the background


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


# ----------------------------------------------------------------------------- does it generalise?


@dataclass(eq=False)
class HeldOutRun:
    """What held_out_run measured: the training's history, and the bits per character of the same
    parameters on two texts of the same length, after each measured number of updates (0 first,
    the last update last): the held-out rest of the text, and the training part's last stretch."""

    history: History
    held_out_bpc: dict        # {updates done: bits per character on the held-out part}
    training_bpc: dict        # {updates done: bits per character on as much of the training part's end}
    training_characters: int  # the length of the training part


def held_out_run(corpus: Corpus, fraction: float = 0.9, epochs: int = 4, seed: int = rnnlib.DEFAULT_SEED,
                 m: int = rnnlib.M, eval_every: int = 10_000, updates: int | None = None) -> HeldOutRun:
    """Train with the assignment's settings on the first `fraction` of the text, for `epochs`
    epochs (or `updates` updates, if fewer: the report's scale).  Before the
    first update, every eval_every updates and after the last one, the same parameters are
    measured on two texts of the same length: the rest of the text, which the network never sees,
    and the last stretch of the training part."""
    train_part, held_out = corpus.split(fraction)
    seen = train_part.data[-len(held_out.data):]
    print(f"training on {train_part.source} ({len(train_part):,} characters), measuring on "
          f"{held_out.source} ({len(held_out):,}) and on as many of the training part's last characters")
    held_out_bpc, training_bpc = {}, {}

    def measure(update: int, rnn: RNN) -> None:
        held_out_bpc[update] = rnnlib.bits_per_char(rnn, held_out.data)
        training_bpc[update] = rnnlib.bits_per_char(rnn, seen)

    def at_the_marks(state):  # after every update: measure after every eval_every and after the last
        if state.update % eval_every == 0 or state.update == state.total:
            measure(state.update, state.rnn)

    rnn = RNN.init(corpus.K, m=m, rng=seed)
    measure(0, rnn)
    history = rnnlib.train(rnn, train_part, epochs=epochs, updates=updates, rng=seed, sample_every=None,
                           on_update=at_the_marks, progress=False)
    return HeldOutRun(history, held_out_bpc, training_bpc, len(train_part))


def generalisation_table(run: HeldOutRun, updates=(0, 10_000, 50_000, 100_000)) -> Table:
    """Bits per character of the same parameters on the held-out part and on as much training
    text, and the held-out perplexity, at the given updates (those measured) and after the last."""
    held, seen = run.held_out_bpc, run.training_bpc
    marks = [u for u in updates if u in held] + [max(held)]
    rows = [[u, seen[u], held[u], held[u] - seen[u], float(perplexity(seen[u])), float(perplexity(held[u]))]
            for u in dict.fromkeys(marks)]
    return Table(["after updates", "training text", "held out", "held out − training",
                  "perplexity, training text", "perplexity, held out"], rows,
                 title="bits per character, the same parameters on both", float_format="{:.3f}")


def generalisation_verdict(run: HeldOutRun) -> float:
    """Print what the measurement of held_out_run supports, drawn from its last measurement and
    the first one after training began; return the last gap in bits per character."""
    held_bpc, seen_bpc = run.held_out_bpc, run.training_bpc
    u, first = max(held_bpc), min(k for k in held_bpc if k > 0)
    held, seen = held_bpc[u], seen_bpc[u]
    gap, first_gap = held - seen, held_bpc[first] - seen_bpc[first]
    print(f"After {u:,} updates: {held:.3f} bits per character held out, {seen:.3f} on as much training text "
          f"(gap {gap:+.3f}; after {first:,} updates {first_gap:+.3f}).")
    if gap > 0.1 * seen:
        print("The held-out text is predicted clearly worse than the training text: the network has begun to fit "
              "the text it trains on.")
    elif gap < -0.1 * seen:
        print("The held-out part is predicted clearly better than the training text: that part is easier.")
    elif abs(gap) > 0.02 * seen:
        print(f"The held-out text is predicted {'worse' if gap > 0 else 'better'} than the training text by "
              f"{abs(gap) / seen:.1%} of the bits: a small gap, {'wider' if abs(gap) > abs(first_gap) else 'no wider'} "
              f"than after {first:,} updates.")
    else:
        print(f"The network predicts text it never saw about as well as the text it trained on (a gap of "
              f"{abs(gap) / seen:.1%} of the bits): it has not memorised its training text. With "
              f"{run.history.best.theta.size:,} parameters for {run.training_characters:,} characters, whether "
              f"the network's size is what keeps the gap this small is untested: no run here varies m.")
    return gap


def gap_verdict(runs_by_seed: dict) -> dict:
    """The verdict rule on the held-out against the training text's bits per character after the
    last update, over the seeds' held_out_runs ({seed: HeldOutRun}), as a sentence; returns its
    line and Comparison."""
    held = {seed: run.held_out_bpc[max(run.held_out_bpc)] for seed, run in runs_by_seed.items()}
    seen = {seed: run.training_bpc[max(run.training_bpc)] for seed, run in runs_by_seed.items()}
    result = compare(held, seen, names=("held-out text", "training text"))
    u = max(next(iter(runs_by_seed.values())).held_out_bpc)
    line = (f"Bits per character after {u:,} updates, held out against as much training text: "
            f"{result.sentence('{:.3f}')}")
    print(line)
    return dict(line=line, comparison=result)


def plot_generalisation(run: HeldOutRun):
    """Bits per character on the held-out part and on as much training text, the same parameters,
    against the update; the training smooth loss in the same unit, light, behind them."""
    history, held, seen = run.history, run.held_out_bpc, run.training_bpc
    fig, ax = subplots(figsize=(9, 4))
    ax.plot(np.arange(history.updates), bits(history.smooth_loss), lw=0.8, color="grey", alpha=0.6,
            label="training smooth loss (a lagged average over past sequences)")
    ax.plot(list(seen), list(seen.values()), "s-", ms=3, color="C0",
            label="training text, as long as the held-out part")
    ax.plot(list(held), list(held.values()), "o-", ms=3, color="C3", label="held out (never trained on)")
    ax.set_ylim(None, 1.05 * max(held[k] for k in held if k > 0))
    for start in range(history.updates_per_epoch, history.updates, history.updates_per_epoch):
        ax.axvline(start, color="grey", ls="--", lw=0.8)
    ax.set(xlabel="update", ylabel="bits per character", title="Training and held-out loss")
    ax.legend()
    ax.grid(alpha=0.3)
    last = max(held)
    return fig.describe(
        f"Line chart of bits per character against the update, over {history.updates:,} updates with dashed lines "
        f"at the epoch boundaries: the held-out text (never trained on) and as much training text, the same "
        f"parameters, measured {len(held)} times, with the training smooth loss light behind them. After the last "
        f"update: {held[last]:.3f} held out, {seen[last]:.3f} on training text; the two lines run close together.")


# ----------------------------------------------------------------------------- why numbers differ


def power_of_ten(x: float) -> str:
    """10 to the power of log10(x), written with superscripts: 1e-15 -> "10⁻¹⁵"."""
    exponent = round(math.log10(x))
    return "10" + str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def rounding_spread(corpus: Corpus, nudges: int = 10, updates: int = 2_000, scale: float = 1e-15,
                    seed: int = rnnlib.DEFAULT_SEED, m: int = rnnlib.M):
    """The smooth loss of `nudges` runs from the same initial parameters, each multiplied entry by
    entry by (1 + scale z), z ~ N(0, 1), and of the unchanged run: (nudges + 1, updates), the
    unchanged run first."""
    start = RNN.init(corpus.K, m=m, rng=seed)
    losses = []
    for i in tqdm(range(nudges + 1), desc=f"{nudges} nudged runs and the original", unit="run"):
        rnn = start.copy()
        if i:
            rnn.theta *= 1 + scale * np.random.default_rng(i).standard_normal(rnn.theta.size)
        losses.append(rnnlib.train(rnn, corpus, updates=updates, rng=seed, sample_every=None,
                                   progress=False).smooth_loss)
    return np.array(losses)
def plot_spread(losses, seed_losses: dict | None = None, scale: float = 1e-15):
    """The nudged runs' smooth loss, and where each ends, beside the seed runs' at that update."""
    fig, ax = subplots(figsize=(9, 4))
    steps = np.arange(losses.shape[1])
    for loss in losses[1:]:
        ax.plot(steps, loss, lw=0.6, color="C1", alpha=0.7)
    ax.plot(steps, losses[0], lw=1.2, color="C0", label="unchanged parameters")
    ax.plot([], [], lw=0.6, color="C1", label=f"{len(losses) - 1} runs nudged by {power_of_ten(scale)} of each entry")
    if seed_losses:
        ends = [loss[losses.shape[1] - 1] for loss in seed_losses.values()]
        ax.plot([losses.shape[1] - 1] * len(ends), ends, "x", color="k", label=f"{len(ends)} seeds, same update")
    ax.set(xlabel="update", ylabel="smooth loss", title="Identical runs but for rounding-sized nudges")
    ax.legend()
    ax.grid(alpha=0.3)
    ends = losses[:, -1]
    seeds = (f" Black crosses: {len(seed_losses)} seeds at the same update, "
             f"{min(loss[len(steps) - 1] for loss in seed_losses.values()):.2f} to "
             f"{max(loss[len(steps) - 1] for loss in seed_losses.values()):.2f}." if seed_losses else "")
    return fig.describe(
        f"Line chart of the smooth loss against the update for {len(losses)} runs over {len(steps):,} updates: the "
        f"unchanged one and {len(losses) - 1} nudged by {power_of_ten(scale)} of each entry. They start together "
        f"and end apart, from {ends.min():.2f} to {ends.max():.2f}." + seeds)


def spread_summary(losses, seed_losses: dict | None = None, scale: float = 1e-15) -> dict:
    """Print how far apart the nudged runs end, beside the seed runs after as many updates, and
    how the two spreads compare; return the standard deviations."""
    updates = losses.shape[1]
    ends = losses[:, -1]
    spread = {"rounding": float(ends.std())}
    print(f"After {updates:,} updates, {len(ends)} runs that differ by a relative {power_of_ten(scale)} in each "
          f"starting entry: smooth loss {ends.min():.2f} to {ends.max():.2f} (range {ends.max() - ends.min():.2f}, "
          f"standard deviation {ends.std():.2f}).")
    if seed_losses:
        seeds = np.array([loss[updates - 1] for loss in seed_losses.values()])
        spread["seeds"] = float(seeds.std())
        print(f"After {updates:,} updates, {len(seeds)} seeds: {seeds.min():.2f} to {seeds.max():.2f} (range "
              f"{seeds.max() - seeds.min():.2f}, standard deviation {seeds.std():.2f}).")
        ratio = spread["rounding"] / spread["seeds"]
        order = ("of the same order as the seeds' (within a factor of ten): a rounding-sized change is as good as "
                 "another seed" if 0.1 <= ratio <= 10 else
                 "far less than the seeds'" if ratio < 0.1 else "far more than the seeds'")
        spread["words"] = (f"after {updates:,} updates, runs nudged by a rounding-sized change spread {order}")
        print(f"The nudged runs spread {ratio:.2f} times as much as the seeds (standard deviations), "
              f"{order}; this was measured after {updates:,} updates only.")
    return spread


# ----------------------------------------------------------------------------- float32


def dtype_runs(corpus: Corpus, updates: int = 20_000, seed: int = rnnlib.DEFAULT_SEED, m: int = rnnlib.M) -> dict:
    """{dtype name: (smooth loss, seconds per update)} for the same run in float64 and float32."""
    by_dtype = {}
    for dtype in (np.float64, np.float32):
        rnn = RNN.init(corpus.K, m=m, rng=seed, dtype=dtype)
        start = time.perf_counter()
        history = rnnlib.train(rnn, corpus, updates=updates, rng=seed, sample_every=None)
        by_dtype[np.dtype(dtype).name] = history.smooth_loss, (time.perf_counter() - start) / updates
    return by_dtype


def plot_dtypes(float64: dict, float32: dict, by_dtype: dict | None = None):
    """The smooth loss of each seed's run in float64 and in float32 ({seed: smooth loss}) on one
    axis; by_dtype (dtype_runs): the time per update of each, in the legend."""
    fig, ax = subplots(figsize=(9, 3.8))
    for name, losses, colour in (("float64", float64, "C0"), ("float32", float32, "C1")):
        timing = f", {by_dtype[name][1] * 1e6:.0f} µs per update" if by_dtype else ""
        for i, loss in enumerate(losses.values()):
            ax.plot(np.arange(len(loss)), loss, lw=0.8, color=colour,
                    label=f"{name}, seeds {', '.join(map(str, losses))}{timing}" if i == 0 else None)
    ax.set(xlabel="update", ylabel="smooth loss", title="float32 against float64, the same seeds")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    def ends(losses):
        return ", ".join(f"seed {seed} {loss[-1]:.2f}" for seed, loss in losses.items())
    return fig.describe(
        f"One line chart: the smooth loss against the update of {len(float64)} seeds' runs in float64 (ends: "
        f"{ends(float64)}) and the same seeds in float32 (ends: {ends(float32)}), on one axis.")


def dtype_verdict(float64: dict, float32: dict) -> dict:
    """The verdict rule on the smooth loss after the runs' last update, float32 against float64
    over the same seeds ({seed: smooth loss}), as a sentence; returns its line and Comparison."""
    n = min(len(loss) for loss in (*float64.values(), *float32.values()))
    result = compare({seed: float(loss[n - 1]) for seed, loss in float32.items()},
                     {seed: float(loss[n - 1]) for seed, loss in float64.items()}, names=("float32", "float64"))
    line = f"Smooth loss after {n:,} updates: {result.sentence()}"
    print(line)
    return dict(line=line, comparison=result)


# ----------------------------------------------------------------------------- another BLAS kernel

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


def kernel_summary(other: dict, seed_losses: dict, marks: int = 4) -> dict:
    """The same seed's smooth loss here and under the other kernel at a few updates, and how far
    apart they end beside the seeds' range after as many updates, as sentences."""
    theirs, seed = other["smooth_loss"], other["seed"]
    ours = seed_losses[seed][:len(theirs)]
    n = len(theirs)
    print(f"Seed {seed} under OpenBLAS's {other['kernel']} kernel, beside this notebook's {other['ours']}:")
    for u in np.linspace(0, n - 1, marks + 1).astype(int)[1:]:
        print(f"  update {u + 1:>7,}: {ours[u]:.2f} here, {theirs[u]:.2f} there "
              f"(difference {theirs[u] - ours[u]:+.2f})")
    apart = abs(float(theirs[-1] - ours[-1]))
    ends = [float(loss[n - 1]) for loss in seed_losses.values()]
    width = max(ends) - min(ends)
    same = other["kernel"] == other["ours"]
    words = ("the two processes ran the same kernel: this machine cannot show another's rounding" if same else
             "bit for bit the same: the kernels round this run alike" if apart == 0 else
             "another kernel moves the same seed by an amount of the same order as another seed (within a factor of "
             "ten of the seeds' range)" if apart >= 0.1 * width else
             "another kernel moves the same seed by far less than another seed does")
    print(f"After {n:,} updates they stand {apart:.2f} apart; the {len(ends)} seeds range over {width:.2f}: {words}.")
    return dict(apart=apart, width=width, words=words, updates=n)


# ----------------------------------------------------------------------------- summary


def summary(gap: dict, spread: dict, kernel: dict, dtypes: dict, timing: dict) -> list:
    """The Summary's lines from what gap_verdict, spread_summary, kernel_summary and dtype_verdict
    returned, and dtype_runs' times: printed and kept in the findings record."""
    (_, t64), (_, t32) = timing["float64"], timing["float32"]
    lines = [f"Generalisation: {gap['comparison'].words()} (held-out minus training, seeds "
             f"{', '.join(map(str, gap['comparison'].values[0]))}: "
             + ", ".join(f"{a - b:+.3f}" for a, b in zip(*(v.values() for v in gap["comparison"].values)))
             + " bits per character); whether the network's size keeps the gap small is untested.",
             f"Rounding: {spread.get('words', 'no seeds to set the nudged runs beside')} (nudged standard deviation "
             f"{spread['rounding']:.2f}" + (f", seeds' {spread['seeds']:.2f})." if "seeds" in spread else ")."),
             f"Another BLAS kernel, the same seed, {kernel['updates']:,} updates: {kernel['words']} "
             f"({kernel['apart']:.2f} apart, seeds' range {kernel['width']:.2f}).",
             f"float32: {dtypes['line']} float32 takes {t32 / t64:.2f} times float64's time per update."]
    record_findings("6_beyond", lines)
    return lines
