"""What the terminal's three commands share (scripts/train.py, sample.py and sweep.py, run as
`python3 run.py train`, `sample` and `sweep`): how a mistake is said, the argparse value types,
and the files they read and write.

    RUN, DEFAULT_EPOCHS         how the commands are typed; a run's length when none is given
    UserError, Parser           a mistake the user can fix: one line on stderr naming the fix
    run_command                 each command's main: exit status 0 done, 1 a UserError, 130 Ctrl-C,
                                141 (READER_GONE) stdout's reader went away, as for a Unix tool
    silence_stdout              after that: nothing more reaches stdout, and nothing complains
    positive_int, positive_number, nonnegative_int, nonnegative_number
                                argparse types, the positive ones as rnnlib.positive_int and
                                rnnlib.positive_number judge them
    TEXT_HELP, text_and_name, open_text     the text to train on, and the name of its results
    open_checkpoint             a checkpoint to resume or sample from
    note_trained, written_last  the checkpoint `train` saved last (LAST_TRAINED), and which of it and
                                the report's model was written last: what `sample` uses by default
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
# A Unix tool whose reader goes away (`| head`) is killed by SIGPIPE, which a shell shows as 128 + 13. The
# commands stop as quietly, once they have saved what they must, and exit with that status.
READER_GONE = 141
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
    UserError (said in one line on stderr), 130 after a Ctrl-C that training did not handle,
    READER_GONE when stdout's reader went away (quietly: no traceback)."""
    try:
        return command(parser().parse_args(argv))
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # outside training (which handles its own): nothing to save
        return 130
    except BrokenPipeError:
        silence_stdout()
        return READER_GONE


def silence_stdout():
    """Once stdout's reader has gone: stdout goes to /dev/null, so that what is still said, and
    Python's flush of stdout at exit, raise no BrokenPipeError again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


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


# Where `train` notes the checkpoint it saved last (its path, relative to the results folder if inside it,
# so that a moved clone still finds it): written whole, by a rename, when a run ends or stops.
LAST_TRAINED = rnnlib.RESULTS_DIR / "last-trained"


def note_trained(checkpoint: Path):
    """Note checkpoint in LAST_TRAINED, as the one `train` saved last; a note that cannot be written is
    said on stderr, and the run stays saved."""
    try:
        path = checkpoint.resolve().relative_to(rnnlib.RESULTS_DIR.resolve())
    except ValueError:
        path = checkpoint.resolve()
    tmp = LAST_TRAINED.with_name(f".{LAST_TRAINED.name}.{os.getpid()}.tmp")
    try:
        LAST_TRAINED.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(f"{path}\n", encoding="utf-8")
        os.replace(tmp, LAST_TRAINED)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        print(f"Could not note {rnnlib.display_path(checkpoint)} in {rnnlib.display_path(LAST_TRAINED)} "
              f"({err.strerror or err}): `{RUN} sample` needs --checkpoint to find it.", file=sys.stderr)


def written_last() -> tuple[Path, str]:
    """The model `sample` uses without --checkpoint: of rnnlib.MODEL_PATH (the report's last finished run)
    and the checkpoint `train` saved last (LAST_TRAINED), the one written last, by modification time
    (both are written whole by a rename at each save, so that time is the save's); and a line saying so.
    Neither there: MODEL_PATH, which open_checkpoint then refuses, naming the commands that make one."""
    report = (rnnlib.MODEL_PATH, "the report's last finished run")
    try:
        trained = (rnnlib.RESULTS_DIR / LAST_TRAINED.read_text(encoding="utf-8").strip(),
                   f"the checkpoint `{RUN} train` saved last")
    except (OSError, UnicodeDecodeError):
        trained = None
    found = sorted((c for c in (report, trained) if c and c[0].is_file()), key=lambda c: c[0].stat().st_mtime_ns)
    if not found:
        return rnnlib.MODEL_PATH, ""
    (path, what), older = found[-1], found[:-1]
    before = "".join(f" (after {rnnlib.display_path(p)}, {w})" for p, w in older if p.resolve() != path.resolve())
    return path, (f"No --checkpoint: {rnnlib.display_path(path)}, {what}, is the model written last{before}; "
                  f"--checkpoint PATH samples another.")


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
