"""The runs, tables, figures and sentences of notebooks/7_how_good.ipynb: how good the assignment's
network is, held against count-based models (ngram.py) on the same split of the text; what more
hidden units buy (the capacity runs); and what gates buy (lstm.py at an equal parameter count),
with the feature correlations of notebook 5 over the LSTM's cells.  Every comparison shows each
seed and is decided by the report's verdict rule (shared.compare); the notebook scales the runs'
updates (UPDATES) by the report's scale (shared.scaled), and its Summary records the answers to the
three questions (shared.record_findings), which notebook 8 and the report's abstract print.
"""

import time
from dataclasses import dataclass

import numpy as np

import lstm
import ngram
import rnnlib
from helpers_5_units import WEAK_R2, feature_correlations, text_features
from report_runs import HELD_OUT_EPOCHS, Background
from rnnlib import Corpus
from shared import EDGE, Comparison, Table, bits_axis, compare, perplexity, record_findings, subplots

FRACTION = 0.9            # the first 90 % trains, the last 10 % is held out, as in notebook 6
SEEDS = (rnnlib.DEFAULT_SEED, 1, 2)
CAPACITY = (25, 50, 100, 200)   # the RNN's hidden units
LSTM_M = 45               # 26,360 parameters at K = 80, against the RNN's 26,180 at m = 100
UPDATES = 6_000           # every network's updates (times shared.SCALE): equal for all, what the report's time allows
ORDERS = range(1, 8)      # the n-gram models' orders
FEATURES = ("inside quotation marks", "position in the line")   # what Karpathy's LSTM cells follow


# ----------------------------------------------------------------------------- the runs, in worker processes


@dataclass(eq=False)
class Trained:
    """One network trained on the first FRACTION of the text: kind ("RNN" or "LSTM"), m, seed, its parameter
    count, the smooth loss per update, bits per character of the final parameters on the held-out part and on
    as much of the training text it read last (lstm.last_read), each read from the state its training ended
    in, and on the held-out part read from a zero state; CPU seconds of training, and its parameters."""

    kind: str
    m: int
    seed: int
    parameters: int
    smooth_loss: np.ndarray
    held_out_bpc: float
    training_bpc: float
    held_out_from_zeros: float
    seconds: float
    theta: np.ndarray

    def network(self, K: int):
        """The trained network, rebuilt from theta."""
        net = lstm.LSTM(self.m, K) if self.kind == "LSTM" else rnnlib.RNN(self.m, K)
        net.theta[...] = self.theta
        return net


def train_one(kind: str, m: int, seed: int, updates: int, text: str) -> Trained:
    """In a worker: init with rng=seed, `updates` updates with the assignment's settings, then both measures."""
    if kind == "LSTM":
        done = lstm.run(m, seed, updates, text, held_out=1 - FRACTION)
        return Trained(kind, m, seed, done.net.theta.size, done.history.smooth_loss, done.held_out_bpc,
                       done.training_bpc, done.held_out_from_zeros, done.seconds, done.net.theta)
    train_part, rest = Corpus(text).split(FRACTION)
    rnn, carried = rnnlib.RNN.init(train_part.K, m, rng=seed), []

    def keep_last_state(state):  # the hidden state the last update carried out
        if state.update == state.total:
            carried.append(state.h)

    start = time.process_time()  # CPU time: the runs and notebooks beside it do not count
    history = rnnlib.train(rnn, train_part, updates=updates, rng=seed, sample_every=None, progress=False,
                           on_update=keep_last_state)
    seconds = time.process_time() - start
    seen = lstm.last_read(train_part.data, updates, rnnlib.SEQ_LENGTH, len(rest))
    return Trained(kind, m, seed, rnn.theta.size, history.smooth_loss, rnnlib.bits_per_char(rnn, rest.data, carried[0]),
                   rnnlib.bits_per_char(rnn, seen, carried[0]), rnnlib.bits_per_char(rnn, rest.data), seconds,
                   rnn.theta)


