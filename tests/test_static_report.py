"""The static report, build/report.html and build/report.pdf: built here from the notebooks,
executed (in a copy) on a small text that holds markup, then opened in Chromium with the network
cut, printed, and read back."""

import datetime
import html as html_module
import os
import re
import shutil
import subprocess

import nbformat
import numpy as np
import pytest
from pypdf import PdfReader

import build_report
import helpers_3_synthesis as synthesis
import rnnlib
from browser import chromium_path, open_offline, open_page, wait_for_change

MARKUP = "\n<b>bold</b> & </script> &amp; <!-- a comment -->\n"
WIDGET_VIEW = build_report.WIDGET_VIEW


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The gradient-check and synthesis notebooks and their helper modules copied to a temporary folder,
    the synthesis notebook executed there on ~25,000 characters of Python's documentation with
    markup in them (it trains its model, four epochs in seconds), the gradient check as committed
    (executed on the book; nbval executes it), and the HTML report written from them: equations,
    tables, figures, progress bars and the slider, at a fraction of the whole report's cost.
    Returns (folder, notebooks, the report's path)."""
    folder = tmp_path_factory.mktemp("static-report")
    corpus_path = folder / "corpus.txt"
    corpus_path.write_text((rnnlib.python_docs_text()[:5_000] + MARKUP) * 5, encoding="utf-8")
    copies = folder / "notebooks"
    copies.mkdir()
    chosen = [path for path in build_report.notebook_paths() if path.name[0] in "13"]
    assert [path.name for path in chosen] == ["1_gradient_check.ipynb", "3_synthesis.ipynb"]
    modules = [*build_report.NOTEBOOKS.glob("helpers_*.py"), build_report.NOTEBOOKS / "shared.py"]
    for path in [*chosen, *modules]:
        shutil.copy(path, copies)
    with pytest.MonkeyPatch.context() as env:  # the kernels inherit these
        env.setenv("RNN_CORPUS", str(corpus_path))
        env.setenv("RNN_RESULTS", str(folder / "results"))
        notebooks = [nbformat.read(path, as_version=4) if path.name == chosen[0].name else build_report.execute(path)
                     for path in sorted(copies.glob("[0-9]*.ipynb"))]
    html = folder / "build" / "report.html"
    build_report.write_html(notebooks, html)
    return folder, notebooks, html


def test_the_report_works_offline_with_equations_and_a_static_slider(built, tmp_path):
    folder, _, html = built
    with open_offline(tmp_path, html) as (page, outside, errors):
        visible = page.locator("body").inner_text()
        assert "$$" not in visible and "\\frac" not in visible and "\\partial" not in visible
        assert page.locator("math").count() >= 10 and page.locator(".equations math").count() >= 5
        assert page.locator("script[src]").count() == 0

        slider = page.locator(".static-temperature-slider")
        assert slider.count() == 1
        readout, text = slider.locator("output"), slider.locator("pre .continuation")
        assert readout.inner_text() == "1.00"
        first = text.text_content()
        slider.locator("input").focus()
        for _ in range(4):
            page.keyboard.press("ArrowRight")  # one step is 0.05
        assert readout.inner_text() == "1.20"
        by_keyboard = wait_for_change(text.text_content, first)

        track = slider.locator("input").bounding_box()
        page.mouse.click(track["x"] + 0.05 * track["width"], track["y"] + track["height"] / 2)
        assert 0.1 <= float(readout.inner_text()) < 0.3
        wait_for_change(text.text_content, by_keyboard)

        # The same seed and prime as the fixed temperatures: at T = 0.5 the two texts agree.
        slider.locator("input").fill("0.5")
        sample = page.locator("div:has(> b:text-is('temperature 0.5')) + pre")
        prime = sample.locator("span[title='the prime']").text_content()
        fixed = sample.text_content().removeprefix(prime)
        assert readout.inner_text() == "0.50" and text.text_content() == fixed and len(fixed) == 300
    assert outside == [] and errors == []


def test_markup_in_generated_text_stays_text(markup, tmp_path):
    """The corpus's </script>, <b>, & and <!-- reach the page as characters."""
    static = synthesis.static_temperature_slider(*markup, length=100)
    page_file = tmp_path / "slider.html"
    page_file.write_text(f"<!DOCTYPE html><meta charset=utf-8><body>{static}</body>", encoding="utf-8")
    with open_page(tmp_path) as page:
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_file.as_uri())
        text = page.locator(".static-temperature-slider pre .continuation")
        for value in ("0.1", "0.5", "1"):
            page.locator(".static-temperature-slider input").fill(value)
            assert "</script><b>x & y</b><!--" in text.text_content()
        assert page.locator("b").count() == 0 and page.locator("body > *").count() == 1
        assert errors == []


