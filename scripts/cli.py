"""Train a char-RNN on any text, and sample from it, in a terminal.

    python3 run.py train [TEXT] [options]   train, checkpointing to results/<TEXT's name>.npz
    python3 run.py sample [options]         print text from a checkpoint's model
    python3 run.py sweep [TEXT] [options]   train every combination of settings, compare them on
                                            held-out text, one CSV row per run

Add --help to either for its options.  Exit status: 0 done; 1 a mistake to fix, named with
its fix in one line on stderr; 130 stopped by Ctrl-C.
"""

import argparse
import csv
import itertools
import math
import os
import shlex
import sys
import warnings
from pathlib import Path

import numpy as np
from tqdm import tqdm

import rnnlib
import runs

RUN = "python3 run.py"
DEFAULT_EPOCHS = 4
OFFLINE_NAME = "python_docs"  # the checkpoint's name when training on the offline default corpus
# A new run's settings; a resumed run has the checkpoint's, so these options default to None.
NEW_RUN = {"m": 100, "eta": 0.1, "seq_length": 25, "dtype": "float64", "sample_every": 10_000,
           "sample_length": 200}


class UserError(Exception):
    """A mistake the user can fix: its message, one line naming the problem and the fix."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse's own prints the usage too and exits 2; every user error here is one line and 1
        raise UserError(f"{message} (`{RUN}{self.prog.removeprefix('run.py')} --help` lists the options)")


def count(least):
    """An argparse type: a whole number >= least."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < least:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {least}, not {text!r}")
        return value
    return parse


