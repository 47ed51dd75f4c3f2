"""The measures, figures and sentences of notebooks/4_gradients.ipynb: how far back the gradient
reaches (part 1), what clipping does (part 2), what a longer truncation window buys (part 3),
and the summary's lines.  Its trainings are report_runs' (train_runs); its Jacobian products are
jobs run side by side in worker processes by report_runs.run_all.
"""

from __future__ import annotations

import numpy as np

import rnnlib
from report_runs import largest_singular_value, run_all
from rnnlib import RNN, Corpus, History, Params
from shared import bits, bits_axis, compare, record_findings, subplots

SEED = rnnlib.DEFAULT_SEED                      # the main run's seed
ARRAYS = "bcUWV"                                # the columns of history.clipped


# ----------------------------------------------------------------------------- jobs for the workers


def reach_job(rnn: RNN, stretches, warmup: int) -> np.ndarray:
    """(len(stretches), n): row i is rnnlib.jacobian_norms over the last n characters of
    stretches[i], read from the hidden state that its first `warmup` characters leave from zeros."""
    rows = []
    for x in stretches:
        h0 = rnnlib.hidden_states(rnn, x[:warmup], np.zeros(rnn.m))[-1]
        rows.append(rnnlib.jacobian_norms(rnn, x[warmup:], h0))
    return np.array(rows)


def split_job(rnn: RNN, stretches, warmup: int, at: int) -> np.ndarray:
    """(len(stretches), 3): for each stretch, over the `at` characters after its first `warmup`: log10 of
    the product of the one-step norms ||diag(1 - h_t^2) W||_2, log10 ||dh_n/dh_{n-at}||_2, the median step norm."""
    rows = []
    for s in stretches:
        H = rnnlib.hidden_states(rnn, s[:warmup + at], np.zeros(rnn.m))      # (warmup + at + 1, m)
        steps = np.linalg.norm((1 - H[-at:, :, None] ** 2) * rnn.W, 2, axis=(1, 2))   # (at,)
        actual = rnnlib.jacobian_norms(rnn, s[warmup:warmup + at], H[warmup])[-1]
        rows.append([np.log10(steps).sum(), np.log10(actual), np.median(steps)])
    return np.array(rows)


def truncated_gradients(rnn: RNN, x, y, h0, seq_length: int = rnnlib.SEQ_LENGTH) -> Params:
    """The gradient of the loss of x as training computes it: the sum of the gradients of its chunks of
    seq_length characters (which do not overlap), each back-propagated within itself, h carried on."""
    total, h = Params(rnn.m, rnn.K), h0
    for start in range(0, len(x), seq_length):
        _, grads, h = rnnlib.loss_and_gradients(rnn, x[start:start + seq_length], y[start:start + seq_length], h)
        total.theta += grads.theta
    return total


# ----------------------------------------------------------------------------- part 1: reach


def describe_window(window: dict, main_history: History) -> float:
    """Whether the window run at the main run's seq_length is the main run so far, as a sentence: the
    largest relative difference between their smooth losses over the updates both made (0: bit for bit)."""
    n = min(window["updates"], main_history.updates)
    a, b = window["smooth_loss"][:n], main_history.smooth_loss[:n]
    difference = float(np.max(np.abs(a - b) / np.abs(b)))
    if difference == 0:
        print(f"The seq_length {window['seq_length']} run's smooth loss is the main run's, bit for bit, over its "
              f"{n:,} updates: its network is the main run's after {window['updates']:,} updates.")
    else:
        print(f"The seq_length {window['seq_length']} run's smooth loss differs from the main run's by up to "
              f"{difference:.1e} (relative) over its {n:,} updates (another seed or machine): it stands in for "
              f"the main run's network after {window['updates']:,} updates.")
    return difference


def stretches_at(corpus: Corpus, positions: int, length: int) -> list:
    """`positions` stretches of `length` characters each, their starts spread evenly over the text."""
    starts = np.linspace(0, len(corpus.data) - length, positions).astype(int)
    return [corpus.data[s:s + length] for s in starts]