class Runs:
    """Every network this notebook compares, training in worker processes (report_runs.Background) while
    its cells go on: the RNN at each m of CAPACITY and the LSTM at LSTM_M, each with SEEDS, for `updates`
    updates each; the slowest are submitted first.  all() waits for them (a stop while waiting stops
    them all): {(kind, m): {seed: Trained}}."""

    def __init__(self, corpus: Corpus, updates: int, workers: int | None = None):
        self.updates, self.background = updates, Background(workers)
        self.settings = [("LSTM", LSTM_M)] + [("RNN", m) for m in sorted(CAPACITY, reverse=True)]
        for kind, m in self.settings:
            for seed in SEEDS:
                self.background.submit((kind, m, seed), train_one, kind, m, seed, updates, corpus.text)
        print(f"Training {len(self.background.jobs)} networks in worker processes, {updates:,} updates each: the "
              f"RNN at m = {', '.join(map(str, CAPACITY))} and the LSTM at m = {LSTM_M}, seeds "
              f"{', '.join(map(str, SEEDS))} each.")

    def all(self) -> dict:
        return {(kind, m): {seed: self.background.result((kind, m, seed)) for seed in SEEDS}
                for kind, m in self.settings}


def per_seed(by_seed: dict, measure: str = "held_out_bpc") -> dict:
    """{seed: the run's held-out bits per character}, or another of its measures ("training_bpc")."""
    return {seed: getattr(t, measure) for seed, t in by_seed.items()}


def shown(values) -> str:
    """Each seed's value, in seed order: "2.71, 2.74, 2.70"."""
    return ", ".join(f"{v:.3f}" for v in values)


# ----------------------------------------------------------------------------- 1 · count-based baselines


@dataclass(eq=False)
class Baseline:
    """One n-gram order: its Kneser-Ney and absolute-discounting models' held-out bits per character,
    the distinct histories it stores, its discounts, and the CPU seconds counting and tuning took."""

    n: int
    kneser_ney: float
    absolute: float
    contexts: int
    discounts: tuple
    seconds: float


def baselines(corpus: Corpus, orders=ORDERS) -> list:
    """The n-gram models of each order, counted on the first FRACTION of the text with discounts
    tuned on that part's last tenth, measured on the rest."""
    train_part, rest = corpus.split(FRACTION)
    n, start = max(orders), time.process_time()
    kn = ngram.fit(train_part.data, corpus.K, n)
    seconds = time.process_time() - start
    ad = ngram.fit(train_part.data, corpus.K, n, kneser_ney=False)
    print(f"n-gram models of orders {min(orders)} to {n}, counted on {train_part.source} ({len(train_part):,} "
          f"characters; the discounts tuned on its last tenth, counted on the rest), measured on {rest.source} "
          f"({len(rest):,}). Counting and tuning every order took {seconds:.1f} s of CPU (Kneser-Ney).")
    return [Baseline(k, ngram.bits_per_char(kn[k - 1], rest.data), ngram.bits_per_char(ad[k - 1], rest.data),
                     kn[k - 1].contexts, kn[k - 1].discounts, seconds) for k in orders]


def baseline_table(models: list, rnn: dict) -> Table:
    """The n-gram models' held-out bits per character and size, and the RNN (m = 100) below them."""
    rows = [[f"{b.n}-gram", b.kneser_ney, b.absolute, float(perplexity(b.kneser_ney)), f"{b.contexts:,} histories",
             ", ".join(f"{D:.2f}" for D in b.discounts)] for b in models]
    values = list(per_seed(rnn).values())
    first = next(iter(rnn.values()))
    rows.append([f"RNN, m = {first.m} ({len(values)} seeds)", shown(values), "", float(perplexity(np.mean(values))),
                 f"{first.parameters:,} parameters", f"after {len(first.smooth_loss):,} updates"])
    return Table(["model", "Kneser-Ney", "absolute discounting", "perplexity", "what it stores", "discounts D_1 … D_n"],
                 rows, title="bits per character on the held-out 10 %", float_format="{:.3f}")


def nearest_order(models: list, bpc: float) -> str:
    """Where bpc falls among the Kneser-Ney models: between which orders, or beyond them."""
    values = [(b.n, b.kneser_ney) for b in models]
    as_good = [n for n, v in values if v <= bpc]  # the orders at least as good as bpc
    if not as_good:
        return f"better than every order up to {values[-1][0]}"
    n = min(as_good)
    if n == values[0][0]:
        return f"no better than the {n}-gram"
    return f"between the {n - 1}-gram ({dict(values)[n - 1]:.3f}) and the {n}-gram ({dict(values)[n]:.3f})"


