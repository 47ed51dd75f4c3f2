"""The project's set-up files agree with each other."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def load_run_py():
    spec = importlib.util.spec_from_file_location("run", ROOT / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run = load_run_py()
OLDEST, NEWEST = (".".join(map(str, v)) for v in (run.PYTHONS[0], run.PYTHONS[-1]))


def test_environment_yml_installs_requirements_txt_and_the_project_on_a_supported_python():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    after = f"{run.PYTHONS[-1][0]}.{run.PYTHONS[-1][1] + 1}"
    assert "conda-forge" in env["channels"] and f"python>={OLDEST},<{after}" in deps and "pip" in deps
    pip_lists = [d["pip"] for d in deps if isinstance(d, dict)]
    assert pip_lists == [["-r requirements.txt", "-e ."]]


def test_pyproject_and_readme_name_the_pythons_run_py_supports():
    assert run.supported() == "3.11, 3.12 or 3.13"  # what the README's sentences below say
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == f">={OLDEST}"
    readme = (ROOT / "README.md").read_text()
    assert f"you need only Python {run.supported()}" in readme
    assert "The tests pass under Python 3.11, 3.12 and 3.13." in readme
    assert "3.10 or newer" not in readme


@pytest.mark.parametrize("version, refused", [((3, 10, 13), True), ((3, 9, 18), True), ((2, 7, 18), True),
                                              ((3, 11, 0), False), ((3, 13, 9), False), ((3, 14, 0), False)])
def test_run_py_refuses_exactly_the_pythons_older_than_those_supported(version, refused):
    assert (run.refusal(version) is not None) == refused


def test_an_older_python_gets_one_line_naming_the_fix_and_nothing_is_installed(tmp_path):
    for name in ("run.py", "requirements.txt", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    as_310 = ("import runpy, sys; sys.version_info = (3, 10, 13, 'final', 0); sys.argv = ['run.py', 'test']; "
              "runpy.run_path('run.py', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", as_310], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert "Python 3.10.13" in line and "3.11, 3.12 or 3.13" in line
    for way in ("deadsnakes", "pyenv", "uv", "conda (environment.yml)", "Which Python"):
        assert way in line
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pyproject.toml", "requirements.txt", "run.py"]


@pytest.mark.parametrize("version, note", [((3, 12, 1, "final", 0), False), ((3, 14, 0, "final", 0), True)])
def test_a_supported_or_newer_python_goes_on_to_make_the_venv_a_newer_one_with_a_note(version, note, monkeypatch,
                                                                                    capsys):
    made = []

    def venv_fails(command, **kwargs):  # stops ensure_venv at its first step, before any install
        made.append(command)
        return subprocess.CompletedProcess(command, 1)

    monkeypatch.setattr(sys, "version_info", version)
    monkeypatch.setattr(run.subprocess, "run", venv_fails)
    with pytest.raises(SystemExit, match="could not create the virtual environment"):
        run.ensure_venv(run.ROOT / ".venvs" / "made-by-a-test")
    assert made == [[sys.executable, "-m", "venv", "--clear", str(run.ROOT / ".venvs" / "made-by-a-test")]]
    assert ("Python 3.14 is newer than those tested (3.11, 3.12 or 3.13); going on" in capsys.readouterr().out) == note


def test_test_pythons_says_which_pythons_it_did_not_find_and_fails(tmp_path):
    shutil.copy(ROOT / "run.py", tmp_path / "run.py")
    done = subprocess.run([sys.executable, "run.py", "test-pythons", "no-such-python3.12"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1] == "  no-such-python3.12: not found"
    assert not (tmp_path / ".venvs").exists()


def test_rnnlib_runs_and_cluster_are_installed_so_they_import_from_any_folder(tmp_path):
    # pytest's pythonpath leaves this folder out, so only the install can find them (as worker processes must)
    modules = ("rnnlib", "runs", "cluster")
    found = subprocess.run([sys.executable, "-c", "; ".join(f"import {m}; print({m}.__file__)" for m in modules)],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.split()
    assert [Path(f) for f in found] == [ROOT / f"{m}.py" for m in modules]


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


def test_a_clone_copied_with_its_venv_makes_the_venv_again_and_trains_in_its_own_folder(tmp_path):
    """A clone copied (or moved) with its .venv: the venv's scripts and the editable install of rnnlib keep the
    first folder's absolute path, so the copy would train with the first folder's rnnlib, into its results/.
    run.py notices, says so in one line, and makes the venv again.  A real venv, with only what train needs."""
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "scripts").mkdir(parents=True)
    for name in ("run.py", "pyproject.toml", "scripts/train.py", "scripts/cli_common.py"):
        shutil.copy(ROOT / name, first / name)
    installed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]  # what pip installs
    for module in installed["py-modules"]:
        shutil.copy(ROOT / f"{module}.py", first / f"{module}.py")
    for package in installed.get("packages", []):
        shutil.copytree(ROOT / package, first / package, ignore=shutil.ignore_patterns("__pycache__"))
    needed = [line for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line.startswith(("numpy==", "tqdm=="))]
    (first / "requirements.txt").write_text("\n".join(needed) + "\n")
    (first / "text.txt").write_text("the cat sat on the mat, and the dog sat on the log.\n" * 20)
    env = {name: value for name, value in os.environ.items() if name not in ("RNN_RESULTS", "RNN_CORPUS")}

    def train(folder, *more):
        return subprocess.run([sys.executable, "run.py", "train", "text.txt", "--updates", "20", "--m", "8",
                               "--sample-every", "0", *more], cwd=folder, env=env, capture_output=True, text=True,
                              timeout=900)

    done = train(first)
    assert done.returncode == 0 and (first / "results" / "text.npz").is_file(), done.stdout + done.stderr
    shutil.copytree(first, second, symlinks=True)
    shutil.rmtree(second / "results")  # the copy's own: a train into first's would find text.npz there

    done = train(second)
    assert done.returncode == 0, done.stdout + done.stderr
    said = [line for line in done.stdout.splitlines() if line.startswith("run.py: ")]
    assert said[0] == (f"run.py: .venv/ was made for {first / '.venv'}, and its scripts and its install of rnnlib "
                       f"point there (this folder was moved or copied): making it again here with {sys.executable} ...")
    assert (second / "results" / "text.npz").is_file()
    python = second / ".venv" / "bin" / "python"
    found = subprocess.run([str(python), "-c", "import rnnlib; print(rnnlib.__file__, rnnlib.RESULTS_DIR)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert found == [str(second / "rnnlib.py"), str(second / "results")]
    scripts = [path for path in (second / ".venv" / "bin").iterdir() if path.is_file() and not path.is_symlink()]
    assert not [path.name for path in scripts if str(first) in path.read_bytes().decode("utf-8", "replace")]

    done = train(second, "--force")  # the next command: nothing to say, nothing to install
    assert done.returncode == 0 and not [line for line in done.stdout.splitlines() if line.startswith("run.py")]


# What the README states as measured on a machine: a time, a speed-up, a size, a loss that training printed.
MEASURED = re.compile(r"\b\d+(?:\.\d+)? ?(?:s|µs|MB)\b|\d+½? minutes?\b|\b\d+-(?:second|minute)\b|\d×"
                      r"|\b\d+ times (?:one|the)\b|Best smooth loss: \d|held-out bpc")


def readme_blocks(readme: str):
    """The README's paragraphs and list items, each a code block joined to the prose before it (whose words
    introduce what the block shows)."""
    blocks, prose = [], []
    for part in re.split(r"(```.*?```)", readme, flags=re.S):
        if part.startswith("```"):
            prose[-1:] = [(prose[-1] if prose else "") + "\n" + part]
            continue
        blocks += prose
        prose = [item for paragraph in re.split(r"\n\s*\n", part)
                 for item in re.split(r"\n(?=- )", paragraph) if item.strip()]
    return blocks + prose


def test_every_measurement_the_readme_states_says_it_is_one_machines():
    readme = (ROOT / "README.md").read_text()
    numbers = readme.split("### Numbers in this README", 1)[1].split("\n#", 1)[0]
    assert "measured on one machine" in numbers and "another machine's will differ" in numbers
    unsaid = [block for block in readme_blocks(readme) if MEASURED.search(block.split("```")[0] + "".join(
        re.findall(r"```\n(?:Best|  m ).*?```", block, flags=re.S))) and "(#numbers-in-this-readme)" not in block
              and block not in numbers]
    assert unsaid == []


def test_the_readmes_sweep_example_concludes_nothing_from_one_seed_on_one_machine():
    readme = (ROOT / "README.md").read_text()
    after = readme.split("To train it on the whole text: python3 run.py train /tmp/textwrap.txt", 1)[1]
    verdict = " ".join(after.split("```", 1)[1].strip().split("\n\n", 1)[0].split())
    assert "That is one machine's table" in verdict and "seeds 0, 1 and 2" in verdict
    assert "held on both machines and for all three seeds" in verdict and "--seeds 0,1,2" in verdict
