"""The runs, tables, figures and sentences of notebooks/6_beyond.ipynb: the notebook's runs in
the background (Background, worker processes that train while its cells go on); bits per
character on held-out text against as much training text with the same parameters
(held_out_run and its table, verdict and figure); runs nudged by a rounding-sized change beside
the seeds of notebook 2 (rounding_spread); and float32 against float64 (dtype_runs).
"""

import contextlib
import io
import math
import time
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

import rnnlib
import runs
from rnnlib import RNN, Corpus, History
from shared import Table, bits, perplexity, subplots

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
                 m: int = rnnlib.M, eval_every: int = 10_000) -> HeldOutRun:
    """Train with the assignment's settings on the first `fraction` of the text.  Before the
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
    history = rnnlib.train(rnn, train_part, epochs=epochs, rng=seed, sample_every=None, on_update=at_the_marks)
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
              f"{run.history.best.theta.size:,} parameters for {run.training_characters:,} characters, a gap this "
              f"small is what a network limited by its size gives; it does not show that the network learned "
              f"more than the statistics it can hold.")
    return gap


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
        print(f"The nudged runs spread {spread['rounding'] / spread['seeds']:.2f} times as much as the seeds "
              f"(standard deviations); this was measured after {updates:,} updates only.")
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


def plot_dtypes(by_dtype: dict):
    """The smooth loss of each dtype's run (dtype_runs), side by side."""
    import matplotlib.pyplot as plt

    fig, axes = subplots(1, len(by_dtype), figsize=(9, 3.4), sharey=True)
    for ax, (name, (loss, seconds)) in zip(axes, by_dtype.items()):
        ax.plot(np.arange(len(loss)), loss, lw=1)
        ax.set_title(f"{name}: {seconds * 1e6:.0f} µs per update, last {loss[-1]:.2f}", fontsize=10)
        ax.set_xlabel("update")
        ax.xaxis.set_major_locator(plt.MaxNLocator(4))  # half a page wide: few enough labels not to touch
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("smooth loss")
    fig.tight_layout()
    return fig.describe(
        f"{len(by_dtype)} line charts side by side, the smooth loss against the update of the same run in "
        + " and ".join(f"{name} (ends at {loss[-1]:.2f}, {seconds * 1e6:.0f} µs per update)"
                       for name, (loss, seconds) in by_dtype.items()) + ".")
