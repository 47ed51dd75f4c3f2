"""Train a char-RNN on any text, and sample from it, in a terminal.

    python3 run.py train [TEXT] [options]   train, checkpointing to results/<TEXT's name>.npz
    python3 run.py sample [options]         print text from a checkpoint's model

Add --help to either for its options.  Exit status: 0 done; 1 a mistake to fix, named with
its fix in one line on stderr; 130 stopped by Ctrl-C.
"""

import argparse
import math
import os
import shlex
import sys
import warnings
from pathlib import Path

import numpy as np
from tqdm import tqdm

import rnnlib

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
    train.add_argument("text", metavar="TEXT", nargs="?",
                       help=f"a UTF-8 text file (default: ${rnnlib.CORPUS_ENV} if set, else "
                            f"data/goblet_book.txt, else Python's reference documentation)")
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
    return top


# ----------------------------------------------------------------------------- train


def run_train(args) -> int:
    text = args.text or rnnlib.default_corpus_path()
    name = Path(text).stem if text else OFFLINE_NAME
    checkpoint = Path(args.checkpoint) if args.checkpoint else rnnlib.RESULTS_DIR / f"{name}.npz"
    shown = rnnlib.display_path(checkpoint)
    if checkpoint.is_dir():
        raise UserError(f"{shown} is a folder: give --checkpoint a file's path, e.g. {shown}/{name}.npz")
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
        checkpoint=checkpoint, on_sample=print_sample)


def resumed_run(args, state, corpus, checkpoint):
    """A function that continues the checkpoint's run, once corpus and the options fit it."""
    shown = rnnlib.display_path(checkpoint)
    if corpus.chars != state.chars:
        missing = "".join(sorted(set(state.chars) - set(corpus.chars)))
        extra = "".join(sorted(set(corpus.chars) - set(state.chars)))
        raise UserError(f"{shown} was trained on {state.source}, whose vocabulary differs from "
                        f"{corpus.source}'s (missing {missing!r}, extra {extra!r}): resume with the text "
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
            warnings.filterwarnings("ignore", ".* is not the text", UserWarning)
            return rnnlib.resume(checkpoint, corpus, epochs=args.epochs, updates=args.updates,
                                 on_sample=print_sample)[1]
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


def check_writable(checkpoint: Path):
    """Refuse now, not at the first save after many updates, a checkpoint that cannot be written."""
    folder = checkpoint.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot make the folder {folder} for the checkpoint ({err.strerror}): give "
                        f"another --checkpoint") from None
    if not os.access(folder, os.W_OK):
        raise UserError(f"cannot write in {folder}: give a --checkpoint in a folder you can write to")


def resume_command(args) -> str:
    words = [*RUN.split(), "train", *([args.text] if args.text else []),
             *(["--checkpoint", args.checkpoint] if args.checkpoint else []), "--resume",
             *(["--force"] if args.resume and args.force else [])]
    return shlex.join(words)


def print_sample(update, text):
    tqdm.write(f"--- sample at update {update:,} ---\n{text}", file=sys.stdout)  # above the progress bar
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