def reach(models: dict, corpus: Corpus, positions: int = 300, n: int = 50, warmup: int = 50, chunks: int = 2) -> dict:
    """{label: (positions, n) norms ||dh_n/dh_{n-k}||} for each network of models, over the same
    `positions` stretches of n characters spread evenly over the text; split into `chunks` jobs
    per network."""
    stretches = stretches_at(corpus, positions, warmup + n)
    parts = [stretches[i::chunks] for i in range(chunks)]
    rows = run_all([(reach_job, rnn, part, warmup) for rnn in models.values() for part in parts])
    return {label: np.concatenate(rows[i * chunks:(i + 1) * chunks]) for i, label in enumerate(models)}


def plot_reach(norms: dict, window: dict, main, *, band=(10, 90)):
    """Left: the median of ||dh_n/dh_{n-k}|| against k for each network, with the band between
    the given percentiles.  Right: sigma_max(W) along the window run at the main run's seq_length, and the main
    run's best and final networks, each at its own update (an axis linear up to 1 update, logarithmic beyond,
    so that the untrained network at update 0, the window run's updates and the end of the main run all show)."""
    fig, (left, right) = subplots(1, 2, figsize=(11, 4.2), gridspec_kw=dict(width_ratios=(3, 2)))
    medians = {}
    for (label, rows), colour in zip(norms.items(), ("C7", "C1", "C0")):
        k = np.arange(1, rows.shape[1] + 1)
        low, median, high = np.percentile(rows, [band[0], 50, band[1]], axis=0)
        medians[label] = median
        left.fill_between(k, low, high, color=colour, alpha=0.25, lw=0)
        left.plot(k, median, color=colour, label=label)
    left.axvline(rnnlib.SEQ_LENGTH, color="grey", ls="--", lw=0.8)  # where truncation cuts
    left.set(yscale="log", xlabel="k (steps back)", ylabel=r"$\|\partial h_n / \partial h_{n-k}\|_2$",
             title=f"How far back the gradient reaches (median, {band[0]}–{band[1]}th percentiles)")
    left.legend(fontsize=8, loc="lower left")
    left.grid(alpha=0.3)
    right.plot(window["sigma_updates"], window["sigma"], ".-", color="C1", ms=3,
               label=f"seq_length {window['seq_length']} run (the main run's first {window['updates']:,} updates)")
    ends = {"best": (main.best_update, largest_singular_value(main.best.W)),
            "final": (main.update, largest_singular_value(main.rnn.W))}
    for (name, (update, sigma)), marker in zip(ends.items(), ("o", "x")):
        right.plot([update], [sigma], marker, color="C0", ms=7, mfc="none" if marker == "o" else None,
                   label=f"main run, {name}: {sigma:.2f} at update {update:,}")
    right.set_xscale("symlog", linthresh=1, linscale=0.3)
    right.set(xlabel="update (0, then logarithmic)", ylabel=r"$\sigma_{max}(W)$", title="Largest singular value of W",
              ylim=(0, None), xlim=(-0.2, 2 * main.update))
    right.legend(fontsize=8, loc="lower right")
    right.grid(alpha=0.3)
    fig.tight_layout()
    sigma = window["sigma"]
    reaches = "; ".join(f"{label}, from {median[0]:.2g} at k = 1 to {median[-1]:.2g} at k = {len(median)}"
                        for label, median in medians.items())
    return fig.describe(
        f"Left: the median norm of the Jacobian product from h_(n-k) to h_n against k, on a log scale, with a band "
        f"between the {band[0]}th and {band[1]}th percentiles and a dashed line at k = {rnnlib.SEQ_LENGTH}, where "
        f"truncation cuts: {reaches}. Right: the largest singular value of W, {sigma[0]:.2f} untrained, "
        f"{sigma[1]:.2f} after one update, {sigma[-1]:.2f} after {window['sigma_updates'][-1]:,} updates; in the main "
        f"run {ends['best'][1]:.2f} at its best (update {ends['best'][0]:,}) and {ends['final'][1]:.2f} at its end "
        f"(update {ends['final'][0]:,}).")


