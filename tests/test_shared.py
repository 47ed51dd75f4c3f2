"""What several notebooks use (notebooks/shared.py): the finished model, loaded or trained, and
the small Table."""

import math

import numpy as np
import pytest

import rnnlib
import shared
from rnnlib import RNN


def test_load_or_train_best_trains_once_and_retrains_for_another_text(tmp_path, small_corpus, capsys):
    path = tmp_path / "model.npz"
    first = shared.load_or_train_best(small_corpus, path, m=8, epochs=2, progress=False)
    said = capsys.readouterr().out
    assert "as there is no finished model yet" in said and path.is_file()
    assert first.update == first.total == shared.scaled(2 * rnnlib.updates_per_epoch(len(small_corpus.data), 25))
    assert f"({first.total:,} updates at the report's scale {shared.SCALE:g})" in said
    assert rnnlib.load_checkpoint(tmp_path / "training.npz").update == first.update  # the run, beside it
    again = shared.load_or_train_best(small_corpus, path, m=8, epochs=2, progress=False)
    assert capsys.readouterr().out == "" and np.array_equal(again.best.theta, first.best.theta)
    other = rnnlib.Corpus(small_corpus.text.upper(), source="shouting")
    shared.load_or_train_best(other, path, m=8, epochs=2, progress=False)
    assert "trained on another text (pangrams)" in capsys.readouterr().out
    assert rnnlib.load_checkpoint(path).source == "shouting"


def test_load_or_train_best_finishes_a_stopped_run_when_there_is_no_model(tmp_path, small_corpus, capsys,
                                                                          interrupt_on_call):
    path, run = tmp_path / "model.npz", tmp_path / "training.npz"
    whole = rnnlib.train(RNN.init(small_corpus.K, m=8), small_corpus, updates=50, progress=False)
    interrupt_on_call(21)  # in update 20
    with pytest.raises(KeyboardInterrupt):
        rnnlib.train(RNN.init(small_corpus.K, m=8), small_corpus, updates=50, checkpoint=run, finished=path,
                     progress=False)
    assert not path.exists()
    ckpt = shared.load_or_train_best(small_corpus, path, m=8, progress=False)
    said = capsys.readouterr().out
    assert "Finishing the run in" in said and "stopped at update 20 of 50" in said
    assert ckpt.update == 50 and np.array_equal(ckpt.history.smooth_loss, whole.smooth_loss)
    assert np.array_equal(rnnlib.load_checkpoint(path).best.theta, whole.best.theta)


def test_bits_per_character_nats_and_perplexity_undo_each_other():
    loss = np.array([109.55, 44.02])
    bits = shared.bits(loss)
    assert bits.tolist() == [v / rnnlib.SEQ_LENGTH / math.log(2) for v in loss]
    np.testing.assert_allclose(shared.nats(bits), loss, rtol=1e-15)
    assert shared.perplexity(3.0) == 8.0


def test_table_shows_as_text_and_html():
    table = shared.Table(["name", "value", "count"], [["a<b", 1.5e-7, 12_345], ["c", math.nan, 2]],
                         title="t")
    text = repr(table)
    assert text.splitlines()[0] == "t" and "1.50e-07" in text and "12,345" in text and "—" in text
    page = table._repr_html_()
    assert "<caption>t</caption>" in page and "a&lt;b" in page and page.count("<tr>") == 3


def test_a_described_figure_carries_its_description_in_the_png_metadata():
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.pylabtools import select_figure_formats

    shell = InteractiveShell.instance()
    select_figure_formats(shell, {"retina"})
    shared.show_descriptions(shell)
    fig, ax = shared.subplots(figsize=(2, 1))
    ax.plot([0, 1])
    assert fig.describe("A line\n   rising from 0 to 1.") is fig
    data, metadata = shell.display_formatter.format(fig)
    assert "image/png" in data and metadata["image/png"]["alt"] == "A line rising from 0 to 1."
    assert {"width", "height"} <= set(metadata["image/png"])  # the retina PNG's own metadata stays
    plain = shared.subplots(figsize=(2, 1))[0]
    assert "alt" not in shell.display_formatter.format(plain)[1].get("image/png", {})
