"""What the terminal's three commands share (scripts/train.py, sample.py and sweep.py, run as
`python3 run.py train`, `sample` and `sweep`): how a mistake is said, the argparse value types,
and the files they read and write.

    RUN, DEFAULT_EPOCHS         how the commands are typed; a run's length when none is given
    UserError, Parser           a mistake the user can fix: one line on stderr naming the fix
    run_command                 each command's main: exit status 0 done, 1 a UserError, 130 Ctrl-C
    positive_int, positive_number, nonnegative_int, nonnegative_number
                                argparse types, the positive ones as rnnlib.positive_int and
                                rnnlib.positive_number judge them
    TEXT_HELP, text_and_name, open_text     the text to train on, and the name of its results
    open_checkpoint             a checkpoint to resume or sample from
    file_path, check_writable   an output file that may not be a folder, in a folder we can write to
    say                         a line for the user, on stdout
"""

import argparse
import math
import os
import sys
from pathlib import Path

import rnnlib

RUN = "python3 run.py"
DEFAULT_EPOCHS = 4  # a run's length, for train and for each run of a sweep
OFFLINE_NAME = "python_docs"  # the results' name when training on the offline default corpus
TEXT_HELP = (f"a UTF-8 text file (default: ${rnnlib.CORPUS_ENV} if set, else data/goblet_book.txt, else "
             f"Python's reference documentation)")


class UserError(Exception):
    """A mistake the user can fix: its message, one line naming the problem and the fix."""


class Parser(argparse.ArgumentParser):
    """The options of `python3 run.py COMMAND`; a mistake in them is a UserError naming --help."""

    def __init__(self, command: str, description: str):
        super().__init__(prog=f"run.py {command}", description=description)
        self.command = command

    def error(self, message):
        # argparse's own prints the usage too and exits 2; every user error here is one line and 1
        raise UserError(f"{message} (`{RUN} {self.command} --help` lists the options)")


def run_command(parser, command, argv=None) -> int:
    """command(the options parser() reads in argv), as a command's main: its exit status, 1 after a
    UserError (said in one line on stderr), 130 after a Ctrl-C that training did not handle."""
    try:
        return command(parser().parse_args(argv))
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # outside training (which handles its own): nothing to save
        return 130


# ----------------------------------------------------------------------------- argparse types


def argument_type(convert, check, wanted: str):
    """An argparse type: convert(text) (int or float) if check, raising ValueError, accepts it; else
    the one-line "must be WANTED, not TEXT" that argparse puts after the option's name."""
    def parse(text):
        try:
            return check(convert(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {wanted}, not {text!r}") from None
    return parse


def _at_least_zero(value):
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(value)
    return value


# the name given to rnnlib's checks is not shown: argparse names the option
positive_int = argument_type(int, lambda n: rnnlib.positive_int(n, "the option"), "a whole number >= 1")
positive_number = argument_type(float, lambda x: rnnlib.positive_number(x, "the option"), "a positive number")
nonnegative_int = argument_type(int, _at_least_zero, "a whole number >= 0")  # seeds, counts that may be 0
nonnegative_number = argument_type(float, _at_least_zero, "a non-negative number")


# ----------------------------------------------------------------------------- files


def text_and_name(args):
    """The text's path (None: the offline default) and the name its results are saved under."""
    text = args.text or rnnlib.default_corpus_path()
    return text, Path(text).stem if text else OFFLINE_NAME


def open_text(path, from_env):
    """The corpus at path (None: the offline default), or UserError; from_env: $RNN_CORPUS named it."""
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


def open_checkpoint(path: Path, fix_if_missing: str) -> rnnlib.TrainingState:
    """The training state at path, or UserError."""
    try:
        return rnnlib.load_checkpoint(path)
    except FileNotFoundError:
        raise UserError(f"no checkpoint at {rnnlib.display_path(path)}: {fix_if_missing}") from None
    except (IsADirectoryError, ValueError) as err:  # damaged or foreign: each names the file and the fix
        raise UserError(str(err)) from None


def file_path(given, default: Path, option: str) -> Path:
    """The file given with option, or the default; a folder is refused, with an example of a file in it."""
    path = Path(given) if given else default
    if path.is_dir():
        shown = rnnlib.display_path(path)
        raise UserError(f"{shown} is a folder: give {option} a file's path, e.g. {shown}/{default.name}")
    return path


def check_writable(path: Path, option: str):
    """Refuse now, not at the first save after many updates, a file (option's) that cannot be written."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot make the folder {folder} for {path.name} ({err.strerror}): give "
                        f"another {option}") from None
    if not os.access(folder, os.W_OK):
        raise UserError(f"cannot write in {folder}: give a {option} in a folder you can write to")


def say(line):
    print(line, flush=True)