def reach_summary(norms: dict, main, at: int = rnnlib.SEQ_LENGTH, small: float = 1e-3) -> dict:
    """For each network the median norm at k = 1 and k = `at` and the first k where the median falls
    below `small`, printed as sentences; returned as a dict, the best model's with its sigma_max(W)."""
    facts = {}
    for label, rows in norms.items():
        median = np.median(rows, axis=0)
        below = np.flatnonzero(median < small)
        facts[label] = dict(first=float(median[0]), at=float(median[at - 1]),
                            below=int(below[0]) + 1 if below.size else None, n=rows.shape[1])
        below = (f"falls below {small:g} at k = {facts[label]['below']}" if below.size
                 else f"stays above {small:g} up to k = {rows.shape[1]}")
        print(f"- {label}: median norm {median[0]:.2g} at k = 1 and {median[at - 1]:.2g} at k = {at}; it {below}.")
    facts[label]["sigma"] = largest_singular_value(main.best.W)  # the best model's, the last of norms
    return facts


def vanishing_split(models: dict, corpus: Corpus, positions: int = 50, warmup: int = 50,
                    at: int = rnnlib.SEQ_LENGTH) -> dict:
    """Per network, medians over stretches (split_job), as log10: `bound` sigma_max(W)^at, `steps` the product of
    the step norms, `actual` ||dh_n/dh_{n-at}||; `saturation` = bound - steps, `directions` = steps - actual."""
    rows = run_all([(split_job, rnn, stretches_at(corpus, positions, warmup + at), warmup, at)
                    for rnn in models.values()])
    facts = {}
    for (label, rnn), row in zip(models.items(), rows):
        sigma, (steps, actual, median_step) = largest_singular_value(rnn.W), np.median(row, axis=0)
        bound = at * np.log10(sigma)
        facts[label] = dict(sigma=sigma, median_step=median_step, bound=bound, steps=steps, actual=actual,
                            saturation=bound - steps, directions=steps - actual, at=at, n=len(row), rows=row)
    return facts


def describe_split(facts: dict) -> dict:
    """vanishing_split's facts as sentences, one per network, naming the larger part of the fall."""
    for label, f in facts.items():
        at, small = f["at"], f["sigma"] < 1  # below 1 the bound itself vanishes: the size of W is a part too
        parts = {"saturation": f["saturation"], "the changing directions": f["directions"],
                 **({"the size of W": -f["bound"]} if small else {})}
        larger = max(parts, key=parts.get)
        print(f"- {label}: sigma_max(W) = {f['sigma']:.2f}, the bound sigma_max(W)^{at} = {10 ** f['bound']:.1e}"
              + (f", {-f['bound']:.1f} orders of magnitude below 1 by the size of W alone" if small else "")
              + f"; the one-step norms ||diag(1 - h_t^2) W|| have a median of {f['median_step']:.2f} and the product "
              f"of {at} of them is {10 ** f['steps']:.1e}: saturation (the factors 1 - h_t^2) takes "
              f"{max(f['saturation'], 0):.1f} orders off the bound. The actual ||dh_n/dh_n-{at}||, "
              f"{10 ** f['actual']:.1e}, is {f['directions']:.1f} orders below that product: the directions that "
              f"change from step to step. Of the {-f['actual'] if small else f['bound'] - f['actual']:.1f} orders "
              f"by which the norm lies below {'1' if small else 'the bound'}, {larger} "
              f"explain{'' if larger.endswith('s') else 's'} the larger part (medians over {f['n']} stretches).")
    return facts


def truncation_cut(rnn: RNN, corpus: Corpus, positions: int = 20, length: int = 500, warmup: int = 50,
                   seq_length: int = rnnlib.SEQ_LENGTH) -> dict:
    """(positions, 5) "cosine" and "ratio" |truncated| / |full| for b, c, U, W, V: truncated_gradients against the
    gradient back-propagated through all of each stretch, from the h its `warmup` characters before leave."""
    cosines, ratios = [], []
    for s in stretches_at(corpus, positions, warmup + length + 1):
        h0 = rnnlib.hidden_states(rnn, s[:warmup], np.zeros(rnn.m))[-1]
        x, y = s[warmup:-1], s[warmup + 1:]
        full, cut = rnnlib.loss_and_gradients(rnn, x, y, h0)[1], truncated_gradients(rnn, x, y, h0, seq_length)
        norms = np.array([[np.linalg.norm(cut[a]), np.linalg.norm(full[a])] for a in ARRAYS])
        cosines.append([np.vdot(cut[a], full[a]) for a in ARRAYS] / norms.prod(axis=1))
        ratios.append(norms[:, 0] / norms[:, 1])
    return dict(cosine=np.array(cosines), ratio=np.array(ratios), length=length, seq_length=seq_length)


