"""Execute the notebooks in place (execute_notebooks: side by side where one does not read
another's results) and write them as one static report: HTML and PDF.

Run it with `python3 run.py report` (`--no-execute`: only rebuild both from the saved notebooks).
The notebooks run on the corpus rnnlib.load_corpus() finds (data/goblet_book.txt when present,
else the offline default) and are saved with their new outputs.  build/report.html needs nothing
outside itself: its equations are MathML, made here; the widgets, which need a kernel, give way to
their static forms.  build/report.pdf is that page printed by Debian's Chromium.
"""

import argparse
import copy
import datetime
import html
import re
import shutil
import sys
import time
from pathlib import Path

import jinja2
import nbformat
from latex2mathml.converter import convert as latex_to_mathml
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

import execute_notebooks
from cli_common import READER_GONE, silence_stdout

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
REPORT = ROOT / "build" / "report.html"
TEMPLATE = Path(__file__).resolve().parent / "report.html.j2"
TITLE = "char-rnn-report"
SUBTITLE = "A vanilla character-level RNN in NumPy: KTH DD2424, Assignment 4"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def notebook_paths() -> list[Path]:
    """The report's notebooks in their order (1_gradient_check.ipynb, 2_training.ipynb, ...); an
    error if there are none, so that neither the report nor a check over them is empty."""
    paths = sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no notebook (such as 1_gradient_check.ipynb) in {NOTEBOOKS}")
    return paths


def save_static(path: Path) -> nbformat.NotebookNode:
    """Save the executed notebook at path in its static form (static_copy), which reads the same
    without a kernel: in GitHub's viewer, in an editor without widgets, in nbconvert; returns it."""
    nb = static_copy(nbformat.read(path, as_version=4))
    nbformat.write(nb, path)
    return nb


def execute(path: Path) -> nbformat.NotebookNode:
    """One notebook executed (execute_notebooks.execute) and saved in its static form."""
    execute_notebooks.execute(path)
    return save_static(path)


# The static report --------------------------------------------------------------------------------

def widget_text(model_id: str, state: dict) -> str | None:
    """The text a saved widget shows, for a box of HTML, Label and progress widgets (tqdm's
    progress bar), as tqdm writes it in a terminal; None for any other widget."""
    model = state.get(model_id)
    if model is None:
        return None
    name, values = model["model_name"], model["state"]
    if name in ("HTMLModel", "LabelModel"):
        # tqdm escapes its text for the HTML widget, with figure spaces to keep its width in any font
        return html.unescape(values["value"]).replace("\u2007", " ")
    if name in ("FloatProgressModel", "IntProgressModel"):
        filled = round(10 * values["value"] / values["max"]) if values["max"] else 0
        return "|" + "█" * filled + " " * (10 - filled) + "|"
    if name in ("HBoxModel", "VBoxModel", "BoxModel"):
        parts = [widget_text(child.removeprefix("IPY_MODEL_"), state) for child in values["children"]]
        return None if None in parts else "".join(parts)
    return None


# tqdm's line for a finished bar: "desc: 100%|██████████| 177204/177204 [02:20<00:00, 1701.40update/s, k=v]"
FINISHED_BAR = re.compile(r"(?:(?P<desc>.*): )?100%\|█+\| (?P<n>\d+)/(?P=n) \[(?P<elapsed>[\d:]+)<[^,\]]*"
                          r"(?:, *(?:[\d.?]+(?P<unit>[^,\]]+)/s|[\d.?]+s/(?P<per>[^,\]]+)))?"
                          r"(?:, (?P<postfix>[^\]]*))?\]")


def finished_bar(text: str) -> str | None:
    """tqdm's line for a finished progress bar in one plain line: "100%|██████████| 177204/177204
    [02:20<00:00, 1701.40update/s, smooth_loss=45.20]" becomes "177,204 updates in 2 min 20 s;
    smooth loss 45.20" (its description, if any, before it).  None for any other text."""
    found = FINISHED_BAR.fullmatch(text.strip())
    if found is None:
        return None
    n, unit = int(found["n"]), found["unit"] or found["per"] or "step"
    *_, hours, minutes, seconds = [0, 0, *map(int, found["elapsed"].split(":"))]
    took = (f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {seconds:02d} s" if minutes
            else f"{seconds} s" if seconds else "under a second")
    line = f"{n:,} {unit}{'' if n == 1 else 's'} in {took}"
    if found["postfix"]:
        line += "; " + ", ".join(part.replace("_", " ").replace("=", " ") for part in found["postfix"].split(", "))
    return f"{found['desc']}: {line}" if found["desc"] else line