def real(positive):
    """An argparse type: a finite number, > 0 if positive else >= 0."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and (value > 0 if positive else value >= 0)):
            raise argparse.ArgumentTypeError(f"must be a {'positive' if positive else 'non-negative'} "
                                             f"number, not {text!r}")
        return value
    return parse


def listof(item):
    """An argparse type: comma-separated values of the argparse type item, each once, in order."""
    def parse(text):
        try:
            return list(dict.fromkeys(item(word.strip()) for word in text.split(",")))
        except argparse.ArgumentTypeError as err:
            raise argparse.ArgumentTypeError(f"{err}, in {text!r} (a list is values separated by commas, "
                                             f"e.g. 50,100,200)") from None
    return parse


def fraction(text):
    """An argparse type: a number strictly between 0 and 1."""
    value = real(positive=True)(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction between 0 and 1, e.g. 0.1, not {text!r}")
    return value


def parser() -> Parser:
    top = Parser(prog="run.py", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train on a text", description=(
            "Train on TEXT, with a progress bar showing the smooth loss and samples printed as they "
            "are drawn. Ctrl-C saves the checkpoint and prints the command that continues. With "
            "--resume the run keeps the checkpoint's settings (an option that disagrees is refused; "
            "--sigma and --seed are not used)."))
    train.set_defaults(command=run_train)
    text_help = (f"a UTF-8 text file (default: ${rnnlib.CORPUS_ENV} if set, else data/goblet_book.txt, else "
                 f"Python's reference documentation)")
    train.add_argument("text", metavar="TEXT", nargs="?", help=text_help)
    total = train.add_mutually_exclusive_group()
    total.add_argument("--epochs", type=count(1), metavar="N",
                       help=f"train until N epochs in all (default: {DEFAULT_EPOCHS}; with --resume: "
                            f"the total the checkpoint's run aims at)")
    total.add_argument("--updates", type=count(1), metavar="N",
                       help="train until N updates in all (default: the --epochs default)")
    train.add_argument("--m", type=count(1), metavar="N", help=f"hidden units (default: {NEW_RUN['m']})")
    train.add_argument("--eta", type=real(positive=True), help=f"AdaGrad's learning rate (default: {NEW_RUN['eta']})")
    train.add_argument("--seq-length", type=count(1), metavar="N",
                       help=f"characters per update (default: {NEW_RUN['seq_length']})")
    train.add_argument("--sigma", type=real(positive=False), default=0.01,
                       help="standard deviation of the initial weights (default: %(default)s)")
    train.add_argument("--seed", type=count(0), default=rnnlib.DEFAULT_SEED, metavar="S",
                       help="seeds the initial weights and the samples (default: %(default)s)")
    train.add_argument("--dtype", choices=["float64", "float32"],
                       help=f"the parameters' floating-point type (default: {NEW_RUN['dtype']})")
    train.add_argument("--sample-every", type=count(0), metavar="N",
                       help=f"print a sample every N updates, 0 for never (default: {NEW_RUN['sample_every']})")
    train.add_argument("--sample-length", type=count(1), metavar="N",
                       help=f"characters per sample (default: {NEW_RUN['sample_length']})")
    train.add_argument("--checkpoint", metavar="PATH",
                       help=f"where the run is saved (default: {rnnlib.display_path(rnnlib.RESULTS_DIR)}"
                            f"/<TEXT's name>.npz)")
    train.add_argument("--resume", action="store_true",
                       help="continue the checkpoint's run, bit for bit as if it had never stopped")
    train.add_argument("--force", action="store_true",
                       help="start a new run over an existing checkpoint; with --resume, continue on a "
                            "text other than the one the checkpoint was trained on")

    sample = commands.add_parser(
        "sample", help="print text from a trained model", description=(
            "Print the prime and the characters that follow it, then a newline, on stdout (nothing "
            "else: messages go to stderr). The checkpoint holds its vocabulary: the text it was "
            "trained on is not needed."))
    sample.set_defaults(command=run_sample)
    sample.add_argument("--checkpoint", metavar="PATH",
                        help=f"a checkpoint written by train (default: "
                             f"{rnnlib.display_path(rnnlib.MODEL_PATH)}, the report's last finished run)")
    sample.add_argument("--prime", metavar="TEXT",
                        help="the text to continue (default: a newline, or the vocabulary's first "
                             "character if the text has no newline)")
    sample.add_argument("--temperature", type=real(positive=True), default=1.0, metavar="T",
                        help="below 1 more likely text, above 1 more surprising (default: %(default)s)")
    sample.add_argument("--length", type=count(0), default=500, metavar="N",
                        help="characters to generate (default: %(default)s)")
    sample.add_argument("--seed", type=count(0), default=rnnlib.DEFAULT_SEED, metavar="S",
                        help="another seed, another text (default: %(default)s)")
    sample.add_argument("--last", action="store_true",
                        help="use the last parameters, not the best model (the lowest smooth loss)")

    sweep = commands.add_parser(
        "sweep", help="train every combination of settings and compare them on held-out text", description=(
            "Train one run for each combination of --m, --eta, --seq-length and --seeds on TEXT less its "
            "last part (--held-out), measure each run's bits per character on that part, and write one row "
            "per finished run to --out. The runs train at the same time, each in a worker process with one "
            "BLAS thread: on this machine, or on a Dask cluster (--scheduler). Ctrl-C keeps every finished "
            "row, and the same command again trains only the missing ones. At the end: the table sorted by "
            "held-out bits per character, and the command that trains the best row on the whole text."))
    sweep.set_defaults(command=run_sweep)
    sweep.add_argument("text", metavar="TEXT", nargs="?", help=text_help)
    total = sweep.add_mutually_exclusive_group()
    total.add_argument("--epochs", type=count(1), metavar="N",
                       help=f"train each run N epochs of the trained part (default: {DEFAULT_EPOCHS})")
    total.add_argument("--updates", type=count(1), metavar="N",
                       help="train each run N updates (default: the --epochs default)")
    sweep.add_argument("--m", type=listof(count(1)), default=str(NEW_RUN["m"]), metavar="LIST",
                       help="hidden units, e.g. 50,100,200 (default: %(default)s)")
    sweep.add_argument("--eta", type=listof(real(positive=True)), default=str(NEW_RUN["eta"]), metavar="LIST",
                       help="AdaGrad's learning rates, e.g. 0.05,0.1,0.2 (default: %(default)s)")
    sweep.add_argument("--seq-length", type=listof(count(1)), default=str(NEW_RUN["seq_length"]),
                       metavar="LIST", help="characters per update (default: %(default)s)")
    sweep.add_argument("--seeds", type=listof(count(0)), default=str(rnnlib.DEFAULT_SEED), metavar="LIST",
                       help="seed S starts from the initial weights of `train --seed S` (default: %(default)s)")
    sweep.add_argument("--held-out", type=fraction, default=0.1, metavar="F",
                       help="the last fraction F of TEXT is never trained on, and measures each run "
                            "(default: %(default)s)")
    sweep.add_argument("--workers", type=count(1), metavar="N",
                       help=f"worker processes on this machine (default: all cores, here {runs.default_workers()})")
    sweep.add_argument("--scheduler", metavar="ADDRESS",
                       help="a Dask scheduler's address, e.g. tcp://192.168.1.10:8786: its workers train the runs "
                            "(default: none, this machine's processes)")
    sweep.add_argument("--out", metavar="PATH",
                       help=f"the CSV file of the rows (default: {rnnlib.display_path(rnnlib.RESULTS_DIR)}"
                            f"/sweep-<TEXT's name>.csv)")
    return top


# ----------------------------------------------------------------------------- train


def text_and_name(args):
    """The text's path (None: the offline default) and the name its results are saved under."""
    text = args.text or rnnlib.default_corpus_path()
    return text, Path(text).stem if text else OFFLINE_NAME