def describe_truncation_cut(cut: dict) -> dict:
    """The depth each position of a chunk back-propagates, and truncation_cut's medians, as sentences."""
    n, depths, arrays = cut["seq_length"], np.arange(cut["seq_length"]), [0, 2, 3]  # b, U, W: c and V have no
    cosine, ratio = np.median(cut["cosine"], axis=0), np.median(cut["ratio"], axis=0)    # term through time
    print(f"- Training's chunks of {n} characters do not overlap: the loss at position j back-propagates j - 1 "
          f"steps, {depths[0]} to {depths[-1]}, {depths.mean():g} on average; so truncation cuts terms from k = 1 on, "
          f"not only beyond k = {n}.\n- What it keeps, best model, {len(cut['cosine'])} stretches of {cut['length']} "
          f"characters: the gradient truncated into {n}-character chunks against the one back-propagated through "
          f"the whole stretch has a median cosine of {', '.join(f'{ARRAYS[j]} {cosine[j]:.3f}' for j in arrays)} "
          f"(lowest {cut['cosine'][:, arrays].min():.3f}) and a median norm ratio of "
          f"{', '.join(f'{ARRAYS[j]} {ratio[j]:.3f}' for j in arrays)}; c and V, with no term through time, are the "
          f"same (cosine {min(cosine[1], cosine[4]):.3f}).")
    return dict(cosine=dict(zip(ARRAYS, cosine)), ratio=dict(zip(ARRAYS, ratio)))


def first_step_share(corpus: Corpus, seed: int = SEED, below: float = 0.9) -> float:
    """The share of W's entries the main run's first AdaGrad step moves by less than below * eta."""
    rnn, optimiser = RNN.init(corpus.K, rng=seed), rnnlib.AdaGrad()
    (x, y), before = rnnlib.sequence_at(corpus.data, 0, rnnlib.SEQ_LENGTH), rnn.W.copy()
    optimiser.step(rnn, rnnlib.clip_gradients(rnnlib.loss_and_gradients(rnn, x, y, np.zeros(rnn.m))[1]))
    return float((np.abs(rnn.W - before) < below * optimiser.eta).mean())


def describe_sigma(window: dict, main, corpus: Corpus, eta: float = rnnlib.ETA, below: float = 0.9) -> None:
    """sigma_max(W) along the window run and at the best model, and AdaGrad's first step, as a sentence."""
    sigma, updates, top = window["sigma"], window["sigma_updates"], int(np.argmax(window["sigma"]))
    print(f"sigma_max(W) is {sigma[0]:.2f} untrained and {sigma[1]:.2f} after one update: AdaGrad's first step "
          f"is eta g / sqrt(g^2 + eps), eta = {eta} in size where g^2 is well above eps, whatever the gradient's "
          f"size, but less where it is not: it moves {first_step_share(corpus, below=below):.0%} of W's entries by "
          f"less than {below} eta. It peaks at {sigma[top]:.2f} (after {updates[top]:,} updates), is "
          f"{sigma[-1]:.2f} after {updates[-1]:,} and {largest_singular_value(main.best.W):.2f} in the best model"
          + (": above 1 from the first update on." if sigma[1:].min() > 1 else "."))


# ----------------------------------------------------------------------------- part 2: clipping


def array_sizes(rnn: RNN) -> np.ndarray:
    """(5,) the number of entries of b, c, U, W, V."""
    return np.array([rnn[name].size for name in ARRAYS])


def clipped_shares(clipped, sizes, every: int = 1_000) -> np.ndarray:
    """(blocks, 5): the share of each array's entries clipped over each block of `every` updates
    (clipped entries / (entries x updates in the block)); a last, shorter block counts too."""
    clipped = np.asarray(clipped, dtype=float)
    starts = np.arange(0, len(clipped), every)
    counts = np.add.reduceat(clipped, starts, axis=0)
    lengths = np.diff(np.append(starts, len(clipped)))
    return counts / lengths[:, None] / sizes


