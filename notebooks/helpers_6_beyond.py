"""The tables, figures and sentences of notebooks/6_beyond.ipynb, from the runs that
report_runs trains in the background: bits per character on held-out text against as much
training text with the same parameters (held_out_run's table, verdict and figure, for each seed,
and the verdict rule on the gap); runs nudged by a rounding-sized change beside the seeds of
notebook 2 (rounding_spread); the same seed under another OpenBLAS kernel (kernel_summary of
other_kernel_run); float32 against float64 over the seeds (plot_dtypes, dtype_verdict); and the
Summary's lines.
"""

import math

import numpy as np
from tqdm.auto import tqdm

import rnnlib
from helpers_7_how_good import baselines, nearest_order
from report_runs import HeldOutRun, read_normally
from rnnlib import RNN, Corpus
from shared import Table, bits, compare, perplexity, record_findings, subplots

# ----------------------------------------------------------------------------- does it generalise?


def generalisation_table(run: HeldOutRun, updates=(0, 10_000, 20_000, 30_000)) -> Table:
    """Bits per character of the same parameters on the held-out part and on as much training
    text, and the held-out perplexity, at the given updates (those measured) and after the last."""
    held, seen = run.held_out_bpc, run.training_bpc
    marks = [u for u in updates if u in held] + [max(held)]
    rows = [[u, seen[u], held[u], held[u] - seen[u], float(perplexity(seen[u])), float(perplexity(held[u]))]
            for u in dict.fromkeys(marks)]
    return Table(["after updates", "training text", "held out", "held out − training",
                  "perplexity, training text", "perplexity, held out"], rows,
                 title="bits per character, the same parameters on both", float_format="{:.3f}")


def normal_reading(run: HeldOutRun) -> dict:
    """{"held out" / "training": report_runs.read_normally of the final parameters' stretches of that
    text}: the bits per character over the stretches read better than a uniform guess, and the share
    of stretches read worse."""
    return {text: read_normally(bits, run.history.best.K) for text, bits in run.stretches.items()}


def generalisation_verdict(run: HeldOutRun) -> float:
    """Print what the measurement of held_out_run supports, drawn from its final parameters'
    stretches (normal_reading) and the first measurement after training began; return the gap."""
    held_bpc, seen_bpc = run.held_out_bpc, run.training_bpc
    u, first = max(held_bpc), min(k for k in held_bpc if k > 0)
    reading = normal_reading(run)
    (held, held_stuck), (seen, seen_stuck) = reading["held out"], reading["training"]
    gap, first_gap = held - seen, held_bpc[first] - seen_bpc[first]
    uniform = math.log2(run.history.best.K)  # bits per character of a uniform guess
    print(f"After {u:,} updates, over 1,000-character stretches: {held:.3f} bits per character held out, {seen:.3f} "
          f"on as much training text (gap {gap:+.3f}; after {first:,} updates, the whole texts: {first_gap:+.3f}).")
    if held_stuck or seen_stuck:
        print(f"With its final parameters fixed, the network reads {seen_stuck:.0%} of the training text's stretches "
              f"and {held_stuck:.0%} of the held-out text's worse than a uniform guess over the "
              f"{run.history.best.K} characters ({uniform:.2f} bits): there it has fallen "
              f"into a state that predicts worse than knowing nothing. The bits above leave those stretches out; "
              f"over the whole texts: {held_bpc[u]:.3f} held out, {seen_bpc[u]:.3f} training.")
    zeros = run.from_zeros
    fallen = [text for text, bpc in zeros.items() if bpc > uniform]
    print(f"Read from a hidden state of zeros instead: {zeros['held out']:.3f} held out, {zeros['training']:.3f} "
          f"training" + (f"; from zeros the network reads the {' and the '.join(fallen)} text worse than a uniform "
                         f"guess ({uniform:.2f} bits)." if fallen else "."))
    if gap > 0.1 * seen:
        print("The held-out text is predicted clearly worse than the training text: the network has begun to fit "
              "the text it trains on.")
    elif gap < -0.1 * seen:
        print("The held-out part is predicted clearly better than the training text: that part is easier.")
    elif abs(gap) > 0.02 * seen:
        print(f"The held-out text is predicted {'worse' if gap > 0 else 'better'} than the training text by "
              f"{abs(gap) / seen:.1%} of the bits: a small gap.")
    else:
        print(f"The network predicts text it never saw about as well as the text it trained on (a gap of "
              f"{abs(gap) / seen:.1%} of the bits): it has not memorised its training text. With "
              f"{run.history.best.theta.size:,} parameters for {run.training_characters:,} characters, whether "
              f"the network's size is what keeps the gap this small is untested: no run here varies m.")
    return gap