def test_a_finished_progress_bar_reads_as_one_line(built):
    folder, _, html = built
    total = rnnlib.load_checkpoint(folder / "results" / "training.npz").total
    page = html.read_text(encoding="utf-8")
    assert re.search(rf"\b{total:,} updates in ((\d+ min )?\d+ s|under a second); smooth loss \d+\.\d\d", page)
    assert "entries, each reference: 2 references in " in page  # the gradient check's, with its description
    assert "|██" not in page and "0%|" not in page and "update/s" not in page


def test_every_figure_has_its_own_description(built):
    _, notebooks, html = built
    page = html.read_text(encoding="utf-8")
    alts = [html_module.unescape(alt) for alt in re.findall(r"<img alt=[\"']([^\"']*)[\"']", page)]
    figures = sum("image/png" in output.get("data", {}) for nb in notebooks for cell in nb.cells
                  if cell.cell_type == "code" for output in cell.outputs)
    assert figures == 2 and len(alts) == page.count("<img ") == figures  # notebook 1's error floor, 3's temperatures
    assert "No description has been provided" not in page
    assert all(len(alt) > 100 and re.search(r"\d\.\d", alt) for alt in alts), alts  # sentences, from values
    assert any("rounding scale" in alt for alt in alts) and any("temperature" in alt for alt in alts)


def test_no_invisible_characters_and_every_id_one_of_a_kind_with_links_that_land(built, tmp_path):
    _, notebooks, html = built
    text = html.read_text(encoding="utf-8")
    assert "\u200b" not in text and "&#8203;" not in text
    ids = re.findall(r"\sid=[\"']([^\"']*)[\"']", text)
    assert len(ids) == len(set(ids)) and {"1-Summary", "3-Summary"} <= set(ids)
    with open_offline(tmp_path, html) as (page, _, _):
        links = page.evaluate("""() => [...document.querySelectorAll('a[href^="#"]')].map(a => {
            const fragment = a.getAttribute('href').slice(1);  // as a browser looks: as written, then decoded
            const target = document.getElementById(fragment) || document.getElementById(decodeURIComponent(fragment));
            const heading = target && (target.matches('h1, h2, h3') ? target
                                                                     : target.closest('.jp-Cell').querySelector('h1'));
            return [a.textContent, a.getAttribute('href'), heading ? heading.textContent : null];
        })""")
        assert links and all(heading is not None for _, _, heading in links), links
        for text, href, heading in links:  # a link to a notebook lands on its title; a heading's ¶ on itself
            assert heading.removesuffix("¶") == text or text == "¶", (text, href, heading)
        # Copied from the page, every code cell is its source, empty lines and all.
        copied = page.evaluate("""() => [...document.querySelectorAll('.jp-CodeCell .highlight pre')].map(pre => {
            const range = document.createRange(); range.selectNodeContents(pre);
            getSelection().removeAllRanges(); getSelection().addRange(range); return getSelection().toString(); })""")
    sources = [cell.source for nb in notebooks for cell in nb.cells if cell.cell_type == "code"]
    assert any("\n\n" in source for source in sources)
    assert [text.removesuffix("\n") for text in copied] == sources


def test_on_paper_code_of_120_columns_fits_the_page_without_wrapping(built, tmp_path):
    _, _, html = built
    a4_text_width = round((210 - 2 * 14) / 25.4 * 96)  # the CSS pixels between @page's side margins
    with open_page(tmp_path, viewport={"width": a4_text_width, "height": 1000}) as page:
        page.emulate_media(media="print")
        page.goto(html.as_uri())
        wrapped = page.evaluate("""() => {
            for (const pre of document.querySelectorAll('.jp-CodeCell .highlight pre, pre.source')) {
                const line = document.createElement('span');  // the longest line ruff lets through
                line.className = 'code-line'; line.style.setProperty('--indent', '0ch');
                line.textContent = 'x = ' + 'y'.repeat(116) + '\\n'; pre.appendChild(line);
            }
            return [...document.querySelectorAll('.code-line')].filter(line => {
                const height = parseFloat(getComputedStyle(line.closest('pre')).lineHeight);
                return line.getBoundingClientRect().height > 1.5 * height;
            }).map(line => line.textContent);
        }""")
        sizes = page.evaluate("[...document.querySelectorAll('.highlight pre')].map(p => getComputedStyle(p).fontSize)")
    assert wrapped == [] and all(8 <= float(size.removesuffix("px")) <= 11 for size in sizes), (wrapped, set(sizes))


