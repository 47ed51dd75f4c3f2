"""Execute the notebooks in order, in place, and write them as one static HTML report.

Run it with `python3 run.py report`.  The notebooks run on the corpus rnnlib.load_corpus()
finds (data/goblet_book.txt when present, else the offline default) and are saved with their
new outputs; the report goes to build/report.html.
"""

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
from nbclient import NotebookClient
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
REPORT = ROOT / "build" / "report.html"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def notebook_paths():
    return sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))


def execute(path: Path) -> nbformat.NotebookNode:
    """Run every cell of the notebook in a fresh kernel, from the notebook's folder, and save it."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as sockets:  # IPC sockets: the kernel's traffic stays off TCP
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "kernel"))
        NotebookClient(nb, km=km, timeout=None, record_timing=False,
                       resources={"metadata": {"path": str(path.parent)}}).execute(cleanup_kc=True)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # no timings in the committed notebooks
    nbformat.write(nb, path)
    return nb


def combine(notebooks) -> nbformat.NotebookNode:
    """One notebook holding every cell of the given ones in order, and all their widget state."""
    report = copy.deepcopy(notebooks[0])
    state = report.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for nb in notebooks[1:]:
        report.cells.extend(copy.deepcopy(nb.cells))
        state.update(nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {}))
    if state:
        report.metadata["widgets"] = {WIDGET_STATE: {"version_major": 2, "version_minor": 0, "state": state}}
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-execute", action="store_true", help="only write the HTML from the saved notebooks")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    notebooks = []
    for path in notebook_paths():
        if args.no_execute:
            notebooks.append(nbformat.read(path, as_version=4))
            continue
        t0 = time.perf_counter()
        print(f"executing notebooks/{path.name} ...", flush=True)
        notebooks.append(execute(path))
        print(f"  done in {time.perf_counter() - t0:.0f} s", flush=True)
    body, _ = HTMLExporter().from_notebook_node(combine(notebooks))
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(body, encoding="utf-8")
    print(f"report: {REPORT}  ({time.perf_counter() - start:.0f} s in all)")


if __name__ == "__main__":
    sys.exit(main())