def static_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the notebook with no widget state and every widget output in its static form: the
    output's own HTML form where it has one (the temperature slider's), else the text its saved
    state shows (a finished progress bar in one line, finished_bar; never its "0%" at the start),
    else nothing.  A finished bar already saved as text takes its one line too."""
    nb = copy.deepcopy(nb)
    state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            view = output.get("data", {}).pop(WIDGET_VIEW, None)
            if view is not None and "text/html" not in output.data:
                text = widget_text(view["model_id"], state)
                if text is None:
                    continue
                output.data = {"text/plain": text}
            if set(output.get("data", {})) == {"text/plain"}:
                output.data["text/plain"] = finished_bar(output.data["text/plain"]) or output.data["text/plain"]
            kept.append(output)
        cell.outputs = kept
    return nb


def corpus_shown(notebooks) -> str:
    """What the notebooks say they ran on: the first output `Corpus(...)` (rnnlib's repr)."""
    for cell in (cell for nb in notebooks for cell in nb.cells if cell.cell_type == "code"):
        for output in cell.outputs:
            found = re.fullmatch(r"Corpus\((.*)\)", output.get("data", {}).get("text/plain", ""))
            if found:
                return found.group(1)
    return "a text the notebooks do not name"


def link_within(cells) -> None:
    """Links from one notebook to another ("2_training.ipynb") lead to that notebook's first
    heading ("# 2 · Training") within the one page, which has no notebook files beside it; the
    navigation's link to the README, a file beside the notebooks, goes, since the page is shared
    without it, and so does a link to a notebook the page does not hold (its text stays)."""
    held = {found for cell in cells if cell.cell_type == "markdown"
            for found in re.findall(r"^#\s+(\d+) ·", cell.source, flags=re.MULTILINE)}
    for cell in (cell for cell in cells if cell.cell_type == "markdown"):
        number = re.match(r"#\s+(\d+) ·", cell.source)
        if number:
            cell.source = f'<a id="notebook-{number.group(1)}"></a>\n\n{cell.source}'
        cell.source = re.sub(r"\[[^\]]*\]\(\.\./README\.md\)\s*·\s*", "", cell.source)
        cell.source = re.sub(r"\[([^\]]*)\]\((\d+)_[\w-]+\.ipynb\)",
                             lambda m: f"[{m[1]}](#notebook-{m[2]})" if m[2] in held else m[1], cell.source)


def number_parts(cells) -> None:
    """A notebook's numbered parts ("## 1 · How far back the gradient reaches") take their chapter's
    number in front ("## 4.1 · ..."), so that in the one page no part reads as a chapter."""
    chapter = None
    for cell in (cell for cell in cells if cell.cell_type == "markdown"):
        number = re.search(r"^#\s+(\d+) ·", cell.source, flags=re.MULTILINE)  # after link_within's anchor
        chapter = number.group(1) if number else chapter
        if chapter is not None:
            cell.source = re.sub(r"^(##\s+)(\d+) · ", rf"\g<1>{chapter}.\2 · ", cell.source, flags=re.MULTILINE)


def unique_ids(page: str) -> str:
    """The page with every id that occurs more than once (each notebook's "Summary") made one of a
    kind by its chapter's number ("Summary" in notebook 4: "4-Summary"), and the heading's own link
    to it (nbconvert's ¶) with it.  The chapter is the last notebook start (link_within's anchor)."""
    ids = re.findall(r'\sid="([^"]*)"', page)
    repeated = {name for name in ids if ids.count(name) > 1}
    chapter, renamed = "0", {}

    def rename(found: re.Match) -> str:
        nonlocal chapter
        if found["notebook"]:
            chapter = found["notebook"]
        if found["id"] in repeated:
            renamed[found["id"]] = f"{chapter}-{found['id']}"
            return f' id="{renamed[found["id"]]}"'
        if found["href"] in renamed:  # the heading's anchor link, after its id
            return f' href="#{renamed[found["href"]]}"'
        return found[0]

    return re.sub(r'\sid="(?:notebook-(?P<notebook>\d+)|(?P<id>[^"]*))"|\shref="#(?P<href>[^"]*)"', rename, page)


def abstract_cell(notebooks) -> nbformat.NotebookNode | None:
    """The report's abstract: what the cell tagged "abstract" (notebook 8's conclusions, every
    Summary's findings) printed, as a list under a heading; None if no notebook has that output."""
    for cell in (cell for nb in notebooks for cell in nb.cells if cell.cell_type == "code"):
        if "abstract" in cell.metadata.get("tags", []):
            text = "".join(output.get("text", "") for output in cell.outputs if output.get("output_type") == "stream")
            if not text.strip():
                return None
            items = []
            for line in text.strip().splitlines():
                if line.startswith("- "):
                    items.append(f"<li>{html.escape(line[2:])}</li>")
                else:  # a notebook's title, or a note on what is missing
                    items.append(f'<li class="abstract-head"><b>{html.escape(line)}</b></li>')
            abstract = nbformat.v4.new_markdown_cell(
                '<section class="abstract" id="abstract">\n<h2>Abstract</h2>\n<ul>\n' + "\n".join(items)
                + "\n</ul>\n</section>")
            abstract.metadata["tags"] = ["report-abstract"]
            return abstract
    return None


def combine(notebooks, date: datetime.date) -> nbformat.NotebookNode:
    """One notebook: a title cell (title, date, corpus), the abstract (abstract_cell) if there is
    one, then every cell of the given notebooks in order, with their widget outputs in static form,
    their links to each other within it and their parts numbered within their chapters."""
    static = [static_copy(nb) for nb in notebooks]  # each one's widget views name models in its own state
    report = static[0]
    report.cells = [cell for nb in static for cell in nb.cells]
    link_within(report.cells)
    number_parts(report.cells)
    title = nbformat.v4.new_markdown_cell(
        f"# {TITLE}\n\n{SUBTITLE}.\n\nBuilt on {date.day} {date:%B %Y} from notebooks run on "
        f"{html.escape(corpus_shown(notebooks))}.")
    title.metadata["tags"] = ["report-title"]
    report.cells.insert(0, title)
    abstract = abstract_cell(notebooks)
    if abstract is not None:
        report.cells.insert(1, abstract)
    report.metadata["title"] = TITLE
    return report


def tex_to_mathml(tex: str, display: bool) -> str:
    """The formula as MathML, with TeX's spacing where latex2mathml's differs.  A displayed
    formula that is a row of equations apart by \\quad or \\qquad becomes one <math> each, in a
    <span class="equations">, so that on a narrow page they wrap instead of running off it."""
    if display:
        parts = [part for part in top_level_split(tex, r"\\q?quad(?![A-Za-z])") if part.strip()]
        return '<span class="equations">' + "".join(_mathml(part, "block") for part in parts) + "</span>"
    return _mathml(tex, "inline")


def top_level_split(tex: str, separator: str) -> list[str]:
    """tex cut at each match of the separator pattern that is outside all braces."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(tex):
        found = re.match(separator, tex[i:]) if depth == 0 else None
        if found:
            parts.append(tex[start:i])
            i = start = i + found.end()
            continue
        if tex[i] == "\\":
            i += 2  # an escaped character, \\{ or \\}, is no brace
            continue
        depth += {"{": 1, "}": -1}.get(tex[i], 0)
        i += 1
    return parts + [tex[start:]]


def _mathml(tex: str, display: str) -> str:
    mathml = latex_to_mathml(tex, display=display)
    unknown = re.findall(r"<mi>(\\[A-Za-z]+)</mi>", mathml)
    if unknown:
        raise ValueError(f"latex2mathml does not know {', '.join(unknown)}, in ${tex}$")
    # /, | and ∂ are ordinary symbols in TeX, with no space around them; MathML spaces them as operators.
    mathml = re.sub(r"<mo( stretchy=\"false\")?>(&#x0002F;|&#x0007C;|&#x02202;)</mo>",
                    r'<mo lspace="0" rspace="0"\1>\2</mo>', mathml)
    # TeX sets a thin space between an operator name and its argument (tanh a, log p) unless a parenthesis follows.
    return re.sub(r"(<mi>[a-z]{2,}</mi>)(?!<mo stretchy=\"false\">&#x00028;)", r'\1<mspace width="0.167em" />', mathml)


class MathMLRenderer(IPythonRenderer):
    """Jupyter's Markdown, with each formula written as MathML instead of left for MathJax."""

    def block_math(self, body: str) -> str:
        return tex_to_mathml(body, display=True)

    def inline_math(self, body: str) -> str:
        return tex_to_mathml(body, display=False)

    def latex_environment(self, name: str, body: str) -> str:
        return tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)