def file_path(given, default: Path, option: str) -> Path:
    """The file given with option, or the default; a folder is refused, with an example of a file in it."""
    path = Path(given) if given else default
    if path.is_dir():
        shown = rnnlib.display_path(path)
        raise UserError(f"{shown} is a folder: give {option} a file's path, e.g. {shown}/{default.name}")
    return path


def run_train(args) -> int:
    text, name = text_and_name(args)
    checkpoint = file_path(args.checkpoint, rnnlib.RESULTS_DIR / f"{name}.npz", "--checkpoint")
    shown = rnnlib.display_path(checkpoint)
    if args.resume:
        state = open_checkpoint(checkpoint, "leave out --resume to start a new run")
    elif checkpoint.exists() and not args.force:  # before anything else: a typo must not cost a run
        raise UserError(f"{shown} already exists: add --resume to continue its run, or --force to start "
                        f"a new one over it (or give another --checkpoint)")
    check_writable(checkpoint)
    corpus = open_text(text, from_env=not args.text and os.environ.get(rnnlib.CORPUS_ENV))
    seq_length = state.seq_length if args.resume else args.seq_length or NEW_RUN["seq_length"]
    if len(corpus) < seq_length + 1:
        raise UserError(f"{corpus.source} has {len(corpus)} characters, too few for a sequence of "
                        f"{seq_length} and its successor: give a longer text, or a smaller --seq-length")
    run = resumed_run(args, state, corpus, checkpoint) if args.resume else new_run(args, corpus, checkpoint)
    try:
        history = run()
    except KeyboardInterrupt as stop:
        if not hasattr(stop, "history"):  # a second Ctrl-C: stopped inside an update, nothing saved
            say(f"Stopped at once, saving nothing: {shown} holds the last state saved before, if any.")
        say(f"To continue: {resume_command(args)}")
        return 130
    except (FloatingPointError, OSError) as err:  # a diverged loss, a checkpoint that could not be written
        raise UserError(str(err)) from None
    bits = history.best_loss / seq_length / math.log(2)
    say(f"Best smooth loss: {history.best_loss:.2f} at update {history.best_update:,} "
        f"({bits:.2f} bits per character)")
    say(f"Checkpoint: {shown}")
    say(f"Sample from it: {RUN} sample --checkpoint {shlex.quote(shown)} --temperature 0.8")
    return 0