@pytest.fixture(scope="module")
def printed(built):
    """The built report printed to PDF by Chromium (or a skip, or a failure in CI, without it)."""
    chromium_path()
    folder, _, html = built
    pdf = folder / "build" / "report.pdf"
    assert build_report.write_pdf(html, pdf)
    return pdf


def test_the_pdf_is_a4_and_holds_the_whole_report(built, printed):
    _, notebooks, _ = built
    pdf = printed
    pages = PdfReader(pdf).pages
    text = "\n".join(page.extract_text() for page in pages)
    assert len(pages) >= 5
    assert {(round(float(page.mediabox.width)), round(float(page.mediabox.height))) for page in pages} == {(595, 842)}
    for title in ("char-rnn-report", "1 · Gradient check", "3 · Synthesis"):
        assert title in text
    assert build_report.corpus_shown(notebooks)[:20] in pages[0].extract_text()  # the corpus, on the first page
    assert "relative errors, m = 5" in text and re.search(r"W\s+\d\.\d\de-\d\d", text)  # the gradient check
    assert "\u200b" not in text


def outline(pdf) -> list:
    """The PDF's bookmarks as (title, [titles below it]) for each top-level one."""
    entries, tree = [], PdfReader(pdf).outline
    for entry in tree:
        if isinstance(entry, list):
            entries[-1][1].extend(child.title for child in entry if not isinstance(child, list))
        else:
            entries.append((entry.title, []))
    return entries


def test_the_pdf_has_bookmarks_by_chapter_and_is_tagged(printed):
    root = PdfReader(printed).trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]  # tagged: screen readers follow its structure
    chapters = dict(outline(printed))
    assert list(chapters) == ["char-rnn-report", "1 · Gradient check", "3 · Synthesis"]
    assert "What is being checked" in chapters["1 · Gradient check"] and "Summary" in chapters["3 · Synthesis"]
    figures = []  # the tagged figures' alternative texts: the figures' descriptions

    def collect(node):
        node = node.get_object()
        if isinstance(node, list):
            for child in node:
                collect(child)
        elif isinstance(node, dict):
            if node.get("/S") == "/Figure":
                figures.append(str(node.get("/Alt", "")))
            if "/K" in node:
                collect(node["/K"])

    collect(root["/StructTreeRoot"])
    assert len(figures) == 2 and all(len(alt) > 100 and "No description" not in alt for alt in figures), figures


def blank_below(pgm: bytes, top_mm: float = 16, bottom_mm: float = 18) -> float:
    """The share of an A4 page's text area (between its margins) left blank below the last ink,
    from a greyscale PGM image of the page."""
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", pgm)
    width, height = int(header.group(1)), int(header.group(2))
    page = np.frombuffer(pgm[header.end():], np.uint8).reshape(height, width)
    top, bottom = round(height * top_mm / 297), round(height * (297 - bottom_mm) / 297)
    inked = np.flatnonzero((page[top:bottom] < 200).any(axis=1))
    return 1 - (inked.max() + 1) / (bottom - top) if inked.size else 1.0


BLANK = 0.45  # the most of a page's text area left blank below its last line, but on a notebook's last page


