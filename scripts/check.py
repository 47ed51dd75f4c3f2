"""Check a gradient function of your own against rnnlib's exact gradients, in a terminal.

    python3 run.py check FILE:FUNCTION --convention min-char-rnn|dd2424

Prints gradcheck's table (max relative and absolute error and the entries that disagree, per array,
with the loss and the last hidden state) and the verdict, which names the usual mistake when one fits.

FILE is imported as a module from its path: its top-level code runs, its `if __name__ == "__main__":`
block does not.  A script that trains at its top level, as Karpathy's min-char-rnn.py does, never
finishes importing: put that loop under such a block, or check a copy without it (Ctrl-C stops the
import and says so).  Modules of your own that FILE imports are found on PYTHONPATH, as for any
script run from another folder: PYTHONPATH=folder/of/FILE python3 run.py check ...

Exit status: 0 the loss, the gradients and the last hidden state equal rnnlib's to rounding; 1 they
differ; 2 nothing was checked: input the check cannot use (one line on stderr naming it) or an
exception raised by FILE's code (its traceback, from FILE on); 130 stopped by Ctrl-C; 141 stdout's
reader went away (`| head`), as for the other commands (cli_common.READER_GONE).
"""

import argparse
import importlib.util
import sys
import traceback
from pathlib import Path

import gradcheck
from cli_common import READER_GONE, silence_stdout

RUN = "python3 run.py check"


class UserError(Exception):
    """Input the check cannot use: its message, one line naming the problem."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse's own prints the usage too; every mistake here is one line
        raise UserError(f"{message} (`{RUN} --help` lists the options)")


def parser() -> Parser:
    made = Parser(prog="run.py check", description="Check the loss, gradients and last hidden state your function "
                  "returns against rnnlib's exact ones, and name the usual mistake when one fits.",
                  epilog="Exit status: 0 equal to rnnlib's to rounding, 1 they differ, 2 nothing checked (the reason "
                         "on stderr).")
    made.add_argument("target", metavar="FILE:FUNCTION",
                      help="the file that defines your function, and the function's name, e.g. min_char_rnn.py:lossFun")
    made.add_argument("--convention", required=True, choices=list(gradcheck.CONVENTIONS),
                      help="how the function is called: min-char-rnn, lossFun(inputs, targets, hprev) reading the "
                           "globals Wxh, Whh, Why, bh, by and vocab_size, returning (loss, dWxh, dWhh, dWhy, dbh, "
                           "dby, hprev); dd2424, function(X, Y, h0, RNN) with one-hot X, Y (K, n), h0 (m, 1) and "
                           "RNN a dict (or object) of b, c, U, W, V, returning (loss, grads) or (grads, loss), "
                           "optionally followed by the last hidden state")
    return made


def split(target: str) -> tuple[Path, str]:
    """FILE:FUNCTION as (the file's path, the function's name), or UserError."""
    file, colon, name = target.rpartition(":")
    if not (colon and file and name.isidentifier()):
        raise UserError(f"give FILE:FUNCTION, e.g. min_char_rnn.py:lossFun, not {target!r}")
    path = Path(file)
    if not path.exists():
        raise UserError(f"no such file: {file}: check the path")
    if not path.is_file():
        raise UserError(f"{file} is a folder: give the Python file that defines {name}")
    return path.resolve(), name


def load(path: Path, name: str):
    """Function `name` of the file at path, imported as a module (its own code's exceptions propagate)."""
    module_name = path.stem if path.stem.isidentifier() and path.stem not in sys.modules else "checked_module"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None:
        raise UserError(f"{path.name} cannot be imported as a Python module: give a .py file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module   # as an import does: dataclasses and pickle look the module up there
    try:
        spec.loader.exec_module(module)
    except KeyboardInterrupt:
        print(f"stopped while importing {path.name}: its top-level code was still running (a training loop? put it "
              f"under `if __name__ == \"__main__\":`)", file=sys.stderr)
        raise
    except SystemExit:
        raise UserError(f"{path.name} exits as it is imported (sys.exit at its top level): put that under "
                        f"`if __name__ == \"__main__\":`") from None
    function = getattr(module, name, None)
    if function is None:
        defined = sorted(k for k, v in vars(module).items() if callable(v) and getattr(v, "__module__", "") ==
                         module_name)
        raise UserError(f"{path.name} defines no {name}" + (f" (its functions: {', '.join(defined)})" if defined
                                                            else ""))
    if not callable(function):
        raise UserError(f"{name} in {path.name} is a {type(function).__name__}, not a function")
    return function


def print_traceback(error: BaseException, path: Path) -> None:
    """The traceback of an exception from path's code, from its first frame in path on (the frames
    before it are the checker's); a SyntaxError as Python shows it; any other exception whole."""
    start = error.__traceback__
    while start is not None and Path(start.tb_frame.f_code.co_filename) != path:
        start = start.tb_next
    if start is None and not isinstance(error, SyntaxError):
        start = error.__traceback__
    print("".join(traceback.format_exception(type(error), error, start)), end="", file=sys.stderr)


def main(argv=None) -> int:
    path = None
    try:
        args = parser().parse_args(argv)
        path, name = split(args.target)
        result = gradcheck.check(load(path, name), args.convention)
    except (UserError, gradcheck.ConventionError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # stdout's reader went away while FILE's code printed: quietly, as a Unix tool
        silence_stdout()
        return READER_GONE
    except Exception as err:  # raised by the code in path: its traceback is the message
        print_traceback(err, path)
        beside = path and isinstance(err, ModuleNotFoundError) and err.name and err.name.split(".")[0]
        if beside and ((path.parent / f"{beside}.py").is_file() or (path.parent / beside).is_dir()):
            print(f"({beside} is beside {path.name}: give its folder to Python, "
                  f"PYTHONPATH={path.parent} {RUN} ...)", file=sys.stderr)
        return 2
    try:
        print(result, flush=True)
    except BrokenPipeError:
        silence_stdout()
        return READER_GONE
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
