"""The project's layout: rnnlib.py holds the computation only, and nothing edits sys.path
(rnnlib is installed into the environment; the notebooks import their helpers from their folder)."""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def python_sources():
    """Every Python file of the project and every notebook's code, as (name, text)."""
    for path in sorted(ROOT.rglob("*.py")):
        if not {".venv", ".venvs", "build", ".git"} & set(path.relative_to(ROOT).parts):
            yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        yield path.name, "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def test_nothing_edits_sys_path():
    sources = dict(python_sources())
    assert "rnnlib.py" in sources and "2_training.ipynb" in sources
    edits = [name for name, text in sources.items() if re.search(r"sys\.path\s*(\.|\[|\+?=)", text)]
    assert edits == [], f"these edit sys.path: {edits}"


def test_rnnlib_holds_the_computation_only():
    text = (ROOT / "rnnlib.py").read_text(encoding="utf-8")
    for presentation in ("import html", "matplotlib", "ipywidgets", "_repr_html_", "109.55", "PUBLISHED"):
        assert presentation not in text, presentation
    for dispatching in ("joblib", "loky", "dask", "distributed"):  # runs.py's business
        assert dispatching not in text, dispatching


def test_ruff_finds_nothing():
    """Lint (pyflakes, pycodestyle, import order; configured in pyproject.toml) over every .py
    file and every notebook."""
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_notebook_is_valid_in_its_own_format():
    """A cell id in a 4.4 notebook, say, is refused by Voilà ("Notebook JSON is invalid")."""
    import nbformat

    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        nbformat.validate(nbformat.read(path, as_version=4))