def new_run(args, corpus, checkpoint):
    """A function that trains a new network."""
    s = {name: NEW_RUN[name] if getattr(args, name) is None else getattr(args, name) for name in NEW_RUN}
    epochs = DEFAULT_EPOCHS if args.epochs is None and args.updates is None else args.epochs
    per_epoch = rnnlib.updates_per_epoch(len(corpus), s["seq_length"])
    total = min(per_epoch * epochs if epochs else math.inf, args.updates or math.inf)
    say(f"Training on {corpus.source} ({len(corpus):,} characters, K = {corpus.K}): m = {s['m']}, "
        f"{total:,} updates ({per_epoch:,} per epoch), checkpoint {rnnlib.display_path(checkpoint)}. "
        f"Ctrl-C stops and saves.")
    rnn = rnnlib.RNN.init(corpus.K, m=s["m"], sigma=args.sigma, rng=args.seed, dtype=np.dtype(s["dtype"]))
    return lambda: rnnlib.train(
        rnn, corpus, epochs=epochs, updates=args.updates, seq_length=s["seq_length"], eta=s["eta"],
        sample_every=s["sample_every"] or None, sample_length=s["sample_length"], rng=args.seed,
        checkpoint=checkpoint, on_update=print_sample)


def resumed_run(args, state, corpus, checkpoint):
    """A function that continues the checkpoint's run, once corpus and the options fit it."""
    shown = rnnlib.display_path(checkpoint)
    difference = state.vocabulary_difference(corpus)
    if difference:
        raise UserError(f"{shown} was trained on {state.source}, whose vocabulary differs from "
                        f"{corpus.source}'s ({difference}): resume with the text "
                        f"it was trained on, or give another --checkpoint to start a new run")
    other_text = not state.trained_on(corpus)
    if other_text and not args.force:
        raise UserError(f"{shown} was trained on {state.source}, not on {corpus.source} (the same "
                        f"characters, another text): resume with {state.source}, or add --force to go on "
                        f"with this text (no longer the same run)")
    held = {"m": state.rnn.m, "eta": state.optimiser.eta, "seq_length": state.seq_length,
            "dtype": state.rnn.dtype.name, "sample_every": state.sample_every or 0,
            "sample_length": state.sample_length}
    clashes = [f"--{name.replace('_', '-')} {getattr(args, name)} (it has {value})"
               for name, value in held.items() if getattr(args, name) not in (None, value)]
    if clashes:
        raise UserError(f"a resumed run keeps the settings of {shown}: leave out {', '.join(clashes)}, "
                        f"or give another --checkpoint to start a new run")
    per_epoch = state.history.updates_per_epoch
    total = per_epoch * args.epochs if args.epochs else args.updates or state.total
    if state.update >= total:
        asked = "its run is complete" if total == state.total else f"{total:,} were asked for"
        raise UserError(f"{shown} has done {state.update:,} updates ({state.update / per_epoch:.1f} epochs) "
                        f"and {asked}: ask for more, e.g. --updates {2 * state.update} or --epochs "
                        f"{math.ceil(state.update / per_epoch) + 1}")
    say(f"Resuming {shown} at update {state.update:,} of {total:,}, on {corpus.source}"
        f"{' (as --force asks)' if other_text else ''}. Ctrl-C stops and saves.")

    def run():
        with warnings.catch_warnings():  # the other text was refused above unless forced
            warnings.simplefilter("ignore", rnnlib.OtherTextWarning)
            return rnnlib.resume(checkpoint, corpus, epochs=args.epochs, updates=args.updates,
                                 on_update=print_sample)[1]
    return run


def open_text(path, from_env):
    """The corpus at path (None: the offline default), or UserError."""
    named = f"{path} (named by ${rnnlib.CORPUS_ENV})" if from_env else path
    try:
        return rnnlib.load_corpus(path)
    except FileNotFoundError:
        raise UserError(f"no such file: {named}: check the path") from None
    except (IsADirectoryError, ValueError) as err:  # each names the file and the fix
        raise UserError(str(err)) from None
    except OSError as err:
        raise UserError(f"cannot read {named} ({err.strerror}): check the path and the file's "
                        f"permissions") from None


