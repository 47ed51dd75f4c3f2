#!/usr/bin/env python3
"""The project's commands, for a machine that has only python3.

    python3 run.py report   execute the notebooks (side by side where they can) and write build/report.html
    python3 run.py test     the tests: pytest, and nbval re-executing every notebook (a worker per core)
    python3 run.py bench    speed: µs per training update against the plain implementation,
                            and synthesis characters per second
    python3 run.py lab      open the notebooks in JupyterLab (kernels over Unix sockets, notebooks trusted)
    python3 run.py serve    the temperature slider as a web page (Voilà) on http://127.0.0.1:8866/
    python3 run.py train    train on any text (TEXT, default the book), checkpointing to results/;
                            Ctrl-C saves, --resume continues (--help lists the options)
    python3 run.py sample   print text from a trained checkpoint (default: the model written last, by
                            train or by the report): --prime, --temperature, --length
    python3 run.py sweep    train every combination of --m, --eta, --seq-length and --seeds in worker
                            processes (or on a Dask cluster: --scheduler), one CSV row per run
    python3 run.py check FILE:FUNCTION --convention min-char-rnn|dd2424
                            check your own RNN's gradients against rnnlib's exact ones, and name
                            the usual mistake when one fits
    python3 run.py test-pythons [PYTHON ...]
                            for contributors: the tests over tests/ (not the notebooks) under each
                            supported Python on PATH (python3.11, ...) or each PYTHON given, each
                            in its own .venvs/X.Y made from requirements.txt

Each first makes sure .venv (in this folder) holds requirements.txt and this project (rnnlib,
installed editable): it is created on the first run and brought up to date whenever
requirements.txt or pyproject.toml changes, and made again if it was made for another folder (a
clone moved or copied with its .venv: a venv's scripts and its editable install keep the absolute
path they were made with); otherwise this costs nothing.  Then the command
takes this process's place, so Ctrl-C and `kill` reach it and its exit code is run.py's.
Arguments after the command go to the tool (pytest, the benchmark script).

Python 3.11, 3.12 and 3.13 are supported (PYTHONS); an older one is refused in one line before
anything is installed, a newer one goes on with a note.
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
# The Pythons the tests pass under (`test-pythons` runs them under each): README.md, pyproject.toml's
# requires-python and environment.yml name the same, and a test checks that. 3.10 lacks NumPy 2.4,
# matplotlib 3.11 and Hypothesis 6.170, and its own support ended in October 2026.
PYTHONS = ((3, 11), (3, 12), (3, 13))

COMMANDS = {
    "report": [str(ROOT / "scripts" / "build_report.py")],
    # a worker process per core, each taking whole files: a notebook's cells run in order in one kernel
    "test": ["-m", "pytest", "--numprocesses=auto", "--dist=loadfile"],
    "bench": [str(ROOT / "benchmarks" / "bench.py")],
    "lab": [str(ROOT / "scripts" / "lab.py")],
    "serve": [str(ROOT / "scripts" / "serve.py")],
    "train": [str(ROOT / "scripts" / "train.py")],
    "sample": [str(ROOT / "scripts" / "sample.py")],
    "sweep": [str(ROOT / "scripts" / "sweep.py")],
    "check": [str(ROOT / "scripts" / "check.py")],
}


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def dotted(version) -> str:
    return ".".join(str(n) for n in version)


def supported() -> str:
    """PYTHONS as a reader says it: '3.11, 3.12 or 3.13'."""
    names = [dotted(v) for v in PYTHONS]
    return ", ".join(names[:-1]) + " or " + names[-1]


def refusal(version):
    """The one line that refuses a Python older than PYTHONS (`version` as sys.version_info), else None."""
    if tuple(version[:2]) >= PYTHONS[0]:
        return None
    return (f"run.py: this is Python {dotted(version[:3])}; this project needs Python {supported()}. "
            f"Get one with deadsnakes (Ubuntu), pyenv, uv or conda (environment.yml), as README.md's "
            f"\"Which Python\" shows, and run run.py with it, e.g. python{dotted(PYTHONS[-1])} run.py test")


def python_version(python):
    """(major, minor, micro) of the interpreter `python` (a path or a command), or None if it does not run."""
    try:
        out = subprocess.run([str(python), "-c", "import sys; print(*sys.version_info[:3])"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True)
    except OSError:
        return None
    return tuple(int(n) for n in out.stdout.split()) if out.returncode == 0 else None


def made_for(venv: Path):
    """The folder venv was made in, as Python's venv module wrote it when it made it (the `command` line
    of pyvenv.cfg, which every supported Python writes: `PYTHON -m venv [OPTIONS] FOLDER`), or None if
    that is not known."""
    try:
        config = (venv / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in config:
        key, _, value = line.partition("=")
        if key.strip() == "command" and " -m venv " in value:
            words = value.split(" -m venv ", 1)[1].split()
            while words and words[0].startswith("-"):  # the options; the folder (spaces and all) follows
                words.pop(0)
            return " ".join(words) or None
    return None


def ensure_venv(venv: Path = VENV, base=None) -> Path:
    """`venv` with requirements.txt and this project installed, made with the Python `base` (this
    one by default); returns its python."""
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes() + PYPROJECT.read_bytes()).hexdigest()
    python, stamp = venv_python(venv), venv / "installed.sha256"  # the hash last installed
    elsewhere = made_for(venv)
    moved = elsewhere is not None and os.path.realpath(elsewhere) != str(venv)
    if python.exists() and stamp.is_file() and stamp.read_text().strip() == wanted and not moved:
        return python
    held = python_version(python) if python.exists() else None
    if held is None or refusal(held) or moved:  # none yet, an older Python's failed install, or another folder's
        base = base or sys.executable
        version = sys.version_info if base == sys.executable else python_version(base)
        if refusal(version):
            sys.exit(refusal(version))
        if tuple(version[:2]) > PYTHONS[-1]:
            print(f"run.py: Python {dotted(version[:2])} is newer than those tested ({supported()}); "
                  f"going on with it.", flush=True)
        if moved:
            print(f"run.py: {venv.relative_to(ROOT)}/ was made for {elsewhere}, and its scripts and its install of "
                  f"rnnlib point there (this folder was moved or copied): making it again here with {base} ...",
                  flush=True)
        else:
            print(f"run.py: creating {venv.relative_to(ROOT)}/ with {base} ...", flush=True)
        # --clear: a venv of an older Python is made again, not patched
        if subprocess.run([str(base), "-m", "venv", "--clear", str(venv)]).returncode != 0:
            sys.exit("run.py: could not create the virtual environment. On Debian or Ubuntu, "
                     "install it with `sudo apt install python3-venv`, then run this again.")
    print(f"run.py: installing requirements.txt and this project into {venv.relative_to(ROOT)}/ ...",
          flush=True)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if subprocess.run([*pip, "-r", str(REQUIREMENTS)]).returncode != 0:
        sys.exit("run.py: pip could not install requirements.txt (see its message above); "
                 "fix that and run this again: nothing already installed is lost.")
    # Editable, so the venv imports this folder's rnnlib.py and an edit needs no re-install;
    # --no-deps: requirements.txt, just installed, is the one list of dependencies.
    if subprocess.run([*pip, "--no-deps", "-e", str(ROOT)]).returncode != 0:
        sys.exit("run.py: pip could not install this project (see its message above); "
                 "fix that and run this again.")
    stamp.write_text(wanted + "\n")
    return python


def tests_under_each_python(pythons) -> int:
    """pytest over tests/ under each Python in `pythons` (default: each of PYTHONS found on PATH),
    one after the other, each in .venvs/X.Y; then a line per Python. 0 when every one passed."""
    results = []
    try:
        for base in pythons or [f"python{dotted(v)}" for v in PYTHONS]:
            version = python_version(base)
            if version is None or refusal(version):
                results.append((base, "not found" if version is None else "not supported"))
                continue
            python = ensure_venv(ROOT / ".venvs" / dotted(version[:2]), base)
            print(f"run.py: pytest tests/ under Python {dotted(version)} ...", flush=True)
            last = ""
            with subprocess.Popen([str(python), "-m", "pytest", "tests"], cwd=ROOT, stdout=subprocess.PIPE,
                                  universal_newlines=True) as pytest:
                for line in pytest.stdout:  # shown as it comes; its closing line is the summary's
                    print(line, end="", flush=True)
                    last = line.strip(" =\n") or last
            results.append((f"Python {dotted(version)}", f"exit {pytest.returncode}: {last}"))
    except KeyboardInterrupt:  # reached pytest too, which has stopped
        return 130
    print("\nrun.py test-pythons:")
    for name, result in results:
        print(f"  {name}: {result}")
    ran = [result for _, result in results if result.startswith("exit")]
    return 0 if ran and all(result.startswith("exit 0:") for result in ran) else 1


def main(argv):
    if argv and argv[0] == "test-pythons":
        return tests_under_each_python(argv[1:])
    if not argv or argv[0] not in COMMANDS:
        sys.exit(__doc__)
    python = ensure_venv()
    command = [str(python), *COMMANDS[argv[0]], *argv[1:]]
    if argv[0] == "test":  # one BLAS thread each: the test workers share the cores, and OpenBLAS's threads,
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):  # waiting for a core, would spin
            os.environ.setdefault(name, "1")
    if argv[0] not in ("train", "sample", "sweep", "check"):  # theirs are paths the user typed, from the user's folder
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
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:  # stdout's reader went away (`| head`): stop quietly, with a Unix tool's status
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's flush at exit stays quiet
        sys.exit(141)  # 128 + SIGPIPE, as the shell shows for a tool that SIGPIPE ended
