"""The project's layout: rnnlib.py holds the computation only, and nothing edits sys.path
(rnnlib is installed into the environment; the notebooks import their helpers from their folder);
each notebook has its helper module, named after it, and the notebooks lead to each other."""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import build_report

ROOT = Path(__file__).resolve().parent.parent


def python_sources():
    """Every Python file of the project and every notebook's code, as (name, text)."""
    for path in sorted(ROOT.rglob("*.py")):
        if not {".venv", ".venvs", "build", ".git"} & set(path.relative_to(ROOT).parts):
            yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")
    for path in build_report.notebook_paths():
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
    for dispatching in ("joblib", "loky", "dask", "distributed"):  # runs.py's and cluster.py's business
        assert dispatching not in text, dispatching


def test_ruff_finds_nothing():
    """Lint (pyflakes, pycodestyle, import order; configured in pyproject.toml) over every .py
    file and every notebook."""
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_notebook_is_valid_in_its_own_format():
    """A cell id in a 4.4 notebook, say, is refused by Voilà ("Notebook JSON is invalid")."""
    for path in build_report.notebook_paths():
        nbformat.validate(nbformat.read(path, as_version=4))


def test_a_folder_without_notebooks_is_an_error_not_an_empty_check(tmp_path, monkeypatch):
    """The checks over every notebook take them from notebook_paths(): none would make each such
    check pass on nothing (a loop) or be skipped (a parametrisation)."""
    monkeypatch.setattr(build_report, "NOTEBOOKS", tmp_path)
    with pytest.raises(FileNotFoundError, match="no notebook"):
        build_report.notebook_paths()


def test_each_notebook_has_its_helper_module_named_after_it():
    """helpers_<notebook>.py beside notebook <notebook>.ipynb: its docstring names the notebook, the
    notebook's first code cell imports it, and it is short enough to read (past about 400 lines a
    module wants splitting); shared.py holds what several notebooks use, report_runs.py the runs
    they start beyond the main run (which notebooks reuse), and nothing else is there."""
    folder, paths = ROOT / "notebooks", build_report.notebook_paths()
    modules = {path.name for path in folder.glob("*.py")} - {"conftest.py"}
    assert modules == {f"helpers_{path.stem}.py" for path in paths} | {"shared.py", "report_runs.py"}
    for path in paths:
        module = folder / f"helpers_{path.stem}.py"
        text = module.read_text(encoding="utf-8")
        assert f"notebooks/{path.name}" in ast.get_docstring(ast.parse(text)), module.name
        first = next(cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
        assert re.search(rf"^import {module.stem} as helpers  # \S", first.source, re.M), path.name
    for name in modules:
        assert len((folder / name).read_text(encoding="utf-8").splitlines()) < 450, name


def test_every_notebook_leads_to_every_other_and_the_next_one():
    """The line under each title links the README and every notebook by its title, in order; each
    notebook but the last ends with "Next:" and a link to the one after it."""
    notebooks = {path.name: nbformat.read(path, as_version=4).cells for path in build_report.notebook_paths()}
    titles = {}
    for number, (name, cells) in enumerate(notebooks.items(), start=1):
        title = re.match(r"# (\d+ · [^\n]+)\n", cells[0].source)
        assert title and title.group(1).startswith(f"{number} · ") and name.startswith(f"{number}_"), name
        titles[name] = title.group(1)
    links = " · ".join(["[README](../README.md)", *(f"[{title}]({name})" for name, title in titles.items())])
    names = list(titles)
    for here, after in zip(names, names[1:] + [None]):
        cells = notebooks[here]
        assert f"\n\n{links}\n\n" in cells[0].source, here
        nexts = [line for cell in cells if cell.cell_type == "markdown" for line in cell.source.splitlines()
                 if line.startswith("Next:")]
        assert nexts == ([] if after is None else [f"Next: [{titles[after]}]({after})."]), here