def badly_filled_pages(pdf, folder) -> dict:
    """The pages of the PDF that break the print layout's rules, by page number: a page, other than
    a notebook's last, more than BLANK blank below its last line (its blank share given), and a page
    that holds only a notebook's last line ("Next: ...")."""
    if shutil.which("pdftoppm") is None:
        how = "pdftoppm is missing, so the pages cannot be looked at: install Debian's poppler-utils"
        if os.environ.get("CI") == "true":
            pytest.fail(how)
        pytest.skip(how)
    subprocess.run(["pdftoppm", "-r", "30", "-gray", str(pdf), str(folder / "page")], check=True)
    images = sorted(folder.glob("page-*.pgm"))
    texts = [page.extract_text() for page in PdfReader(pdf).pages]
    assert len(images) == len(texts) >= 5
    starts = [bool(re.match(r"\s*(<a[^>]*>)?\s*\d · ", text)) for text in texts[1:]] + [True]
    assert sum(starts) >= 2
    faults = {}
    for i, (image, text) in enumerate(zip(images, texts)):
        blank = round(blank_below(image.read_bytes()), 2)
        if not starts[i] and blank > BLANK:
            faults[i + 1] = f"{blank:.0%} blank"
        if re.fullmatch(r"\s*Next: [^\n]*\s*(\S+ · \d+ / \d+\s*)?", text):
            faults[i + 1] = "only its notebook's last line"
    return faults


def test_no_page_but_a_notebooks_last_is_left_mostly_blank(printed, tmp_path):
    """A figure, table or code cell moves to the next page whole only when it fits there; a page
    before the next notebook's start may end early, no other more than BLANK blank; and a notebook's
    last line ("Next: ...") keeps to the page before it."""
    assert badly_filled_pages(printed, tmp_path) == {}


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    """The whole report as `python3 run.py report --no-execute` prints it from the notebooks as
    saved in the repository (executed on the book): (its HTML, its PDF)."""
    chromium_path()
    folder = tmp_path_factory.mktemp("committed-report")
    html, pdf = folder / "report.html", folder / "report.pdf"
    build_report.write_html([nbformat.read(path, as_version=4) for path in build_report.notebook_paths()], html)
    assert build_report.write_pdf(html, pdf)
    return html, pdf


def test_the_whole_report_prints_every_page_well_filled_with_chapters_in_its_bookmarks(committed, tmp_path):
    html, pdf = committed
    assert badly_filled_pages(pdf, tmp_path) == {}
    chapters = dict(outline(pdf))
    assert list(chapters)[1:] == [re.search(r"\d+ · [^\n]*", nb.cells[0].source)[0] for nb in
                                  (nbformat.read(path, as_version=4) for path in build_report.notebook_paths())]
    for title, below in chapters.items():  # a numbered part is numbered within its chapter
        assert all(part.startswith(title.split(" ")[0] + ".") for part in below if re.match(r"[\d.]+ · ", part))
    text = html.read_text(encoding="utf-8")
    ids = re.findall(r"\sid=[\"']([^\"']*)[\"']", text)
    assert len(ids) == len(set(ids))
    assert "|██" not in text and "\u200b" not in text and "&#8203;" not in text


def test_without_chromium_the_html_is_written_and_one_line_says_how_to_get_the_pdf(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(build_report, "REPORT", tmp_path / "report.html")
    monkeypatch.setattr(build_report, "chromium_executable", lambda: None)
    build_report.main(["--no-execute"])
    out = capsys.readouterr().out
    assert (tmp_path / "report.html").is_file() and not (tmp_path / "report.pdf").exists()
    about_the_pdf = [line for line in out.splitlines() if "pdf" in line.lower()]
    assert len(about_the_pdf) == 1 and build_report.INSTALL_CHROMIUM in about_the_pdf[0]


# The parts, without a browser ---------------------------------------------------------------------

def progress_state(value, total):
    """Saved widget state as tqdm leaves it in a notebook: a box of a label, a bar and a label."""
    def model(name, **state):
        return {"model_name": name, "state": state}
    return {
        "box": model("HBoxModel", children=["IPY_MODEL_left", "IPY_MODEL_bar", "IPY_MODEL_right"]),
        "left": model("HTMLModel", value=f"{100 * value // total}%"),
        "bar": model("FloatProgressModel", value=value, max=total),
        "right": model("HTMLModel", value=f"\u2007{value}/{total}\u2007[00:44&lt;00:00, 4027.36update/s, "
                                          f"smooth_loss=45.20]"),
        "slider": model("FloatSliderModel", value=1.0),
    }


def notebook_with(outputs, state):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(outputs=[nbformat.from_dict(o) for o in outputs])]
    nb.metadata["widgets"] = {build_report.WIDGET_STATE: {"state": state}}
    return nb


def view(model_id, **data):
    return {"output_type": "display_data", "metadata": {},
            "data": {WIDGET_VIEW: {"model_id": model_id}, "text/plain": "initial repr", **data}}