def plot_clipping(main, unclipped: dict, clipped: dict, every: int = 1_000):
    """Left: the share of entries clipped per `every` updates of the main run, for each array.
    Right: the smooth loss of each seed's run with clipping (clipped: {seed: smooth loss}) and
    without it (unclipped: {seed: unclipped_run})."""
    sizes = array_sizes(main.rnn)
    shares = clipped_shares(main.history.clipped, sizes, every)
    fig, (left, right) = subplots(1, 2, figsize=(11, 4.2))
    x = np.arange(len(shares)) * every
    for j, name in enumerate(ARRAYS):
        left.plot(x, np.where(shares[:, j] > 0, shares[:, j], np.nan), ".-", ms=3, lw=1, label=name)
    for start in range(main.history.updates_per_epoch, main.history.updates, main.history.updates_per_epoch):
        left.axvline(start, color="grey", ls="--", lw=0.8)
    left.set(yscale="log", xlabel="update", ylabel=f"share of entries clipped (per {every:,} updates)",
             title="Clipping in the main run")
    left.legend(ncols=5, fontsize=8)
    left.grid(alpha=0.3)
    for i, loss in enumerate(clipped.values()):
        right.plot(np.arange(len(loss)), loss, color="C0", lw=0.8,
                   label=f"clipped to [−{rnnlib.CLIP:g}, {rnnlib.CLIP:g}], seeds {', '.join(map(str, clipped))}"
                   if i == 0 else None)
    for i, run in enumerate(unclipped.values()):
        right.plot(np.arange(len(run["smooth_loss"])), run["smooth_loss"], color="C3", lw=0.8,
                   label="not clipped, the same seeds" if i == 0 else None)
        if run["diverged"] is not None:
            right.axvline(run["diverged"], color="C3", ls=":")
    right.set(xlabel="update", ylabel="smooth loss", title="The same runs with and without clipping")
    bits_axis(right)
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    fig.tight_layout()
    peak = shares.max(axis=0)
    ends = "; ".join(f"seed {seed}: clipped {clipped[seed][-1]:.2f}, not clipped "
                     + (f"stopped at update {run['diverged']:,}" if run["diverged"] is not None
                        else f"{run['smooth_loss'][-1]:.2f}") for seed, run in unclipped.items())
    return fig.describe(
        f"Left: the share of each array's gradient entries clipped per {every:,} updates of the main run, on a log "
        f"scale, with dashed lines at the epoch boundaries; the largest shares are "
        + ", ".join(f"{name} {share:.2%}" for name, share in zip(ARRAYS, peak))
        + f". Right: the smooth loss of {len(clipped)} seeds' runs with and without clipping; at their end {ends}.")


def clipping_summary(main, unclipped: dict, every: int = 1_000) -> dict:
    """The shares of the first and last `every` updates, and what the unclipped run did, as sentences."""
    history, sizes = main.history, array_sizes(main.rnn)
    if (history.clipped < 0).any():
        print("The main run's checkpoint predates the clipping counts: train it again to see them.")
    shares = clipped_shares(history.clipped, sizes, every)
    early, late = shares[0], shares[-1]
    ever = (history.clipped > 0).mean(axis=0)
    def listing(values):
        return ", ".join(f"{name} {v:.2%}" for name, v in zip(ARRAYS, values))
    print(f"- First {every:,} updates, share of entries clipped: {listing(early)}.")
    print(f"- Last {every:,} updates (to update {history.updates:,}): {listing(late)}.")
    print(f"- Updates in which at least one entry was clipped: {listing(ever)}.")
    same_start = unclipped["smooth_loss"][0] == history.smooth_loss[0]  # update 0's loss: the same network?
    print("- Both runs start from the same network: their losses at update 0 agree." if same_start else
          "- The main run started from another network than seed 0's (its loss at update 0 differs): the "
          "comparison is between seeds as much as between clipping and none.")
    n = len(unclipped["smooth_loss"])
    shown = min(n, history.updates) - 1
    without, with_ = float(unclipped["smooth_loss"][shown]), float(history.smooth_loss[shown])
    # the share of updates with an entry beyond the limit, in each run's first n updates
    beyond, clipped_beyond = ((counts[:n] > 0).any(axis=1).mean() for counts in (unclipped["clipped"], history.clipped))
    if unclipped["diverged"] is not None:
        print(f"- Without clipping the loss was not finite at update {unclipped['diverged']:,}; up to then it had "
              f"gradient entries beyond {rnnlib.CLIP:g} in {beyond:.0%} of its updates (the main run: "
              f"{clipped_beyond:.0%}).")
    else:
        print(f"- Without clipping the run did not diverge in {n:,} updates: smooth loss {without:.2f} after "
              f"{shown + 1:,} updates, against {with_:.2f} with clipping ({without - with_:+.2f}). "
              f"{beyond:.0%} of its updates had gradient entries beyond {rnnlib.CLIP:g}, which clipping would have "
              f"cut (the main run: {clipped_beyond:.0%} of its first {n:,}).")
    return dict(early=early, late=late, diverged=unclipped["diverged"], unclipped=without, clipped=with_, at=shown,
                every=every)


