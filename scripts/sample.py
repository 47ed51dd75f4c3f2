"""`python3 run.py sample [options]`: print text from a trained checkpoint's model.

    parser          the options (--help lists them with their defaults)
    run_sample      the prime, the characters the model writes after it, and a newline, on stdout

stdout gets exactly that text, so it pipes; what the command says goes to stderr.  The checkpoint
holds its vocabulary: the text it was trained on is not needed.  Without --checkpoint: the model
written last, the report's or the one `train` saved last (cli_common.written_last).  Exit status: 0
done; 1 a mistake to fix, named with its fix in one line on stderr; 141 stdout's reader went away
(`| head`).  What the commands share is in cli_common.py.
"""

import sys
from pathlib import Path

import rnnlib
from cli_common import (
    RUN,
    Parser,
    UserError,
    nonnegative_int,
    open_checkpoint,
    positive_number,
    run_command,
    written_last,
)


def parser() -> Parser:
    sample = Parser("sample", description=(
        "Print the prime and the characters that follow it, then a newline, on stdout (nothing "
        "else: messages go to stderr). The checkpoint holds its vocabulary: the text it was "
        "trained on is not needed."))
    sample.add_argument("--checkpoint", metavar="PATH",
                        help=f"a checkpoint written by train (default: the model written last: "
                             f"{rnnlib.display_path(rnnlib.MODEL_PATH)}, the report's last finished run, or the "
                             f"checkpoint train saved last, whichever is newer)")
    sample.add_argument("--prime", metavar="TEXT",
                        help="the text to continue (default: a newline, or the vocabulary's first "
                             "character if the text has no newline)")
    sample.add_argument("--temperature", type=positive_number, default=1.0, metavar="T",
                        help="below 1 more likely text, above 1 more surprising (default: %(default)s)")
    sample.add_argument("--length", type=nonnegative_int, default=500, metavar="N",
                        help="characters to generate (default: %(default)s)")
    sample.add_argument("--seed", type=nonnegative_int, default=rnnlib.DEFAULT_SEED, metavar="S",
                        help="another seed, another text (default: %(default)s)")
    sample.add_argument("--last", action="store_true",
                        help="use the last parameters, not the best model (the lowest smooth loss)")
    return sample


def run_sample(args) -> int:
    path, chosen = (Path(args.checkpoint), "") if args.checkpoint else written_last()
    if chosen:
        print(chosen, file=sys.stderr)
    shown = rnnlib.display_path(path)
    state = open_checkpoint(path, f"train one with `{RUN} train TEXT`, and give the --checkpoint it names"
                            if args.checkpoint else f"train one with `{RUN} train TEXT` (or `{RUN} report`), "
                                                    f"and this command samples it")
    prime = args.prime
    if prime is None:
        prime = "\n" if "\n" in state.chars else state.chars[0]
    # generate refuses both too, but in the library's words, and naming only the first unknown character
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
    data = memoryview((prime + text + "\n").encode("utf-8", "surrogatepass"))
    while data:  # unbuffered (PYTHONUNBUFFERED), stdout.buffer is the raw file, whose write may take only a part
        data = data[sys.stdout.buffer.write(data):]
    sys.stdout.flush()
    return 0


def main(argv=None) -> int:
    return run_command(parser, run_sample, argv)


if __name__ == "__main__":
    sys.exit(main())
