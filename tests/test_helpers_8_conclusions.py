"""Notebook 8 · Conclusions (notebooks/helpers_8_conclusions.py) and the abstract that
scripts/build_report.py makes of its output."""

import nbformat

import build_report
import helpers_8_conclusions as conclusions
import rnnlib
import shared


def test_the_titles_come_from_each_notebooks_first_heading():
    titles = conclusions.titles()
    assert titles["2_training"] == "2 · Training" and titles["7_how_good"] == "7 · How good is it?"
    assert titles["8_conclusions"] == "8 · Conclusions"
    assert list(titles) == [path.stem for path in build_report.notebook_paths()]


def test_the_conclusions_print_every_recorded_summary_under_its_title_and_name_what_is_missing(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(rnnlib, "RESULTS_DIR", tmp_path)
    shared.record_findings("4_gradients", ["clipped against not clipped: no detectable difference"])
    shared.record_findings("2_training", ["the published run is within the band of the 6 seeds"])
    capsys.readouterr()
    lines = conclusions.conclusions()
    scale = "" if shared.SCALE == 1 else f" (at scale {shared.SCALE:g})"
    assert lines[:4] == [f"2 · Training{scale}", "- the published run is within the band of the 6 seeds",
                         f"4 · Gradients through time{scale}",
                         "- clipped against not clipped: no detectable difference"]
    assert lines[-1] == ("Not yet recorded (run these notebooks first): 3 · Synthesis, 5 · Inside the network, "
                         "6 · Beyond the assignment, 7 · How good is it?")
    assert capsys.readouterr().out == "\n".join(lines) + "\n"
    assert conclusions.conclusions({"2_training": ["x"]}, {"2_training": "2 · T"}, {"2_training": 0.05}) == [
        "2 · T (at scale 0.05)", "- x"]


def test_the_report_opens_with_the_abstract_made_of_the_conclusions_output():
    cell = nbformat.v4.new_code_cell("conclusions = helpers.conclusions()", metadata={"tags": ["abstract"]})
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                           text="2 · Training\n- the run <b> is within the band & spread 4.8\n")]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 8 · Conclusions"), cell])
    abstract = build_report.abstract_cell([nb])
    assert "<h2>Abstract</h2>" in abstract.source and "<b>2 · Training</b>" in abstract.source
    assert "<li>the run &lt;b&gt; is within the band &amp; spread 4.8</li>" in abstract.source
    import datetime
    report = build_report.combine([nb], datetime.date(2026, 12, 6))
    assert report.cells[1].metadata["tags"] == ["report-abstract"]
    cell.outputs = []
    assert build_report.abstract_cell([nb]) is None
    assert build_report.combine([nb], datetime.date(2026, 12, 6)).cells[1].source.endswith("# 8 · Conclusions")