class StaticHTMLExporter(HTMLExporter):
    """JupyterLab's HTML, self-contained: scripts/report.html.j2, and MathML for the equations."""

    def __init__(self, **kwargs):
        super().__init__(template_file=str(TEMPLATE), **kwargs)

    @jinja2.pass_context
    def markdown2html(self, context, source):  # HTMLExporter's, with MathMLRenderer
        cell = context.get("cell", {})
        renderer = MathMLRenderer(escape=False, attachments=cell.get("attachments", {}),
                                  anchor_link_text=self.anchor_link_text,
                                  exclude_anchor_links=self.exclude_anchor_links, **self.lexer_options)
        return MarkdownWithMath(renderer=renderer).render(source)


def hanging_lines(code: str) -> str:
    """Highlighted code (the inside of a <pre>, flat <span>s as Pygments writes them) with each
    line in a block of its own that knows its indentation, so that a line too long for the
    printed page wraps under its own start, indented further (report.html.j2's .code-line).  Each
    block ends with its line's newline, which keeps an empty line's height and makes the code
    copied from the page the code itself."""
    lines, open_tag = [], ""
    for line in code.removesuffix("\n").split("\n"):
        reopened = open_tag  # a token that spans lines (a docstring) goes on in this one
        for tag in re.findall(r"<span[^>]*>|</span>", line):
            open_tag = "" if tag == "</span>" else tag
        text = html.unescape(re.sub(r"<[^>]*>", "", line))
        indent = len(text) - len(text.lstrip(" "))
        lines.append(f'<span class="code-line" style="--indent: {indent}ch">{reopened}{line}\n'
                     f'{"</span>" if open_tag else ""}</span>')
    return "".join(lines)


