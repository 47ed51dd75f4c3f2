"""Execute the report's notebooks, each in a fresh kernel, in place, saved in their static form;
those that do not read each other's results side by side.

Notebook 2 (TRAINS) trains the main run and the seed runs that notebooks 3 to 6 read from the
results folder, and the last (Conclusions, READS_ALL) prints every other notebook's findings: so
notebooks 1, 2 and 7 (which read no other notebook's results) run side by side, then 3 to 6, then 8
(stages).  A stage of several notebooks runs each in a process of its own (`python3 execute_notebooks.py
NOTEBOOK`), the cores shared between their kernels and their runs' workers.  Ctrl-C reaches every
one of them, as the stop button would: each training saves its last update.
"""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

TRAINS, READS_ALL = "2_training.ipynb", "8_conclusions.ipynb"
READS_NONE = ("1_gradient_check.ipynb", "7_how_good.ipynb")  # read no other notebook's results
YIELDING = 10  # the niceness READS_NONE run at beside TRAINS
STOPPED = 130  # the exit status of a stopped notebook, as a shell gives a process Ctrl-C stopped


class Stopped(Exception):
    """A notebook was stopped (Ctrl-C, or its training interrupted): the report is not written."""


def stages(paths: list) -> list[list]:
    """The notebooks in groups that run one after the other, each group's side by side: TRAINS and
    those that read nothing (READS_NONE), so that they fill the core its main run leaves; the
    others but READS_ALL; READS_ALL.  Empty groups are left out."""
    first = [path for path in paths if path.name in (TRAINS, *READS_NONE)]
    last = [path for path in paths if path.name == READS_ALL]
    middle = [path for path in paths if path not in first and path not in last]
    return [group for group in (first, middle, last) if group]


def execute(path: Path) -> None:
    """Run every cell of the notebook in a fresh kernel, from the notebook's folder, and save it
    with its outputs (no timings)."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as sockets:  # IPC sockets: the kernel's traffic stays off TCP
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "kernel"))
        previous = signal.getsignal(signal.SIGINT)
        ignored = previous is signal.SIG_IGN  # then it goes on ignoring Ctrl-C
        forward = None if ignored else forward_interrupts(km)

        def on_start(**kwargs):
            yield_as_this_process(km)
            if forward:
                forward(**kwargs)

        try:
            NotebookClient(nb, km=km, timeout=None, record_timing=False,
                           resources={"metadata": {"path": str(path.parent)}},
                           on_notebook_start=on_start).execute(cleanup_kc=True)
        finally:  # Ctrl-C means again what it meant before, not a stop for a kernel that has ended
            signal.signal(signal.SIGINT, previous)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # no timings in the committed notebooks
    nbformat.write(nb, path)


def yield_as_this_process(km: KernelManager) -> None:
    """Give the kernel's session this process's niceness: where Linux schedules each session as a group
    (autogroup), a process's own niceness counts only within its group, and the kernel (with its workers)
    has a session of its own."""
    if os.name != "nt" and os.nice(0) > 0:
        with contextlib.suppress(OSError):  # no such file without autogroup
            Path(f"/proc/{km.provisioner.pid}/autogroup").write_text(str(os.nice(0)))


def forward_interrupts(km: KernelManager):
    """A hook for NotebookClient's on_notebook_start: from then on, Ctrl-C goes to the kernel as a
    notebook's stop button does (the kernel has a session of its own, which the terminal's Ctrl-C
    does not reach, and nbclient's own handler would shut it down mid-cell): training finishes its
    update and saves, and the cell fails, which ends the execution.  A second Ctrl-C stops this
    process at once."""
    def handler(signum, frame):
        signal.signal(signal.SIGINT, signal.default_int_handler)
        print("\nStopping the notebook's current cell (press Ctrl-C again to stop at once) ...", flush=True)
        # The signal itself, as jupyter_client's interrupt sends it, without its asyncio calls, which
        # cannot run inside nbclient's event loop, interrupted here.
        os.kill(km.provisioner.pid, signal.SIGINT)

    def install(**_):
        asyncio.get_event_loop().remove_signal_handler(signal.SIGINT)  # nbclient's, which shuts the kernel down
        signal.signal(signal.SIGINT, handler)

    return install


def execute_reporting(path: Path) -> None:
    """execute(path), saying when it starts and how long it took; Stopped if it was stopped."""
    t0 = time.perf_counter()
    print(f"executing notebooks/{path.name} ...", flush=True)
    try:
        execute(path)
    except CellExecutionError as err:
        if err.ename not in ("TrainingStopped", "KeyboardInterrupt"):
            raise
        print(f"Stopped in notebooks/{path.name}, which is left as it was: {err.evalue}", file=sys.stderr)
        raise Stopped(path.name) from None
    print(f"  notebooks/{path.name} done in {time.perf_counter() - t0:.0f} s", flush=True)


def execute_all(paths: list, finish) -> list:
    """Execute every notebook of paths, stage by stage (stages), and after each stage
    finish(path) -> notebook for each of its notebooks (the report saves them in their static
    form); returns what finish returned, in the order of paths.  Stopped if one was stopped (the
    stages before it are finished); a notebook that failed otherwise raises (or, run side by side,
    RuntimeError naming it, its error above)."""
    finished = {}
    for group in stages(paths):
        if len(group) == 1:
            execute_reporting(group[0])
        else:
            execute_side_by_side(group)
        finished.update((path, finish(path)) for path in group)
    return [finished[path] for path in paths]


def yielding() -> None:
    """In a child before it runs (not on Windows, which has no preexec_fn): a lower priority."""
    os.nice(YIELDING)


def execute_side_by_side(group: list) -> None:
    """The notebooks of group at once, each in a process of its own; Stopped if one was stopped,
    RuntimeError naming those that failed otherwise (their errors printed above)."""
    # one BLAS thread per kernel: the notebooks share the cores, and OpenBLAS's threads, waiting for
    # a core that another notebook holds, would spin rather than compute
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    # Those that read nothing yield the cores to the others (nice, inherited by their kernels and workers):
    # notebook 2's main run, the stage's longest serial work, keeps a core, and they use what it leaves
    children = {path: subprocess.Popen([sys.executable, __file__, str(path)], env=env,
                                       preexec_fn=yielding if path.name in READS_NONE and os.name != "nt" else None)
                for path in group}
    # Ctrl-C reaches the children, which pass it on to their kernels and end when those stop: wait for them
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        codes = {path: child.wait() for path, child in children.items()}
    finally:
        signal.signal(signal.SIGINT, previous)
    if any(code == STOPPED for code in codes.values()):
        raise Stopped(", ".join(path.name for path, code in codes.items() if code == STOPPED))
    failed = [path.name for path, code in codes.items() if code]
    if failed:
        raise RuntimeError(f"notebooks/{', '.join(failed)} failed: the error is printed above")


if __name__ == "__main__":
    try:
        execute_reporting(Path(sys.argv[1]))
    except Stopped:
        sys.exit(STOPPED)
