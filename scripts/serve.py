"""Serve the synthesis notebook as a web page with Voilà, on this machine only (127.0.0.1).

Run it with `python3 run.py serve [--port N]`.  The page uses the best model of the last
training run (results/training.npz, written by `python3 run.py report`); without one for the
current corpus it says so and stops, rather than train for minutes behind a blank page.
"""

import argparse
import os
import sys
from pathlib import Path

import rnnlib

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "3_synthesis.ipynb"


def check_model(corpus) -> str | None:
    """Why the page cannot show a model for this corpus, or None if it can."""
    path = rnnlib.CHECKPOINT_PATH
    make = "run `python3 run.py report` first (it trains one, about 1½ minutes on the book), then this again"
    if not path.is_file():
        return f"No trained model yet ({rnnlib.display_path(path)} is missing): {make}."
    try:
        checkpoint = rnnlib.load_checkpoint(path)
    except ValueError as err:
        return f"{err}\nTo make a new one, {make}."
    if not checkpoint.trained_on(corpus):
        return (f"The model in {rnnlib.display_path(path)} was trained on {checkpoint.source}, but the "
                f"corpus now is {corpus.source}: {make}.")
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8866, help="the port on 127.0.0.1 (default 8866)")
    args = parser.parse_args(argv)
    problem = check_model(rnnlib.load_corpus())
    if problem:
        print(problem, file=sys.stderr)
        return 1
    print(f"Serving the temperature slider at http://127.0.0.1:{args.port}/ (Ctrl-C stops it)", flush=True)
    command = [sys.executable, "-m", "voila", str(NOTEBOOK), "--no-browser", f"--port={args.port}",
               "--Voila.ip=127.0.0.1"]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    sys.exit(main())
