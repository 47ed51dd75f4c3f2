"""Executing the report's notebooks (scripts/execute_notebooks.py): 1, 2 and 7 side by side, then 3
to 6, then 8, each stage's notebooks truly at once, each finished after its stage."""

import os
import re
import signal
from pathlib import Path

import nbformat
import pytest

import execute_notebooks

# Each notebook of a stage says it started, then waits for the others of its stage: it ends only if
# they run at the same time (a stage run one after another would wait out the 60 s and fail).
HANDSHAKE = """\
import os, pathlib, time
here, others = pathlib.Path({name!r}), {others!r}
group = pathlib.Path("/proc/self/autogroup")  # the kernel's session, where Linux schedules sessions as groups
pathlib.Path(here.stem + ".nice").write_text(group.read_text().split()[-1] if group.exists() else str(os.nice(0)))
pathlib.Path(here.stem + ".started").touch()
deadline = time.monotonic() + 60
while not all(pathlib.Path(other + ".started").exists() for other in others):
    assert time.monotonic() < deadline, "the others of this stage did not start"
    time.sleep(0.05)
print("together with", ", ".join(others) or "none")
"""


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), path)
    return path


def test_the_stages_run_what_notebook_2_trains_before_its_readers_and_the_conclusions_last():
    names = ["1_gradient_check", "2_training", "3_synthesis", "4_gradients", "5_units", "6_beyond", "7_how_good",
             "8_conclusions"]
    paths = [Path(f"{name}.ipynb") for name in names]
    assert [[p.stem for p in group] for group in execute_notebooks.stages(paths)] == [
        [*names[:2], names[6]], names[2:6], names[7:]]  # 1 and 7 read nothing: beside 2, on the core it leaves
    assert execute_notebooks.stages(paths[:2]) == [paths[:2]]
    assert execute_notebooks.stages([paths[1]]) == [[paths[1]]]
    assert execute_notebooks.stages([paths[2], paths[7]]) == [[paths[2]], [paths[7]]]  # no training: no first stage


def test_a_stages_notebooks_run_at_once_and_each_is_finished_after_its_stage(tmp_path):
    stages = [["1_gradient_check", "2_training", "7_how_good"], ["3_b", "4_c"], ["8_conclusions"]]
    paths = sorted(write(tmp_path, f"{name}.ipynb", HANDSHAKE.format(name=f"{name}.ipynb",
                                                                      others=[o for o in stage if o != name]))
                   for stage in stages for name in stage)
    finished = []

    def finish(path):  # what the report does after each stage: here, note which were done by then
        finished.append((path.name, sorted(p.name for p in tmp_path.glob("*.started"))))
        return nbformat.read(path, as_version=4)

    notebooks = execute_notebooks.execute_all(paths, finish)
    assert [nb.cells[0].outputs[0]["text"] for nb in notebooks] == [  # in the order of the paths
        "together with 2_training, 7_how_good\n", "together with 1_gradient_check, 7_how_good\n",
        "together with 4_c\n", "together with 3_b\n", "together with 1_gradient_check, 2_training\n",
        "together with none\n"]
    assert [name for name, _ in finished] == [f"{name}.ipynb" for stage in stages for name in stage]
    assert finished[2][1] == ["1_gradient_check.started", "2_training.started", "7_how_good.started"]  # before 3
    # those that read nothing yield the cores to notebook 2's main run, and to nothing else
    nice = {path.stem: int(path.read_text()) for path in tmp_path.glob("*.nice")}
    ours = os.nice(0)
    assert nice == {"1_gradient_check": min(19, ours + execute_notebooks.YIELDING), "2_training": ours,
                    "7_how_good": min(19, ours + execute_notebooks.YIELDING), "3_b": ours, "4_c": ours,
                    "8_conclusions": ours}


def test_a_notebook_that_fails_beside_others_is_named_and_the_next_stage_does_not_run(tmp_path, capfd):
    paths = [write(tmp_path, "2_training.ipynb", "print('trained')"),
             write(tmp_path, "3_b.ipynb", "raise ValueError('a planted fault')"),
             write(tmp_path, "4_c.ipynb", "print('fine')"),
             write(tmp_path, "8_conclusions.ipynb", "open('conclusions.ran', 'w')")]
    with pytest.raises(RuntimeError, match=r"notebooks/3_b.ipynb failed: the error is printed above"):
        execute_notebooks.execute_all(paths, lambda path: None)
    assert "ValueError: a planted fault" in re.sub(r"\x1b\[[0-9;]*m", "", capfd.readouterr().err)  # colours out
    assert nbformat.read(paths[2], as_version=4).cells[0].outputs[0]["text"] == "fine\n"
    assert not (tmp_path / "conclusions.ran").exists()


def test_after_a_notebook_ctrl_c_means_what_it_meant_before(tmp_path):
    """The stop that execute installs for its kernel goes with it: a Ctrl-C afterwards (while the report
    is written) is this process's own again, not a signal for a kernel that has ended."""
    before = signal.getsignal(signal.SIGINT)
    execute_notebooks.execute(write(tmp_path, "1_a.ipynb", "print('ran')"))
    assert signal.getsignal(signal.SIGINT) is before