def clipping_verdict(clipped: dict, unclipped: dict) -> dict:
    """The verdict rule on the smooth loss after the unclipped runs' updates, each seed with and
    without clipping (clipped: {seed: smooth loss}, unclipped: {seed: unclipped_run}), as a
    sentence; a run whose loss stopped being finite is said so instead.  Returns the facts."""
    diverged = {seed: run["diverged"] for seed, run in unclipped.items() if run["diverged"] is not None}
    n = min(run["updates"] for run in unclipped.values())
    if diverged:
        line = ("Without clipping the loss stopped being finite in " + ", ".join(
            f"seed {seed} at update {u:,}" for seed, u in diverged.items()) + f" of {len(unclipped)} seeds.")
        print(f"- {line}")
        return dict(line=line, diverged=diverged)
    result = compare({seed: float(clipped[seed][n - 1]) for seed in unclipped},
                     {seed: float(run["smooth_loss"][n - 1]) for seed, run in unclipped.items()},
                     names=("clipped", "not clipped"))
    line = f"Smooth loss after {n:,} updates: {result.sentence()}"
    print(f"- {line}")
    return dict(line=line, diverged=diverged, comparison=result)


# ----------------------------------------------------------------------------- part 3: truncation


def by_window(windows: list, equal: str) -> dict:
    """{seq_length: {seed: run}} of the window runs at equal "characters" or "updates"."""
    table = {}
    for run in windows:
        if run["equal"] == equal:
            table.setdefault(run["seq_length"], {})[run["seed"]] = run
    return dict(sorted(table.items()))


