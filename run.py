#!/usr/bin/env python3
"""The project's commands, for a machine that has only python3.

    python3 run.py report   execute the notebooks in order and write build/report.html
    python3 run.py test     the tests: pytest, and nbval re-executing every notebook
    python3 run.py bench    speed: µs per training update against the plain implementation,
                            and synthesis characters per second
    python3 run.py lab      open the notebooks in JupyterLab
    python3 run.py serve    the temperature slider as a web page (Voilà) on http://127.0.0.1:8866/
    python3 run.py train    train on any text (TEXT, default the book), checkpointing to results/;
                            Ctrl-C saves, --resume continues (--help lists the options)
    python3 run.py sample   print text from a trained checkpoint: --prime, --temperature, --length
    python3 run.py sweep    train every combination of --m, --eta, --seq-length and --seeds in worker
                            processes (or on a Dask cluster: --scheduler), one CSV row per run

Each first makes sure .venv (in this folder) holds requirements.txt and this project (rnnlib,
installed editable): it is created on the first run and brought up to date whenever
requirements.txt or pyproject.toml changes; otherwise this costs nothing.  Then the command
takes this process's place, so Ctrl-C and `kill` reach it and its exit code is run.py's.
Arguments after the command go to the tool (pytest, the benchmark script).
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "requirements.txt"
PYPROJECT = ROOT / "pyproject.toml"
STAMP = VENV / "installed.sha256"  # the hash of the requirements.txt and pyproject.toml last installed

COMMANDS = {
    "report": [str(ROOT / "scripts" / "build_report.py")],
    "test": ["-m", "pytest"],
    "bench": [str(ROOT / "benchmarks" / "bench.py")],
    "lab": ["-m", "jupyter", "lab", str(ROOT / "notebooks")],
    "serve": [str(ROOT / "scripts" / "serve.py")],
    "train": [str(ROOT / "scripts" / "cli.py"), "train"],
    "sample": [str(ROOT / "scripts" / "cli.py"), "sample"],
    "sweep": [str(ROOT / "scripts" / "cli.py"), "sweep"],
}


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv() -> Path:
    """.venv with requirements.txt and this project installed; returns its python."""
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes() + PYPROJECT.read_bytes()).hexdigest()
    python = venv_python()
    if python.exists() and STAMP.is_file() and STAMP.read_text().strip() == wanted:
        return python
    if sys.version_info < (3, 10):
        sys.exit(f"run.py: Python 3.10 or newer is needed, this is {sys.version.split()[0]}")
    if not python.exists():
        print(f"run.py: creating {VENV.name}/ with {sys.executable} ...", flush=True)
        if subprocess.run([sys.executable, "-m", "venv", str(VENV)]).returncode != 0:
            sys.exit("run.py: could not create the virtual environment. On Debian or Ubuntu, "
                     "install it with `sudo apt install python3-venv`, then run this again.")
    print("run.py: installing requirements.txt and this project into .venv/ ...", flush=True)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if subprocess.run([*pip, "-r", str(REQUIREMENTS)]).returncode != 0:
        sys.exit("run.py: pip could not install requirements.txt (see its message above); "
                 "fix that and run this again: nothing already installed is lost.")
    # Editable, so .venv imports this folder's rnnlib.py and an edit needs no re-install;
    # --no-deps: requirements.txt, just installed, is the one list of dependencies.
    if subprocess.run([*pip, "--no-deps", "-e", str(ROOT)]).returncode != 0:
        sys.exit("run.py: pip could not install this project (see its message above); "
                 "fix that and run this again.")
    STAMP.write_text(wanted + "\n")
    return python


def main(argv):
    if not argv or argv[0] not in COMMANDS:
        sys.exit(__doc__)
    python = ensure_venv()
    command = [str(python), *COMMANDS[argv[0]], *argv[1:]]
    if argv[0] not in ("train", "sample", "sweep"):  # theirs are paths the user typed, from the user's folder
        os.chdir(ROOT)
    if os.name != "nt":
        # Not a child: the command becomes this process, so a signal sent to run.py's pid
        # reaches the tool itself, and the tool's exit code is the one the caller sees.
        os.execv(command[0], command)
    try:  # Windows has no exec that keeps the process
        return subprocess.run(command).returncode
    except KeyboardInterrupt:  # Ctrl-C reached the command too, which has stopped
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