def test_widget_outputs_take_their_static_forms():
    nb = notebook_with([view("box"), view("slider"), view("slider", **{"text/html": "<p>static</p>"}),
                        view("missing")], progress_state(177_204, 177_204))
    static = build_report.static_copy(nb)
    assert "widgets" not in static.metadata and "widgets" in nb.metadata  # the original is untouched
    assert [output.data for output in static.cells[0].outputs] == [
        {"text/plain": "177,204 updates in 44 s; smooth loss 45.20"},
        {"text/plain": "initial repr", "text/html": "<p>static</p>"},
    ]
    half = build_report.static_copy(notebook_with([view("box")], progress_state(50, 100)))
    assert half.cells[0].outputs[0].data["text/plain"].startswith("50%|█████     |")  # a stopped run's stays


def test_a_finished_bar_takes_one_line_and_any_other_text_stays():
    assert build_report.finished_bar(
        "26,180 entries, each reference: 100%|██████████| 2/2 [00:17<00:00,  8.57s/reference]") == \
        "26,180 entries, each reference: 2 references in 17 s"
    assert build_report.finished_bar("100%|██████████| 1/1 [1:02:03<00:00, 3723.00s/run]") == "1 run in 1 h 02 min"
    assert build_report.finished_bar("100%|██████████| 9/9 [00:00<00:00, 61.2update/s]") == \
        "9 updates in under a second"
    for other in ("50%|█████     | 50/100 [00:44<00:44, 1.1update/s]", "100%|██████████| 99/100 [00:44<00:00]",
                  "a sample: 100%|█ of it"):
        assert build_report.finished_bar(other) is None
    saved = notebook_with([{"output_type": "display_data", "metadata": {}, "data": {
        "text/plain": "100%|██████████| 177204/177204 [02:20<00:00, 1701.40update/s, smooth_loss=45.20]"}}], {})
    assert build_report.static_copy(saved).cells[0].outputs[0].data == {
        "text/plain": "177,204 updates in 2 min 20 s; smooth loss 45.20"}  # a notebook saved before this took it

def test_the_title_cell_names_the_report_the_date_and_the_corpus():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
        "execute_result", {"text/plain": "Corpus(data/goblet_book.txt: 1,107,542 characters, K = 80)"},
        execution_count=1)])]
    title = build_report.combine([nb, nb], datetime.date(2025, 3, 7)).cells[0]
    assert title.source.startswith(f"# {build_report.TITLE}\n")
    assert "7 March 2025" in title.source and "data/goblet_book.txt: 1,107,542 characters, K = 80" in title.source


def test_links_between_notebooks_lead_within_the_page():
    first, second = nbformat.v4.new_notebook(), nbformat.v4.new_notebook()
    first.cells = [nbformat.v4.new_markdown_cell("# 1 · One\n\n[README](../README.md) · [2 · Two](2_two.ipynb)")]
    second.cells = [nbformat.v4.new_markdown_cell("# 2 · Two\n\nBack to [1 · One](1_one.ipynb), not [3](3_x.ipynb).")]
    one, two = build_report.combine([first, second], datetime.date(2025, 3, 7)).cells[1:]
    # the README is a file beside the notebooks, which the page is shared without: its link goes
    assert one.source == '<a id="notebook-1"></a>\n\n# 1 · One\n\n[2 · Two](#notebook-2)'
    assert two.source == '<a id="notebook-2"></a>\n\n# 2 · Two\n\nBack to [1 · One](#notebook-1), not 3.'


def test_code_lines_wrap_under_their_own_indentation():
    code = ('<span></span><span class="k">def</span> <span class="nf">f</span>():\n'
            '    <span class="sd">&quot;&quot;&quot;A docstring\n'
            '        over two lines.&quot;&quot;&quot;</span>\n\n'
            '    <span class="k">return</span> 1\n')
    lines = re.findall(r'<span class="code-line" style="--indent: (\d+)ch">(.*?)</span>(?=<span class="code-line"|$)',
                       build_report.hanging_lines(code), flags=re.DOTALL)
    assert [int(indent) for indent, _ in lines] == [0, 4, 8, 0, 4]
    # a token over two lines is closed at the end of the first and opened again on the second
    assert lines[1][1].endswith("A docstring\n</span>") and lines[2][1].startswith('<span class="sd">        over')
    assert lines[3][1] == "\n"  # an empty line keeps its height by its newline, with no invisible character
    page = f'<div class="highlight hl-ipython3"><pre>{code}</pre></div><pre>a sample\n  indented</pre>'
    hung = build_report.hang_code(page)
    assert hung.count('class="code-line"') == 5 and hung.endswith("<pre>a sample\n  indented</pre>")  # text stays
    assert re.sub(r"<[^>]*>", "", hung) == re.sub(r"<[^>]*>", "", page)  # the text, newlines and all, is the code


