"""The project's set-up files agree with each other."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_environment_yml_installs_requirements_txt_and_the_project_on_python_311():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "conda-forge" in env["channels"] and "python=3.11" in deps and "pip" in deps
    pip_lists = [d["pip"] for d in deps if isinstance(d, dict)]
    assert pip_lists == [["-r requirements.txt", "-e ."]]


def test_rnnlib_and_runs_are_installed_so_they_import_from_any_folder(tmp_path):
    # pytest's pythonpath leaves this folder out, so only the install can find them (as worker processes must)
    found = subprocess.run([sys.executable, "-c", "import rnnlib, runs; print(rnnlib.__file__); print(runs.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.split()
    assert [Path(f) for f in found] == [ROOT / "rnnlib.py", ROOT / "runs.py"]


def test_requirements_are_pinned_once_each():
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    pins = [line for line in lines if line]
    names = [re.split(r"==", pin)[0].lower() for pin in pins]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.]*", pin) for pin in pins), pins
    assert len(names) == len(set(names))
    for needed in ("numpy", "tqdm", "pytest", "pyyaml", "joblib", "dask[distributed]"):
        assert needed in names


def test_ci_runs_the_readmes_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 run.py test" in readme
    assert [line for line in ci.splitlines() if line.startswith("python3")] == ["python3 run.py test"]


def test_the_book_is_kept_out_of_git():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "data/goblet_book.txt" in ignored