def check_writable(path: Path, option="--checkpoint"):
    """Refuse now, not at the first save after many updates, a file (option's) that cannot be written."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot make the folder {folder} for {path.name} ({err.strerror}): give "
                        f"another {option}") from None
    if not os.access(folder, os.W_OK):
        raise UserError(f"cannot write in {folder}: give a {option} in a folder you can write to")


def resume_command(args) -> str:
    words = [*RUN.split(), "train", *([args.text] if args.text else []),
             *(["--checkpoint", args.checkpoint] if args.checkpoint else []), "--resume",
             *(["--force"] if args.resume and args.force else [])]
    return shlex.join(words)


def print_sample(state: rnnlib.TrainingState):
    """train's per-update hook: the update's sample, if it drew one, printed above the progress bar."""
    update = state.update - 1
    if update in state.history.samples:
        tqdm.write(f"--- sample at update {update:,} ---\n{state.history.samples[update]}", file=sys.stdout)
        sys.stdout.flush()


def say(line):
    print(line, flush=True)


# ----------------------------------------------------------------------------- sample


def run_sample(args) -> int:
    path = Path(args.checkpoint) if args.checkpoint else rnnlib.MODEL_PATH
    shown = rnnlib.display_path(path)
    state = open_checkpoint(path, f"train one with `{RUN} train TEXT`, and give the --checkpoint it names"
                                  + ("" if args.checkpoint else f" (`{RUN} report` makes this default one)"))
    prime = args.prime
    if prime is None:
        prime = "\n" if "\n" in state.chars else state.chars[0]
    if not prime:
        raise UserError("--prime is empty: give it at least one character, or leave it out")
    unknown = sorted(set(prime) - set(state.chars))
    if unknown:
        raise UserError(f"--prime has characters that are not in the vocabulary of {shown} (trained on "
                        f"{state.source}): {', '.join(f'{ch!r} (U+{ord(ch):04X})' for ch in unknown)}: "
                        f"use only characters of that text")
    rnn, which = (state.rnn, "last parameters") if args.last else (state.best, "best model")
    update = state.update if args.last else state.best_update
    print(f"{shown}: the {which} (update {update:,}; trained on {state.source}), temperature "
          f"{args.temperature}, seed {args.seed}", file=sys.stderr)
    vocabulary = rnnlib.Corpus("".join(state.chars), source=state.source, chars=state.chars)
    text = rnnlib.generate(rnn, vocabulary, args.length, temperature=args.temperature, prime=prime,
                           rng=args.seed)
    try:
        sys.stdout.buffer.write((prime + text + "\n").encode("utf-8", "surrogatepass"))
        sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped early (`| head`): fine, and no noise at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


# ----------------------------------------------------------------------------- sweep

GRID = ("m", "eta", "seq_length", "seed")  # a run's settings: one row per combination
COLUMNS = (*GRID, "updates", "best_smooth_loss", "held_out_bpc", "seconds",
           # what every row of one file shares: a file of another sweep is refused, not mixed in
           "held_out", "text_sha256")
TYPES = dict(m=int, eta=float, seq_length=int, seed=int, updates=int, best_smooth_loss=float, held_out_bpc=float,
             seconds=float, held_out=float, text_sha256=str)


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
    say(f"Sweep on {corpus.source} ({len(corpus):,} characters, K = {corpus.K}; the last {percent(args.held_out)} "
        f"held out): {len(grid)} runs, {len(grid) - len(todo)} of them already in {shown}"
        + (f"; {len(todo)} to train on {where}. Ctrl-C stops, keeping every finished row." if todo else "."))
    lost, failed = [], []
    if todo:
        jobs = [(runs.Spec(m=run["m"], eta=run["eta"], seq_length=run["seq_length"], seed=run["seed"],
                           updates=args.updates, epochs=epochs, held_out=args.held_out), corpus.text, corpus.source)
                for run in todo]
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


# ----------------------------------------------------------------------------- both


def open_checkpoint(path: Path, fix_if_missing: str) -> rnnlib.TrainingState:
    """The training state at path, or UserError."""
    try:
        return rnnlib.load_checkpoint(path)
    except FileNotFoundError:
        raise UserError(f"no checkpoint at {rnnlib.display_path(path)}: {fix_if_missing}") from None
    except (IsADirectoryError, ValueError) as err:  # damaged or foreign: each names the file and the fix
        raise UserError(str(err)) from None


def main(argv=None) -> int:
    try:
        args = parser().parse_args(argv)
        return args.command(args)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # outside training (which handles its own): nothing to save
        return 130


if __name__ == "__main__":
    sys.exit(main())