def baseline_summary(models: list, rnn: dict) -> None:
    values = per_seed(rnn)
    mean = float(np.mean(list(values.values())))
    first = next(iter(rnn.values()))
    print(f"The RNN (m = {first.m}, {first.parameters:,} parameters) after {len(first.smooth_loss):,} updates: "
          f"{shown(values.values())} bits per character held out (seeds {', '.join(map(str, values))}); its mean, "
          f"{mean:.3f}, lies {nearest_order(models, mean)}.")
    best = min(models, key=lambda b: b.kneser_ney)
    print(f"The best count-based model here is the {best.n}-gram: {best.kneser_ney:.3f} bits per character "
          f"(absolute discounting {best.absolute:.3f}), from {best.contexts:,} stored histories, "
          f"{best.contexts / first.parameters:.0f} times as many as the RNN's parameters.")


def plot_baselines(models: list, networks: dict):
    """Held-out bits per character of each n-gram order, with every seed of each network as a line."""
    fig, ax = subplots(figsize=(9, 4))
    n = [b.n for b in models]
    ax.plot(n, [b.kneser_ney for b in models], "o-", color="k", label="n-gram, Kneser-Ney")
    ax.plot(n, [b.absolute for b in models], "s--", color="grey", ms=4, label="n-gram, absolute discounting")
    for i, ((kind, m), by_seed) in enumerate(networks.items()):
        for j, t in enumerate(by_seed.values()):
            ax.axhline(t.held_out_bpc, color=f"C{i}", lw=0.9, ls="-",
                       label=f"{kind}, m = {m} ({t.parameters:,} parameters), each seed" if j == 0 else None)
    shown_values = [b.kneser_ney for b in models[1:]] + [t.held_out_bpc for by_seed in networks.values()
                                                          for t in by_seed.values()]
    ax.set_ylim(None, min(max(shown_values), models[0].kneser_ney) + 0.1)
    ax.set(xlabel="n (the n-gram's order)", ylabel="bits per character, held out",
           title="Count-based models and the networks on the same held-out text")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig.describe(
        f"Line chart of held-out bits per character against the n-gram's order n, {n[0]} to {n[-1]}: Kneser-Ney "
        f"from {models[0].kneser_ney:.2f} to {models[-1].kneser_ney:.2f}, absolute discounting beside it from "
        f"{models[0].absolute:.2f} to {models[-1].absolute:.2f}; a horizontal line for each seed of "
        + "; ".join(f"the {kind} at m = {m} ({shown(per_seed(by_seed).values())})"
                    for (kind, m), by_seed in networks.items()) + ".")


# ----------------------------------------------------------------------------- 2 · capacity


def capacity_table(capacity: dict) -> Table:
    """Each m: parameters, each seed's held-out and training-part bits per character and the gap
    (both read from the state training ended in), the held-out part read from zeros, and the time."""
    rows = []
    for m, by_seed in capacity.items():
        first = next(iter(by_seed.values()))
        held, seen = per_seed(by_seed), per_seed(by_seed, "training_bpc")
        gaps = [held[s] - seen[s] for s in by_seed]
        rows.append([m, first.parameters, shown(held.values()), shown(seen.values()), shown(gaps),
                     shown(t.held_out_from_zeros for t in by_seed.values()),
                     float(np.mean([t.seconds for t in by_seed.values()]))])
    return Table(["m", "parameters", "held out, each seed", "training text last read", "held out − training",
                  "held out, read from zeros", "CPU seconds per run"], rows,
                 title="the RNN at each m, bits per character", float_format="{:.1f}")


