"""`python3 run.py train [TEXT] [options]`: train a char-RNN on any text in a terminal,
checkpointing to results/<TEXT's name>.npz; Ctrl-C saves, --resume continues bit for bit.

    parser          the options (--help lists them with their defaults)
    run_train       open the text and the checkpoint, train, and say where the result is
    new_run         a new network, with NEW_RUN's settings where no option is given
    resumed_run     the checkpoint's run, once the text and the options fit it
    resume_command  after Ctrl-C: the command that continues the run
    SamplePrinter   rnnlib.train's per-update hook: each sample, printed above the progress bar; once
                    stdout's reader has gone (`| head`), a request to stop, as Ctrl-C is

A run that ends or stops, saved, is noted as the one `train` saved last (cli_common.note_trained),
which `sample` uses by default unless the report's model is newer.  Exit status: 0 done; 1 a
mistake to fix, named with its fix in one line on stderr; 130 stopped by Ctrl-C, after saving;
141 stopped, after saving, because stdout's reader went away.  What the commands share is in
cli_common.py.
"""

import math
import os
import shlex
import sys
import warnings
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

import rnnlib
from cli_common import (
    DEFAULT_EPOCHS,
    READER_GONE,
    RUN,
    TEXT_HELP,
    Parser,
    UserError,
    check_writable,
    file_path,
    nonnegative_int,
    nonnegative_number,
    note_trained,
    open_checkpoint,
    open_text,
    positive_int,
    positive_number,
    run_command,
    say,
    silence_stdout,
    text_and_name,
)

# A new run's settings; a resumed run has the checkpoint's, so these options default to None.
NEW_RUN = {"m": rnnlib.M, "eta": rnnlib.ETA, "seq_length": rnnlib.SEQ_LENGTH, "dtype": "float64",
           "sample_every": 10_000, "sample_length": 200}


def parser() -> Parser:
    train = Parser("train", description=(
        "Train on TEXT, with a progress bar showing the smooth loss and samples printed as they "
        "are drawn. Ctrl-C saves the checkpoint and prints the command that continues. With "
        "--resume the run keeps the checkpoint's settings (an option that disagrees is refused; "
        "--sigma and --seed are not used)."))
    train.add_argument("text", metavar="TEXT", nargs="?", help=TEXT_HELP)
    total = train.add_mutually_exclusive_group()
    total.add_argument("--epochs", type=positive_int, metavar="N",
                       help=f"train until N epochs in all (default: {DEFAULT_EPOCHS}; with --resume: "
                            f"the total the checkpoint's run aims at)")
    total.add_argument("--updates", type=positive_int, metavar="N",
                       help="train until N updates in all (default: the --epochs default)")
    train.add_argument("--m", type=positive_int, metavar="N", help=f"hidden units (default: {NEW_RUN['m']})")
    train.add_argument("--eta", type=positive_number, help=f"AdaGrad's learning rate (default: {NEW_RUN['eta']})")
    train.add_argument("--seq-length", type=positive_int, metavar="N",
                       help=f"characters per update (default: {NEW_RUN['seq_length']})")
    train.add_argument("--sigma", type=nonnegative_number, default=rnnlib.SIGMA,
                       help="standard deviation of the initial weights (default: %(default)s)")
    train.add_argument("--seed", type=nonnegative_int, default=rnnlib.DEFAULT_SEED, metavar="S",
                       help="seeds the initial weights and the samples (default: %(default)s)")
    train.add_argument("--dtype", choices=["float64", "float32"],
                       help=f"the parameters' floating-point type (default: {NEW_RUN['dtype']})")
    train.add_argument("--sample-every", type=nonnegative_int, metavar="N",
                       help=f"print a sample every N updates, 0 for never (default: {NEW_RUN['sample_every']})")
    train.add_argument("--sample-length", type=positive_int, metavar="N",
                       help=f"characters per sample (default: {NEW_RUN['sample_length']})")
    train.add_argument("--checkpoint", metavar="PATH",
                       help=f"where the run is saved (default: {rnnlib.display_path(rnnlib.RESULTS_DIR)}"
                            f"/<TEXT's name>.npz)")
    train.add_argument("--resume", action="store_true",
                       help="continue the checkpoint's run, bit for bit as if it had never stopped")
    train.add_argument("--force", action="store_true",
                       help="start a new run over an existing checkpoint; with --resume, continue on a "
                            "text other than the one the checkpoint was trained on")
    return train


