"""The tables, figures and sentences of notebooks/2_training.ipynb: the published run's smooth
loss and ours beside it (loss_table), the band of six seeds that shows how much is luck (the seed
runs of report_runs.SeedRuns, trained while the main run trains; band_marks, seed_table), the
loss curve, the samples, and the summary's sentences.
The published run is compared with a run on the text it was trained on alone, the book, known by
its fingerprint (published_run); on another text the table, the figure and the summary show ours
alone, and say that the comparison does not apply.
"""

import math

import numpy as np

import rnnlib
from rnnlib import Corpus, History
from shared import DescribedFigure, Table, band_verdict, bits, bits_axis, perplexity, record_findings, subplots

# The smooth loss of the published run, the DD2424 Assignment 4 report by Rui Qu (KTH, May 2019), trained
# with the assignment's settings (rnnlib.M, ETA, SEQ_LENGTH, SIGMA), as that report prints it every 10,000 updates.
PUBLISHED_SMOOTH_LOSS = {0: 109.55, 10_000: 54.33, 20_000: 51.04, 30_000: 49.61, 40_000: 48.47,
                         50_000: 49.01, 60_000: 47.71, 70_000: 47.45, 80_000: 45.77, 90_000: 46.49,
                         100_000: 47.42}
# rnnlib.text_fingerprint of the text the published run was trained on: the course's goblet_book.txt, as
# rnnlib.load_corpus reads it (line endings made uniform).  Only a run on that text compares with it.
BOOK_SHA256 = "f86bfd40b13d9d0c7be2d8608e2691583322bf7a13d9fdf8979c19ca2f3f15e0"
NOT_THE_BOOK = ("The published run (Rui Qu, 2019) was trained on the book, Harry Potter and the Goblet of Fire; "
                "this text is another, so the comparison with it does not apply, and none is made.")


def published_run(corpus: Corpus) -> dict:
    """The published run's smooth loss if corpus is the book it was trained on, else {}: nothing to compare."""
    return PUBLISHED_SMOOTH_LOSS if rnnlib.text_fingerprint(corpus.text) == BOOK_SHA256 else {}


def loss_table(history: History, updates=range(0, 100_001, 10_000), published=PUBLISHED_SMOOTH_LOSS) -> Table:
    """Our smooth loss at the given updates (those the run reached) beside the published run's,
    and ours in bits per character and as perplexity; with published empty (another text than the
    book), ours alone, titled with why."""
    if not published:
        rows = [[u, float(history.smooth_loss[u]), float(bits(history.smooth_loss[u])),
                 float(perplexity(bits(history.smooth_loss[u])))] for u in updates if u < history.updates]
        return Table(["update", "smooth loss", "bits per character", "perplexity"], rows, title=NOT_THE_BOOK,
                     float_format="{:.2f}")
    rows = [[u, float(history.smooth_loss[u]), published.get(u, math.nan),
             round(round(float(history.smooth_loss[u]), 2) - published.get(u, math.nan), 2),
             float(bits(history.smooth_loss[u])), float(perplexity(bits(history.smooth_loss[u])))]
            for u in updates if u < history.updates]
    return Table(["update", "smooth loss", "published", "difference", "bits per character", "perplexity"], rows,
                 float_format="{:.2f}")


def band_marks(seed_losses: dict, published=PUBLISHED_SMOOTH_LOSS) -> list[int]:
    """The updates after the first at which the published run has a value and every seed run has
    reached: where the band of seeds exists for the published run to fall in (with published empty,
    the same updates, where the band is shown alone)."""
    updates = min(len(loss) for loss in seed_losses.values())
    return [u for u in published or PUBLISHED_SMOOTH_LOSS if 0 < u < updates]


def seed_table(seed_losses: dict, published=PUBLISHED_SMOOTH_LOSS) -> Table:
    """The smooth loss of each seed run where the published run has a value within the band, and
    after the runs' last update; the published run's below, unless published is empty."""
    updates = min(len(loss) for loss in seed_losses.values())
    marks = band_marks(seed_losses, published)
    rows = [[f"seed {seed}", *(float(loss[u]) for u in marks), float(loss[updates - 1])]
            for seed, loss in seed_losses.items()]
    if published:
        rows.append(["published", *(published[u] for u in marks), math.nan])
    return Table(["run", *(f"update {u:,}" for u in marks), f"after {updates:,} updates"], rows,
                 float_format="{:.2f}")