def hang_code(page: str) -> str:
    """Every code cell's source and every shown source (helpers_1_gradient_check.show_source) in hanging lines."""
    return re.sub(r'(<div class="highlight[^"]*"><pre>|<pre class="source"[^>]*>)(.*?)(</pre>)',
                  lambda m: m.group(1) + hanging_lines(m.group(2)) + m.group(3), page, flags=re.DOTALL)


def write_html(notebooks, path: Path) -> None:
    body, _ = StaticHTMLExporter().from_notebook_node(combine(notebooks, datetime.date.today()))
    body = unique_ids(hang_code(body))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")


# The PDF, printed by Debian's Chromium (which the browser tests use too) ---------------------------

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
INSTALL_CHROMIUM = "sudo apt-get install chromium"


def chromium_executable() -> str | None:
    """Debian's Chromium (the chromium package), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def write_pdf(html_path: Path, pdf_path: Path) -> bool:
    """Print the page to an A4 PDF with Chromium, through Playwright, page numbers at the foot,
    tagged and with an outline of its headings (bookmarks).
    Without Chromium, say how to get it, in one line, and return False."""
    executable = chromium_executable()
    if executable is None:
        print(f"{pdf_path.name} not written: it is printed by Chromium, which is not installed "
              f"(`{INSTALL_CHROMIUM}`, then `python3 run.py report --no-execute`)")
        return False
    from playwright.sync_api import sync_playwright

    footer = ('<div style="font-size: 8px; width: 100%; text-align: center; color: #666">'
              f'{TITLE} · <span class="pageNumber"></span> / <span class="totalPages"></span></div>')
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            # The page needs nothing from outside; should that ever change, print it now rather than wait.
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                       else route.abort())
            page.goto(html_path.resolve().as_uri(), wait_until="load")
            # tagged: a structure (headings, paragraphs, tables, figures with their alt text) that screen
            # readers follow; outline: bookmarks from the headings, chapter by chapter.
            page.pdf(path=str(pdf_path), format="A4", print_background=True, prefer_css_page_size=True,
                     display_header_footer=True, header_template="<span></span>", footer_template=footer,
                     tagged=True, outline=True)
        finally:
            browser.close()
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-execute", action="store_true",
                        help="only write the HTML and the PDF from the saved notebooks")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        paths = notebook_paths()
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 1
    if args.no_execute:
        notebooks = [nbformat.read(path, as_version=4) for path in paths]
    else:
        try:
            notebooks = execute_notebooks.execute_all(paths, save_static)
        except execute_notebooks.Stopped:
            return execute_notebooks.STOPPED
    write_html(notebooks, REPORT)
    print(f"report: {REPORT}", flush=True)
    t0 = time.perf_counter()
    pdf = REPORT.with_suffix(".pdf")
    if write_pdf(REPORT, pdf):
        print(f"report: {pdf}  (printed in {time.perf_counter() - t0:.0f} s)")
    print(f"{time.perf_counter() - start:.0f} s in all")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # stdout's reader went away (`| head`): stop quietly, as the terminal's commands do
        silence_stdout()
        sys.exit(READER_GONE)