def run_train(args) -> int:
    text, name = text_and_name(args)
    checkpoint = file_path(args.checkpoint, rnnlib.RESULTS_DIR / f"{name}.npz", "--checkpoint")
    shown = rnnlib.display_path(checkpoint)
    if args.resume:
        state = open_checkpoint(checkpoint, "leave out --resume to start a new run")
    elif checkpoint.exists() and not args.force:  # before anything else: a typo must not cost a run
        raise UserError(f"{shown} already exists: add --resume to continue its run, or --force to start "
                        f"a new one over it (or give another --checkpoint)")
    check_writable(checkpoint, "--checkpoint")
    corpus = open_text(text, from_env=not args.text and os.environ.get(rnnlib.CORPUS_ENV))
    seq_length = state.seq_length if args.resume else args.seq_length or NEW_RUN["seq_length"]
    # rnnlib.train would refuse a new run too, but later and in the library's words; resume does not check
    if len(corpus) < seq_length + 1:
        raise UserError(f"{corpus.source} has {len(corpus)} characters, too few for a sequence of "
                        f"{seq_length} and its successor: give a longer text, or a smaller --seq-length")
    printer = SamplePrinter()
    run = (resumed_run(args, state, corpus, checkpoint, printer) if args.resume else
           new_run(args, corpus, checkpoint, printer))
    try:
        history = run()
    except KeyboardInterrupt as stop:
        saved = hasattr(stop, "history")  # else a second Ctrl-C: stopped inside an update, nothing saved
        if saved:
            note_trained(checkpoint)
        if printer.reader_gone:  # saved; and nobody reads what would follow
            return READER_GONE
        if not saved:
            say(f"Stopped at once, saving nothing: {shown} holds the last state saved before, if any.")
        say(f"To continue: {resume_command(args)}")
        return 130
    except BrokenPipeError:  # stderr's reader went away (`2>&1 | head`) under the progress bar
        raise
    except (FloatingPointError, OSError) as err:  # a diverged loss, a checkpoint that could not be written
        raise UserError(str(err)) from None
    note_trained(checkpoint)
    bits = history.best_loss / seq_length / math.log(2)
    say(f"Best smooth loss: {history.best_loss:.2f} at update {history.best_update:,} "
        f"({bits:.2f} bits per character)")
    say(f"Checkpoint: {shown}")
    say(f"Sample from it: {RUN} sample --checkpoint {shlex.quote(shown)} --temperature 0.8")
    return 0


def new_run(args, corpus, checkpoint, printer):
    """A function that trains a new network, with printer as its per-update hook."""
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
        checkpoint=checkpoint, on_update=printer)


def resumed_run(args, state, corpus, checkpoint, printer):
    """A function that continues the checkpoint's run, once corpus and the options fit it, with printer as
    its per-update hook."""
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
    # resume refuses this too, but only once called, and naming its own arguments, not these options
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
                                 on_update=printer)[1]
    return run


def resume_command(args) -> str:
    words = [*RUN.split(), "train", *([args.text] if args.text else []),
             *(["--checkpoint", args.checkpoint] if args.checkpoint else []), "--resume",
             *(["--force"] if args.resume and args.force else [])]
    return shlex.join(words)


@dataclass
class SamplePrinter:
    """train's per-update hook: the update's sample, if it drew one, printed above the progress bar.
    When stdout's reader has gone (`| head`), it asks training to stop after this update, as Ctrl-C
    does (training takes a KeyboardInterrupt raised here as that request, and saves), and notes why."""

    reader_gone: bool = False

    def __call__(self, state: rnnlib.TrainingState):
        update = state.update - 1
        if update in state.history.samples:
            try:
                tqdm.write(f"--- sample at update {update:,} ---\n{state.history.samples[update]}", file=sys.stdout)
                sys.stdout.flush()
            except BrokenPipeError:
                self.reader_gone = True
                silence_stdout()
                raise KeyboardInterrupt from None


def main(argv=None) -> int:
    return run_command(parser, run_train, argv)


if __name__ == "__main__":
    sys.exit(main())