def plot_smooth_loss(history: History, seed_losses: dict | None = None, published=PUBLISHED_SMOOTH_LOSS, ax=None):
    """The smooth loss per update, with other seeds' runs drawn thinly behind, epoch boundaries
    dashed, the published run's points marked, and bits per character on the right axis.  Drawn on
    ax if given, else on a figure of its own, which it describes (shared.DescribedFigure)."""
    if ax is None:
        _, ax = subplots(figsize=(9, 4.5))
    for i, loss in enumerate((seed_losses or {}).values()):
        ax.plot(np.arange(len(loss)), loss, lw=0.6, color="grey", alpha=0.6,
                label=f"{len(seed_losses)} seeds, first {len(loss):,} updates" if i == 0 else None)
    ax.plot(np.arange(history.updates), history.smooth_loss, lw=1, color="C0", label="smooth loss (this run)")
    for start in range(history.updates_per_epoch, history.updates, history.updates_per_epoch):
        ax.axvline(start, color="grey", ls="--", lw=0.8)
    points = {u: v for u, v in published.items() if u < history.updates}
    if points:
        ax.plot(list(points), list(points.values()), "o", ms=4, color="C1", label="published run (Rui Qu, 2019)")
    ax.set(xlabel="update", ylabel=f"smooth loss (nats per {rnnlib.SEQ_LENGTH} characters)",
           title=f"Smooth loss, {history.updates:,} updates (dashed lines: epoch boundaries)")
    bits_axis(ax)
    ax.legend()
    ax.grid(alpha=0.3)
    if isinstance(ax.figure, DescribedFigure):
        seeds = (f" Behind it, thin grey lines: {len(seed_losses)} seeds' runs over their first "
                 f"{min(len(loss) for loss in seed_losses.values()):,} updates." if seed_losses else "")
        marks = (f" Orange points: the published run's smooth loss every 10,000 updates, "
                 f"{min(points.values()):.2f} at the lowest." if points else "")
        ax.figure.describe(
            f"Line chart of the smooth loss against the update, over {history.updates:,} updates in "
            f"{history.updates // history.updates_per_epoch} epochs (dashed lines at the epoch boundaries): it falls "
            f"from {history.smooth_loss[0]:.1f} to {history.smooth_loss[-1]:.2f}, lowest {history.best_loss:.2f} at "
            f"update {history.best_update:,} ({bits(history.best_loss):.2f} bits per character, the right axis)."
            + seeds + marks)
    return ax.figure


def training_summary(history: History, seed_losses: dict, published=PUBLISHED_SMOOTH_LOSS) -> list:
    """The run's facts for the summary, as this run measured them, printed and kept in the
    findings record: its best, where the published run lies against the band of seeds wherever
    the band exists (by the verdict rule: within, outside or at the edge), every seed's value,
    and the band's width at its end."""
    updates = min(len(loss) for loss in seed_losses.values())
    best_bits = float(bits(history.best_loss))
    lines = [f"The main run: {history.updates:,} updates; lowest smooth loss {history.best_loss:.2f} "
             f"({best_bits:.2f} bits per character, perplexity {float(perplexity(best_bits)):.2f}) at update "
             f"{history.best_update:,}."]
    if not published:
        lines.append(NOT_THE_BOOK)
    for u in band_marks(seed_losses, published) if published else ():
        band = {seed: float(loss[u]) for seed, loss in seed_losses.items()}
        lines.append(f"The published run at update {u:,} ({published[u]:.2f}) is {band_verdict(published[u], band)} "
                     f"({', '.join(f'seed {seed} {v:.2f}' for seed, v in band.items())}).")
    ends = {seed: float(loss[updates - 1]) for seed, loss in seed_losses.items()}
    lines.append(f"After {updates:,} updates the {len(ends)} seeds range from {min(ends.values()):.2f} to "
                 f"{max(ends.values()):.2f}, a spread of {max(ends.values()) - min(ends.values()):.2f}: the luck of "
                 f"the initialisation; beyond that no band was measured.")
    record_findings("2_training", lines)
    return lines


def print_samples(history: History) -> None:
    """Each sample with its update number and the smooth loss then."""
    for update, text in sorted(history.samples.items()):
        print(f"--- update {update:,}, smooth loss {history.smooth_loss[update]:.2f}\n{text}\n")