def test_an_executed_notebook_is_saved_in_its_static_form(built):
    """The committed notebook reads without Jupyter: finished progress bars in their text form,
    the explorer's static slider, no widget state (GitHub's viewer, VS Code, nbconvert)."""
    folder, notebooks, _ = built
    for path in sorted((folder / "notebooks").glob("[0-9]*.ipynb")):
        saved = nbformat.read(path, as_version=4)
        assert "widgets" not in saved.metadata
        outputs = [output for cell in saved.cells if cell.cell_type == "code" for output in cell.outputs]
        assert not any(WIDGET_VIEW in output.get("data", {}) for output in outputs)
        texts = [output.get("data", {}).get("text/plain", "") for output in outputs]
        assert not any("0%|          |" in text for text in texts)
    synthesis = nbformat.read(folder / "notebooks" / "3_synthesis.ipynb", as_version=4)
    htmls = [output.data.get("text/html", "") for cell in synthesis.cells if cell.cell_type == "code"
             for output in cell.outputs if "data" in output]
    assert sum('class="static-temperature-slider"' in page for page in htmls) == 1
    total = rnnlib.load_checkpoint(folder / "results" / "training.npz").total
    texts = [output.get("data", {}).get("text/plain", "") for cell in synthesis.cells if cell.cell_type == "code"
             for output in cell.outputs]
    assert any(text.startswith(f"{total:,} updates in ") for text in texts) and not any("|██" in t for t in texts)


def test_equations_become_mathml_with_tex_spacing():
    inline = build_report.tex_to_mathml(r"h_t = \tanh a_t,\ |g| / \partial L", display=False)
    assert inline.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">')
    assert '<mi>tanh</mi><mspace width="0.167em" />' in inline
    assert '<mo lspace="0" rspace="0">&#x0002F;</mo>' in inline
    assert '<mo lspace="0" rspace="0">&#x02202;</mo>' in inline
    row = build_report.tex_to_mathml(r"a = b,\quad c = \text{d\quad e},\qquad f", display=True)
    assert row.startswith('<span class="equations">') and row.count("<math") == 3
    with pytest.raises(ValueError, match=r"does not know \\foo"):
        build_report.tex_to_mathml(r"\foo x", display=False)


def test_parts_take_their_chapters_number_and_repeated_ids_their_chapters_too():
    first, second = nbformat.v4.new_notebook(), nbformat.v4.new_notebook()
    first.cells = [nbformat.v4.new_markdown_cell("# 1 · One"), nbformat.v4.new_markdown_cell("## Summary")]
    second.cells = [nbformat.v4.new_markdown_cell("# 4 · Four\n\ntext"),
                    nbformat.v4.new_markdown_cell("## 1 · A part\n\nsee part 2 · below\n\n## 2 · Another"),
                    nbformat.v4.new_markdown_cell("## Summary")]
    cells = build_report.combine([first, second], datetime.date(2025, 3, 7)).cells
    assert [cell.source.splitlines()[0] for cell in cells[4:5]] == ["## 4.1 · A part"]
    assert "see part 2 · below\n\n## 4.2 · Another" in cells[4].source
    page = ('<a id="notebook-1"></a><h2 id="Summary">Summary<a class="anchor-link" href="#Summary">¶</a></h2>'
            '<a id="notebook-4"></a><h2 id="A-part">A part</h2>'
            '<h2 id="Summary">Summary<a class="anchor-link" href="#Summary">¶</a></h2>')
    assert build_report.unique_ids(page) == (
        '<a id="notebook-1"></a><h2 id="1-Summary">Summary<a class="anchor-link" href="#1-Summary">¶</a></h2>'
        '<a id="notebook-4"></a><h2 id="A-part">A part</h2>'
        '<h2 id="4-Summary">Summary<a class="anchor-link" href="#4-Summary">¶</a></h2>')