def plot_capacity(capacity: dict, models: list, ceiling: float):
    """Held-out and training-part bits per character against the parameter count, every seed a point
    and the means joined; a value above ceiling (a uniform guess's bits) is drawn at the top, as a
    triangle (capacity_summary names it), and its mean is left unjoined."""
    fig, ax = subplots(figsize=(9, 4))
    top, joined, above = ceiling + 0.1, {}, 0
    for label, measure, colour, marker in (("held out", "held_out_bpc", "C3", "o"),
                                           ("training text last read, as long", "training_bpc", "C0", "s")):
        means = joined[label] = []
        for m, by_seed in capacity.items():
            p = next(iter(by_seed.values())).parameters
            values = list(per_seed(by_seed, measure).values())
            inside, beyond = [v for v in values if v <= top], len([v for v in values if v > top])
            above += beyond
            ax.plot([p] * len(inside), inside, marker, color=colour, ms=4, alpha=0.7,
                    label=None if means else f"{label}, each seed")
            ax.plot([p] * beyond, [top] * beyond, "^", color=colour, ms=7)
            means.append((p, np.mean(values)))
        kept = [(p, v) for p, v in means if v <= top]
        if kept:
            ax.plot(*zip(*kept), "-", color=colour, lw=1)
    left = min(t.parameters for by_seed in capacity.values() for t in by_seed.values())
    for b in models:
        if b.n in (2, 3, 4):
            ax.axhline(b.kneser_ney, color="grey", ls=":", lw=0.8)
            ax.annotate(f"{b.n}-gram", (left, b.kneser_ney), fontsize=7, color="grey", xytext=(0, 2),
                        textcoords="offset points")
    highest = max(max(t.held_out_bpc, t.training_bpc) for by_seed in capacity.values() for t in by_seed.values())
    if highest > ceiling:
        ax.axhline(ceiling, color="k", lw=0.6)
        ax.annotate("a uniform guess over the K characters", (left, ceiling), fontsize=7, xytext=(0, -9),
                    textcoords="offset points")
    for m, by_seed in capacity.items():
        ax.annotate(f"m = {m}", (next(iter(by_seed.values())).parameters, min(max(per_seed(by_seed).values()), top)),
                    textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_ylim(None, min(highest, top) + 0.3)
    ax.set(xlabel="parameters (log scale)", ylabel="bits per character",
           title="The RNN's bits per character against its size, equal updates")
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    return fig.describe(
        f"Bits per character against the parameter count (log scale) of the RNN at m = "
        f"{', '.join(map(str, capacity))}, each seed a point and the means joined: "
        + "; ".join(f"{label}, means {', '.join(f'{v:.2f}' for _, v in means)}" for label, means in joined.items())
        + "; dotted lines at the 2-, 3- and 4-gram's held-out bits."
        + (f" {above} values beyond a uniform guess ({ceiling:.2f} bits) are drawn as triangles at the top."
           if above else ""))


def capacity_summary(capacity: dict, ceiling: float) -> list:
    """What more units buy and whether the gap opens, by the rule, and any run whose held-out bits
    exceed ceiling (a uniform guess's); returns the lines."""
    ms = list(capacity)
    lines = [f"m = {m}, seed {seed} predicts the held-out part worse than a uniform guess ({ceiling:.2f} bits per "
             f"character) when read from {'the state its training ended in' if t.held_out_bpc > ceiling else 'zeros'}: "
             f"{t.held_out_bpc:.3f} from that state, {t.held_out_from_zeros:.3f} from zeros. A hidden state can settle "
             f"where training never took it, which is why every measure here reads from the training's last state"
             for m, by_seed in capacity.items() for seed, t in by_seed.items()
             if max(t.held_out_bpc, t.held_out_from_zeros) > ceiling]
    for small, large in zip(ms, ms[1:]):
        c = compare(per_seed(capacity[large]), per_seed(capacity[small]), (f"m = {large}", f"m = {small}"))
        lines.append(f"Held out: {c.sentence('{:.3f}')}")
    gap = {m: {s: capacity[m][s].held_out_bpc - capacity[m][s].training_bpc for s in SEEDS} for m in ms}
    c = compare(gap[ms[-1]], gap[ms[0]], (f"the gap at m = {ms[-1]}", f"the gap at m = {ms[0]}"))
    lines.append(f"Held out minus training text: {c.sentence('{:+.3f}', lower='smaller')}")
    print("\n".join(f"- {line}" for line in lines))
    return lines


# ----------------------------------------------------------------------------- 3 · the gated network


def gradient_check(corpus: Corpus, m: int = 5, n: int = rnnlib.SEQ_LENGTH, seed: int = rnnlib.DEFAULT_SEED) -> Table:
    """lstm.gradient_errors at m cells on the text's first n characters, from an LSTM whose weights and
    biases are drawn at sigma 0.5, so that each gate matters."""
    net, rng = lstm.init(corpus.K, m, sigma=0.5, rng=seed), np.random.default_rng(seed)
    net.b[...] = rng.normal(0, 0.5, net.b.shape)
    errors = lstm.gradient_errors(net, corpus.data[:n], corpus.data[1:n + 1], net.zero_state())
    extended = np.finfo(np.longdouble).eps < np.finfo(np.float64).eps
    centred = "centred differences, " + ("long double" if extended else "float64 (long double is float64 here)")
    return Table(["parameter", "entries", centred, "complex step"],
                 [[name, net[name].size, *errors[name]] for name in errors],
                 title=f"the LSTM's largest relative error, m = {m}, {n} characters")


def plot_smooth_losses(lstms: dict, rnns: dict):
    """Every seed's smooth loss, RNN and LSTM, on one axis."""
    fig, ax = subplots(figsize=(9, 4))
    for colour, by_seed in (("C0", rnns), ("C3", lstms)):
        for j, t in enumerate(by_seed.values()):
            ax.plot(np.arange(len(t.smooth_loss)), t.smooth_loss, color=colour, lw=0.9, alpha=0.8,
                    label=f"{t.kind}, m = {t.m}, {t.parameters:,} parameters, seeds {', '.join(map(str, by_seed))}"
                    if j == 0 else None)
    ax.set(xlabel="update", ylabel="smooth loss", title="RNN and LSTM of the same size, every seed")
    bits_axis(ax)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig.describe(
        "Line chart of the smooth loss against the update, every seed's run, on one axis (bits per character on "
        "the right); at the last update " + "; ".join(
            f"the {t.kind} at m = {t.m} ({t.parameters:,} parameters) ends at "
            f"{', '.join(f'{run.smooth_loss[-1]:.1f}' for run in by_seed.values())}"
            for by_seed in (rnns, lstms) for t in [next(iter(by_seed.values()))]) + ".")


def gates_summary(lstms: dict, rnns: dict) -> Comparison:
    c = compare(per_seed(lstms), per_seed(rnns), ("the LSTM", "the RNN"))
    print(f"Held out, equal parameters and updates: {c.sentence('{:.3f}')}")
    return c


def samples(corpus: Corpus, networks: dict, n: int = 300, prime: str = "\n", seed: int = rnnlib.DEFAULT_SEED) -> dict:
    """Print n characters at T = 1 from seed `seed`'s network of each kind, after the same prime, with
    the same draws; return them, {(kind, m): text}."""
    texts = {}
    for (kind, m), by_seed in networks.items():
        generate = lstm.generate if kind == "LSTM" else rnnlib.generate
        texts[kind, m] = generate(by_seed[seed].network(corpus.K), corpus, n, prime=prime, rng=seed)
        print(f"{kind}, m = {m}, seed {seed}, {n} characters at T = 1:\n{texts[kind, m]}\n")
    return texts


def cell_features(text: str) -> dict:
    """Notebook 5's features, and the position in the line (characters since the last line break)."""
    features = text_features(text)
    position = np.zeros(len(text))
    for t in range(1, len(text)):
        position[t] = 0 if text[t - 1] == "\n" else position[t - 1] + 1
    features["position in the line"] = position
    return features


def strongest(values, text: str) -> dict:
    """{feature: (unit, r)} for each of FEATURES, the column of values (n, m) over text (one row a
    character) that correlates most with it, as notebook 5 measures (feature_correlations)."""
    r = feature_correlations(values, text, cell_features(text))
    units = {name: int(np.argmax(np.abs(r[name]))) for name in FEATURES}
    return {name: (unit, float(r[name][unit])) for name, unit in units.items()}


def cell_readings(corpus: Corpus, lstms: dict, rnns: dict, length: int = 20_000) -> dict:
    """{(kind, what, seed): {feature: (unit, r)}} over the held-out part's first `length` characters, read
    from zeros as notebook 5 reads its passage: the RNN's hidden units, the LSTM's hidden units and its cells."""
    held = corpus.split(FRACTION)[1]
    text, x = held.text[:length], held.data[:length]
    print(f"Read from zeros over the first {len(text):,} characters of {held.source}.")
    readings = {}
    for seed, t in rnns.items():
        rnn = t.network(corpus.K)
        readings["RNN", "hidden units h", seed] = strongest(rnnlib.hidden_states(rnn, x, np.zeros(rnn.m))[1:], text)
    for seed, t in lstms.items():
        net = t.network(corpus.K)
        _, H, C = lstm.states(net, x, net.zero_state())
        readings["LSTM", "hidden units h", seed] = strongest(H[1:], text)
        readings["LSTM", "cells c", seed] = strongest(C[1:], text)
    return readings


def cell_table(readings: dict) -> Table:
    rows = [[kind, what, seed] + [f"{r:+.2f} (unit {unit})" for unit, r in (found[f] for f in FEATURES)]
            for (kind, what, seed), found in readings.items()]
    return Table(["network", "read from", "seed"] + [f"best r: {f}" for f in FEATURES], rows,
                 title="the unit or cell that follows each feature best, over the held-out text")


def cell_summary(readings: dict) -> list:
    """For each feature and each kind of unit: in how many of the networks some unit reaches r² >= WEAK_R2."""
    lines = []
    for feature in FEATURES:
        for kind, what in dict.fromkeys((kind, what) for kind, what, _ in readings):
            r = {seed: found[feature][1] for (k, w, seed), found in readings.items() if (k, w) == (kind, what)}
            held = [seed for seed, v in r.items() if v * v >= WEAK_R2]
            edge = [seed for seed, v in r.items() if abs(v * v - WEAK_R2) <= EDGE * WEAK_R2]
            shown_r = ", ".join(f"seed {s} {v:+.2f}" for s, v in r.items())
            verdict = (f"in {len(held)} of the {len(r)} networks" if held else f"in none of the {len(r)} networks")
            if edge:
                verdict += f", at the threshold's edge for seed(s) {', '.join(map(str, edge))}"
            lines.append(f"{feature}, {kind} {what}: r² >= {WEAK_R2} {verdict} (the strongest per network: {shown_r})")
    print("\n".join(f"- {line}" for line in lines))
    return lines


# ----------------------------------------------------------------------------- 4 · what it adds up to


def summary_table(models: list, networks: dict) -> Table:
    """Every model: held-out bits per character (each seed for the networks), perplexity, what it stores,
    and its training's CPU time."""
    rows = [[f"{b.n}-gram (Kneser-Ney)", f"{b.kneser_ney:.3f}", float(perplexity(b.kneser_ney)),
             f"{b.contexts:,} histories", f"{b.seconds:.1f} s (all orders, counted once)"] for b in models]
    for (kind, m), by_seed in networks.items():
        values = list(per_seed(by_seed).values())
        first = next(iter(by_seed.values()))
        seconds = [t.seconds for t in by_seed.values()]
        rows.append([f"{kind}, m = {m}", f"{np.mean(values):.3f} ({shown(values)})", float(perplexity(np.mean(values))),
                     f"{first.parameters:,} parameters",
                     f"{np.mean(seconds):.1f} s per run ({len(first.smooth_loss):,} updates)"])
    return Table(["model", "held-out bits per character (each seed)", "perplexity", "what it stores",
                  "training time (CPU)"], rows, title="how good is it: the held-out 10 %", float_format="{:.2f}")


def answers(models: list, networks: dict) -> list:
    """The three questions' answers, drawn from the values: printed and recorded as this notebook's
    findings (shared.record_findings), which notebook 8 and the report's abstract print."""
    rnn, ms = networks["RNN", rnnlib.M], sorted(m for kind, m in networks if kind == "RNN")
    values = per_seed(rnn)
    mean = float(np.mean(list(values.values())))
    updates = len(next(iter(rnn.values())).smooth_loss)
    largest = compare(per_seed(networks["RNN", ms[-1]]), per_seed(rnn), (f"m = {ms[-1]}", f"m = {rnnlib.M}"))
    smallest = compare(per_seed(rnn), per_seed(networks["RNN", ms[0]]), (f"m = {rnnlib.M}", f"m = {ms[0]}"))
    gates = compare(per_seed(networks["LSTM", LSTM_M]), per_seed(rnn), ("the LSTM", "the RNN"))
    lines = [
        f"How good the assignment's network is: after {updates:,} updates, {mean:.3f} bits per character held out "
        f"(seeds {', '.join(map(str, values))}: {shown(values.values())}; perplexity {float(perplexity(mean)):.1f}), "
        f"{nearest_order(models, mean)} of the count-based models (notebook 6 places it after {HELD_OUT_EPOCHS} "
        f"epoch{'s' if HELD_OUT_EPOCHS > 1 else ''}).",
        f"What more units buy at {updates:,} updates: {smallest.sentence('{:.3f}')} {largest.sentence('{:.3f}')}",
        f"What gates buy at an equal parameter count and {updates:,} updates: {gates.sentence('{:.3f}')}",
    ]
    record_findings("7_how_good", lines)
    return lines

