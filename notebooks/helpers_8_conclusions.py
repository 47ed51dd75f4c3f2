"""The conclusions of notebooks/8_conclusions.ipynb: every Summary's findings as its notebook
recorded them in the results folder (shared.record_findings), under the notebook's title, with
the scale they were measured at; the same lines make the report's abstract, which
scripts/build_report.py takes from this notebook's cell tagged ABSTRACT_TAG and puts at the top
of build/report.html.
"""

import json
import re
from pathlib import Path

import shared

ABSTRACT_TAG = "abstract"   # the tag (cell metadata) of the cell whose output is the report's abstract
FOLDER = Path(__file__).resolve().parent


def titles(folder: Path = FOLDER) -> dict:
    """{notebook name (e.g. "2_training"): its title ("2 · Training")}, from each notebook's first heading."""
    found = {}
    for path in sorted(folder.glob("[0-9]*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        heading = re.match(r"# (\d+ · [^\n]+)", "".join(cells[0]["source"])) if cells else None
        found[path.stem] = heading.group(1) if heading else path.stem
    return found


def conclusions(recorded: dict | None = None, names: dict | None = None, scales: dict | None = None) -> list:
    """Print every recorded Summary's lines under its notebook's title, in order, and which of the
    notebooks with a Summary to record (2 to 7) recorded none yet; returns the printed lines.
    recorded, names, scales: default the results folder's record, the titles, the record's scales."""
    recorded = shared.findings() if recorded is None else recorded
    names = titles() if names is None else names
    scales = shared.finding_scales() if scales is None else scales
    lines = []
    for notebook, found in recorded.items():
        scale = scales.get(notebook, shared.SCALE)
        lines.append(f"{names.get(notebook, notebook)}" + (f" (at scale {scale:g})" if scale != 1 else ""))
        lines += [f"- {line}" for line in found]
    missing = [names.get(n, n) for n in names if n[0] in "234567" and n not in recorded]
    if missing:
        lines.append(f"Not yet recorded (run these notebooks first): {', '.join(missing)}")  # a title may end in "?"
    print("\n".join(lines))
    return lines
