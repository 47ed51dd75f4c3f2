"""`python3 run.py sweep [TEXT] [options]`: train every combination of settings, compare the runs on
held-out text, one CSV row per run.

    parser          the options (--help lists them with their defaults)
    run_sweep       read the rows already in the CSV, train the missing runs in worker processes
                    (runs.Runner: this machine's, or a Dask cluster's), then print the table
    read_rows, check_same_sweep, write_rows     the CSV: one row per finished run, written at once
    train_runs      the runs, each row written as its run finishes
    print_table     the rows ranked by held-out bits per character, and the command that trains the best

Exit status: 0 done; 1 a mistake to fix (one line on stderr naming the fix) or a run that gave no
row (each named); 130 stopped by Ctrl-C, keeping every finished row.  What the commands share is
in cli_common.py.
"""

import argparse
import csv
import itertools
import os
import shlex
import sys
from pathlib import Path

from tqdm import tqdm

import rnnlib
import runs
from cli_common import (
    DEFAULT_EPOCHS,
    RUN,
    TEXT_HELP,
    Parser,
    UserError,
    check_writable,
    file_path,
    nonnegative_int,
    open_text,
    positive_int,
    positive_number,
    run_command,
    say,
    text_and_name,
)

GRID = ("m", "eta", "seq_length", "seed")  # a run's settings, as runs.Spec names them: one row per combination
COLUMNS = (*GRID, "updates", "best_smooth_loss", "held_out_bpc", "seconds",
           # what every row of one file shares: a file of another sweep is refused, not mixed in
           "held_out", "text_sha256")
TYPES = dict(m=int, eta=float, seq_length=int, seed=int, updates=int, best_smooth_loss=float, held_out_bpc=float,
             seconds=float, held_out=float, text_sha256=str)


def parser() -> Parser:
    sweep = Parser("sweep", description=(
        "Train one run for each combination of --m, --eta, --seq-length and --seeds on TEXT less its "
        "last part (--held-out), measure each run's bits per character on that part, and write one row "
        "per finished run to --out. The runs train at the same time, each in a worker process with one "
        "BLAS thread: on this machine, or on a Dask cluster (--scheduler). Ctrl-C keeps every finished "
        "row, and the same command again trains only the missing ones. At the end: the table sorted by "
        "held-out bits per character, and the command that trains the best row on the whole text."))
    sweep.add_argument("text", metavar="TEXT", nargs="?", help=TEXT_HELP)
    total = sweep.add_mutually_exclusive_group()
    total.add_argument("--epochs", type=positive_int, metavar="N",
                       help=f"train each run N epochs of the trained part (default: {DEFAULT_EPOCHS})")
    total.add_argument("--updates", type=positive_int, metavar="N",
                       help="train each run N updates (default: the --epochs default)")
    sweep.add_argument("--m", type=listof(positive_int, "50,100,200"), default=str(rnnlib.M), metavar="LIST",
                       help="hidden units, e.g. 50,100,200 (default: %(default)s)")
    sweep.add_argument("--eta", type=listof(positive_number, "0.05,0.1,0.2"), default=str(rnnlib.ETA),
                       metavar="LIST", help="AdaGrad's learning rates, e.g. 0.05,0.1,0.2 (default: %(default)s)")
    sweep.add_argument("--seq-length", type=listof(positive_int, "10,25,50"), default=str(rnnlib.SEQ_LENGTH),
                       metavar="LIST", help="characters per update, e.g. 10,25,50 (default: %(default)s)")
    sweep.add_argument("--seeds", type=listof(nonnegative_int, "0,1,2"), default=str(rnnlib.DEFAULT_SEED),
                       metavar="LIST", help="seed S starts from the initial weights of `train --seed S`, e.g. 0,1,2 "
                                            "(default: %(default)s)")
    sweep.add_argument("--held-out", type=fraction, default=0.1, metavar="F",
                       help="the last fraction F of TEXT is never trained on, and measures each run "
                            "(default: %(default)s)")
    sweep.add_argument("--workers", type=positive_int, metavar="N",
                       help=f"worker processes on this machine (default: all cores, here {runs.default_workers()})")
    sweep.add_argument("--scheduler", metavar="ADDRESS",
                       help="a Dask scheduler's address, e.g. tcp://192.168.1.10:8786: its workers train the runs "
                            "(default: none, this machine's processes)")
    sweep.add_argument("--out", metavar="PATH",
                       help=f"the CSV file of the rows (default: {rnnlib.display_path(rnnlib.RESULTS_DIR)}"
                            f"/sweep-<TEXT's name>.csv)")
    return sweep