def gap_verdict(runs_by_seed: dict) -> dict:
    """The verdict rule on the held-out against the training text's bits per character after the
    last update (normal_reading), over the seeds' held_out_runs ({seed: HeldOutRun}), as a
    sentence; returns its line, Comparison and {seed: share of training stretches, of held-out
    stretches read worse than a uniform guess}."""
    reading = {seed: normal_reading(run) for seed, run in runs_by_seed.items()}
    result = compare({seed: r["held out"][0] for seed, r in reading.items()},
                     {seed: r["training"][0] for seed, r in reading.items()}, names=("held-out text", "training text"))
    u = max(next(iter(runs_by_seed.values())).held_out_bpc)
    line = (f"Bits per character after {u:,} updates, over the stretches each network reads better than a uniform "
            f"guess, held out against as much training text: {result.sentence('{:.3f}')}")
    print(line)
    stuck = {seed: (r["training"][1], r["held out"][1]) for seed, r in reading.items()}
    return dict(line=line, comparison=result, stuck=stuck)


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
             "another kernel moves the same seed by no more than the seeds' range: another machine's run is one more "
             "draw, as far as these runs tell" if apart <= width else
             "another kernel moves the same seed by more than the seeds' range")
    print(f"After {n:,} updates they stand {apart:.2f} apart; the {len(ends)} seeds range over {width:.2f}: {words}.")
    return dict(apart=apart, width=width, words=words, updates=n)


def among_ngrams(runs: dict, corpus: Corpus) -> dict:
    """Where the held-out runs' final bits per character (the whole held-out part, read on from the
    state training reached) fall among notebook 7's count-based models, Kneser-Ney n-grams counted on
    the same training part: printed; returns the line and the per-seed values."""
    models = baselines(corpus)
    values = {seed: run.held_out_bpc[max(run.held_out_bpc)] for seed, run in runs.items()}
    updates = max(next(iter(runs.values())).held_out_bpc)
    mean = float(np.mean(list(values.values())))
    line = (f"After {updates:,} updates, {mean:.3f} bits per character held out (seeds {', '.join(map(str, values))}: "
            + ", ".join(f"{v:.3f}" for v in values.values()) + f"): {nearest_order(models, mean)} of the "
            f"Kneser-Ney n-grams counted on the same training part (notebook 7).")
    print(line)
    return dict(line=line, values=values)


# ----------------------------------------------------------------------------- summary


def summary(gap: dict, placed: dict, spread: dict, kernel: dict, dtypes: dict, timing: dict) -> list:
    """The Summary's lines from what gap_verdict, among_ngrams, spread_summary, kernel_summary and
    dtype_verdict returned, and dtype_runs' times: printed and kept in the findings record."""
    (_, t64), (_, t32) = timing["float64"], timing["float32"]
    lines = [f"Generalisation: {gap['comparison'].words()} (held-out minus training, over the stretches each "
             f"network reads better than a uniform guess, seeds {', '.join(map(str, gap['comparison'].values[0]))}: "
             + ", ".join(f"{a - b:+.3f}" for a, b in zip(*(v.values() for v in gap["comparison"].values)))
             + " bits per character; stretches read worse than a uniform guess, training and held out: "
             + ", ".join(f"seed {seed} {t:.0%} and {h:.0%}" for seed, (t, h) in gap["stuck"].items())
             + "); whether the network's size keeps the gap small is untested.",
             f"How good: {placed['line']}",
             f"Rounding: {spread.get('words', 'no seeds to set the nudged runs beside')} (nudged standard deviation "
             f"{spread['rounding']:.2f}" + (f", seeds' {spread['seeds']:.2f})." if "seeds" in spread else ")."),
             f"Another BLAS kernel, the same seed, {kernel['updates']:,} updates: {kernel['words']} "
             f"({kernel['apart']:.2f} apart, seeds' range {kernel['width']:.2f}).",
             f"float32: {dtypes['line']} float32 takes {t32 / t64:.2f} times float64's time per update."]
    record_findings("6_beyond", lines)
    return lines