def plot_truncation(windows: list):
    """Left: held-out bits per character at the end against seq_length, each seed's run at equal
    characters and at equal updates, and their means; middle: training smooth loss (in bits per
    character) against characters read, the first seed's runs at equal characters; right: CPU
    seconds per character, the mean over seeds."""
    fig, (left, middle, right) = subplots(1, 3, figsize=(12, 3.8))
    for equal, colour in (("characters", "C3"), ("updates", "C0")):
        runs_by = by_window(windows, equal)
        s = list(runs_by)
        for n, by_seed in runs_by.items():
            left.plot([n] * len(by_seed), [run["bpc"] for run in by_seed.values()], ".", color=colour, alpha=0.6)
        left.plot(s, [np.mean([run["bpc"] for run in runs_by[n].values()]) for n in s], "-", color=colour,
                  label=f"equal {equal}")
    s = list(by_window(windows, "characters"))
    left.set(xscale="log", xticks=s, xticklabels=s, xlabel="seq_length", ylabel="held-out bits per character",
             title="Each seed (dots) and the mean")
    left.legend(fontsize=8)
    left.minorticks_off()
    first = by_window(windows, "characters")
    for n, by_seed in first.items():
        run = next(iter(by_seed.values()))
        middle.plot(np.arange(1, run["updates"] + 1) * n, bits(run["smooth_loss"], n), lw=1, label=f"{n}")
    middle.set(xlabel="characters read", ylabel="smooth loss (bits per character)",
               title=f"Training, seed {next(iter(next(iter(first.values()))))}")
    middle.legend(title="seq_length", fontsize=8)
    right.bar([str(n) for n in s], [np.mean([run["seconds_per_char"] for run in first[n].values()]) * 1e6 for n in s],
              color="C2")
    right.set(xlabel="seq_length", ylabel="CPU µs per character", title="Training time")
    for ax in (left, middle, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    def means(equal):
        return ", ".join(f"{n} {np.mean([run['bpc'] for run in by_seed.values()]):.3f}"
                         for n, by_seed in by_window(windows, equal).items())
    return fig.describe(
        f"Three charts for the training windows (seq_length) {', '.join(map(str, s))}. Left: held-out bits per "
        f"character at the end, each seed's run as a dot, with the mean over seeds at equal characters "
        f"({means('characters')}) and at equal updates ({means('updates')}). Middle: the training smooth loss in "
        "bits per character against the characters read, one line per window. Right: bars of CPU time per character, "
        + ", ".join(f"{np.mean([run['seconds_per_char'] for run in first[n].values()]) * 1e6:.1f} µs" for n in s) + ".")


def truncation_summary(windows: list, reference: int = rnnlib.SEQ_LENGTH) -> dict:
    """Each seq_length's held-out bits per character (every seed) and time, at equal characters and
    at equal updates, and the verdict rule on each against the main run's window, as sentences;
    returned as {equal: {seq_length: Comparison against the reference}}."""
    facts = {}
    for equal in ("characters", "updates"):
        table = by_window(windows, equal)
        some = next(iter(table[reference].values()))
        amount = f"{some['characters']:,} characters" if equal == "characters" else f"{some['updates']:,} updates"
        print(f"- At equal {equal}, {amount} each:")
        facts[equal] = {}
        for n, by_seed in table.items():
            seconds = np.mean([run["seconds_per_char"] for run in by_seed.values()])
            values = ", ".join(f"{run['bpc']:.3f}" for run in by_seed.values())
            stuck = [f"seed {seed} {run['stuck']:.0%}" for seed, run in by_seed.items() if run["stuck"]]
            print(f"  - seq_length {n:>3}: {values} bits per character held out (seeds "
                  f"{', '.join(map(str, by_seed))}), {seconds * 1e6:.1f} µs of CPU per character"
                  + (f"; stretches read worse than a uniform guess, left out: {', '.join(stuck)}." if stuck else "."))
        for n, by_seed in table.items():
            if n != reference:
                facts[equal][n] = result = compare({seed: run["bpc"] for seed, run in by_seed.items()},
                                                   {seed: run["bpc"] for seed, run in table[reference].items()},
                                                   names=(f"seq_length {n}", f"seq_length {reference}"))
                print(f"  - {result.sentence('{:.3f}')}")
    return facts


# ----------------------------------------------------------------------------- summary


def summary(reach: dict, clipping: dict, truncation: dict, at: int = rnnlib.SEQ_LENGTH) -> list:
    """The Summary's lines, from the facts that reach_summary, clipping_summary with
    clipping_verdict, and truncation_summary returned: printed and kept in the findings record."""
    (first, untrained), (last, best) = list(reach.items())[0], list(reach.items())[-1]
    lines = [f"Reach: the median ||dh_n/dh_n-{at}|| is {best['at']:.2g} for the {last} "
             f"({untrained['at']:.2g} {first}), {best['at'] / best['first']:.1g} of its value at k = 1, although "
             f"sigma_max(W) = {best['sigma']:.2f}."]
    every = clipping["every"]
    lines.append(f"Clipping: at most {clipping['early'].max():.2%} of any array's entries per {every:,} updates at "
                 f"the start of the main run, {clipping['late'].max():.2%} at the end. {clipping['line']}")
    results = [result for by_window in truncation.values() for result in by_window.values()]
    counted = {verdict: sum(result.verdict == verdict for result in results)
               for verdict in ("a difference", "at the edge", "no detectable difference")}
    lines.append(f"Truncation, held-out bits per character of each window against seq_length {at}'s, at equal "
                 f"characters and at equal updates, {len(results)} comparisons: a difference beyond the seeds' spread "
                 f"in {counted['a difference']}, at the rule's edge in {counted['at the edge']}, no detectable "
                 f"difference in {counted['no detectable difference']} (each, with every seed's value, above).")
    record_findings("4_gradients", lines)
    return lines