def listof(item, example: str):
    """An argparse type: comma-separated values of the argparse type item, each once, in order; a
    mistake in a list of several names the list, and example shows one of the option's own."""
    def parse(text):
        try:
            return list(dict.fromkeys(item(word.strip()) for word in text.split(",")))
        except argparse.ArgumentTypeError as err:
            where = f", in {text!r}" if "," in text else ""
            raise argparse.ArgumentTypeError(f"{err}{where} (a list is values separated by commas, "
                                             f"e.g. {example})") from None
    return parse


def fraction(text):
    """An argparse type: a number strictly between 0 and 1."""
    value = positive_number(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction between 0 and 1, e.g. 0.1, not {text!r}")
    return value


def run_sweep(args) -> int:
    if args.scheduler and args.workers:
        raise UserError("--workers counts this machine's processes, and with --scheduler the cluster's workers "
                        "train: leave out one of the two")
    text, name = text_and_name(args)
    out = file_path(args.out, rnnlib.RESULTS_DIR / f"sweep-{name}.csv", "--out")
    shown = rnnlib.display_path(out)
    check_writable(out, "--out")
    corpus = open_text(text, from_env=not args.text and os.environ.get(rnnlib.CORPUS_ENV))
    trained_part = part_that_trains(corpus, args.held_out, max(args.seq_length))
    epochs = DEFAULT_EPOCHS if args.epochs is None and args.updates is None else args.epochs

    def updates_for(seq_length):
        return args.updates or rnnlib.updates_per_epoch(len(trained_part), seq_length) * epochs

    shared = {"held_out": args.held_out, "text_sha256": rnnlib.text_fingerprint(corpus.text)}
    rows = read_rows(out)
    check_same_sweep(rows, shared, updates_for, args, corpus.source, shown)

    grid = [dict(zip(GRID, values)) for values in itertools.product(args.m, args.eta, args.seq_length, args.seeds)]
    todo = [run for run in grid if key(run) not in rows]
    # the largest networks first, so that the last runs to finish are short ones
    todo.sort(key=lambda run: -run["m"])
    where = f"the Dask cluster at {args.scheduler}" if args.scheduler else \
        plural(min(args.workers or runs.default_workers(), len(todo)), "worker process", "worker processes")
    kept = f"{len(grid) - len(todo)} of them already" if len(grid) > 1 else "not yet" if todo else "already"
    say(f"Sweep on {corpus.source} ({len(corpus):,} characters, K = {corpus.K}; the last {percent(args.held_out)} "
        f"held out): {plural(len(grid), 'run', 'runs')}, {kept} in {shown}"
        + (f"; {len(todo)} to train on {where}. Ctrl-C stops, keeping every finished row." if todo else "."))
    lost, failed = [], []
    if todo:
        jobs = [(runs.Spec(**run, updates=args.updates, epochs=epochs, held_out=args.held_out), corpus.text,
                 corpus.source) for run in todo]
        try:
            lost, failed = train_runs(jobs, todo, rows, shared, out, args)
        except runs.SchedulerUnreachable as err:
            raise UserError(str(err)) from None
        except KeyboardInterrupt:
            done = sum(key(run) in rows for run in grid)
            say(f"Stopped: {done} of the {len(grid)} runs are in {shown}. The same command trains the "
                f"{len(grid) - done} others.")
            return 130
    if rows:
        print_table(rows, args)
    if lost:
        say(f"{len(lost)} run{'s' if len(lost) > 1 else ''} lost, {'their workers' if len(lost) > 1 else 'its worker'} "
            f"died: {'; '.join(lost)}. The same command again trains {'them' if len(lost) > 1 else 'it'}.")
    if failed:  # the same settings would fail again: say why, and let the user change them
        say(f"{len(failed)} run{'s' if len(failed) > 1 else ''} failed: {'; '.join(failed)}.")
    return 1 if lost or failed else 0


def part_that_trains(corpus, held_out, seq_length):
    """The part of corpus that trains (as runs.run splits it), or UserError if a part is too short."""
    try:
        trained, held = corpus.split(1 - held_out)
    except ValueError:
        trained, held = corpus, ""
    if len(held) < 2:
        raise UserError(f"the last {percent(held_out)} of {corpus.source} is {len(held)} character(s), too few to "
                        f"measure a run on: give a larger --held-out, or a longer text")
    if len(trained) < seq_length + 1:
        raise UserError(f"the first {percent(1 - held_out)} of {corpus.source} is {len(trained)} characters, too few "
                        f"for a sequence of {seq_length} and its successor: give a smaller --seq-length or "
                        f"--held-out, or a longer text")
    return trained


def plural(n, one, many) -> str:
    return f"{n} {one if n == 1 else many}"


def percent(fraction) -> str:
    return f"{fraction * 100:g}%"


def key(row):
    return tuple(row[name] for name in GRID)


def train_runs(jobs, todo, rows, shared, out, args) -> list:
    """Train the jobs, adding each finished run's row to rows and writing them all to out at once;
    returns the runs that gave no row, described: (lost with their worker, failed with an error)."""
    lost, failed = [], []
    # the runner first: a scheduler that does not answer is one line, with no progress bar before it
    with runs.Runner(workers=args.workers, scheduler=args.scheduler) as runner, \
            tqdm(total=len(jobs), unit="run", file=sys.stderr) as bar:
        for i, result in runner.map(runs.run, jobs):
            if isinstance(result, runs.RunFailed) and result.lost:
                lost.append(describe(todo[i]))
                tqdm.write(f"lost: {lost[-1]} (its worker died)", file=sys.stderr)
            elif isinstance(result, runs.RunFailed):
                failed.append(f"{describe(todo[i])} ({type(result.__cause__).__name__}: {result.__cause__})")
                tqdm.write(f"failed: {failed[-1]}", file=sys.stderr)
            else:
                rows[key(todo[i])] = {**todo[i], "updates": result.updates, "best_smooth_loss": result.best_smooth_loss,
                                      "held_out_bpc": result.held_out_bpc, "seconds": result.seconds, **shared}
                write_rows(out, rows)
                best = min(row["held_out_bpc"] for row in rows.values())
                bar.set_postfix(best_held_out_bpc=f"{best:.3f}", refresh=False)
            bar.update()
    return lost, failed


def describe(run) -> str:
    return f"m {run['m']}, eta {run['eta']!r}, seq-length {run['seq_length']}, seed {run['seed']}"


def read_rows(out: Path) -> dict:
    """The rows in out ({} if there is no such file), by their settings; UserError if it is not a sweep's."""
    shown = rnnlib.display_path(out)
    try:
        with open(out, newline="", encoding="utf-8") as f:
            lines = list(csv.reader(f))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise UserError(f"cannot read {shown} ({getattr(err, 'strerror', None) or err}): give another --out") from None
    if not lines or tuple(lines[0]) != COLUMNS:
        raise UserError(f"{shown} is not a sweep's table (its first line is not {','.join(COLUMNS)}): give another "
                        f"--out, or move that file away")
    rows = {}
    for number, line in enumerate(lines[1:], start=2):
        try:
            if len(line) != len(COLUMNS):
                raise ValueError(f"{len(line)} fields, not {len(COLUMNS)}")
            row = {name: TYPES[name](value) for name, value in zip(COLUMNS, line)}
        except ValueError as err:
            raise UserError(f"{shown}, line {number}, is not a row of a sweep ({err}): mend or delete that line, "
                            f"or give another --out") from None
        rows[key(row)] = row
    return rows


def check_same_sweep(rows, shared, updates_for, args, source, shown):
    """UserError if out's rows were trained with other settings than the ones every row of this sweep
    shares: another text, --held-out, or length of training."""
    differences = []
    if any(row["text_sha256"] != shared["text_sha256"] for row in rows.values()):
        differences.append(f"they were trained on another text than {source} (or on this one before it changed)")
    held = sorted({row["held_out"] for row in rows.values()} - {args.held_out})
    if held:
        differences.append(f"--held-out {held[0]!r}, not {args.held_out!r}")
    for row in rows.values():
        s, wanted = row["seq_length"], updates_for(row["seq_length"])
        # on another text or held-out part, --epochs gives other counts anyway: that alone is said
        if not differences and row["updates"] != wanted:
            option = f"--updates {args.updates}" if args.updates else (
                f"--epochs {args.epochs or DEFAULT_EPOCHS}{'' if args.epochs else ' (the default)'}, "
                f"which is {wanted:,} updates at --seq-length {s}")
            differences.append(f"{row['updates']:,} updates at --seq-length {s}, not {option}")
    if differences:
        raise UserError(f"{shown} holds the rows of another sweep: {'; '.join(differences)}. Give the options "
                        f"they were trained with to go on with that sweep, or another --out for this one")


def write_rows(out: Path, rows: dict):
    """All rows, sorted by their settings, at full precision (repr), written atomically: a temporary file
    renamed over out, so that Ctrl-C or a full disk never leaves half a table."""
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(COLUMNS)
            for _, row in sorted(rows.items()):
                writer.writerow([repr(row[name]) if isinstance(row[name], float) else row[name] for name in COLUMNS])
        os.replace(tmp, out)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise UserError(f"could not write {rnnlib.display_path(out)} ({err.strerror or err}); the rows written "
                            f"before are intact: free some space, or give another --out, then run the same "
                            f"command again") from None
        raise


def print_table(rows, args):
    """The rows sorted by held-out bits per character, the best marked, and the command that trains it."""
    ranked = sorted(rows.values(), key=lambda row: row["held_out_bpc"])
    header = ("m", "eta", "seq_length", "seed", "updates", "best smooth loss", "held-out bpc", "seconds")
    cells = [[str(row["m"]), repr(row["eta"]), str(row["seq_length"]), str(row["seed"]), f"{row['updates']:,}",
              f"{row['best_smooth_loss']:.3f}", f"{row['held_out_bpc']:.4f}", f"{row['seconds']:.1f}"]
             for row in ranked]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]
    say("  ".join(title.rjust(width) for title, width in zip(header, widths)))
    for i, line in enumerate(cells):
        say("  ".join(cell.rjust(width) for cell, width in zip(line, widths)) + ("  <- best" if i == 0 else ""))
    best = ranked[0]
    words = [*RUN.split(), "train", *([args.text] if args.text else []), "--m", str(best["m"]),
             "--eta", repr(best["eta"]), "--seq-length", str(best["seq_length"]), "--seed", str(best["seed"]),
             *(["--updates", str(args.updates)] if args.updates else []),
             *(["--epochs", str(args.epochs)] if args.epochs else [])]
    say(f"Best: {describe(best)}: {best['held_out_bpc']:.4f} bits per character on the held-out "
        f"{percent(best['held_out'])}.")
    say(f"To train it on the whole text: {shlex.join(words)}")


def main(argv=None) -> int:
    return run_command(parser, run_sweep, argv)


if __name__ == "__main__":
    sys.exit(main())
