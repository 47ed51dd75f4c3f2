"""`python3 run.py serve` refuses to serve a page without a model for the current corpus."""

import importlib.util
from pathlib import Path

import rnnlib
from rnnlib import RNN

spec = importlib.util.spec_from_file_location("serve", Path(__file__).parent.parent / "scripts" / "serve.py")
serve = importlib.util.module_from_spec(spec)
spec.loader.exec_module(serve)


def test_no_checkpoint_says_which_command_makes_one(tmp_path, monkeypatch, small_corpus):
    monkeypatch.setattr(rnnlib, "CHECKPOINT_PATH", tmp_path / "training.npz")
    problem = serve.check_model(small_corpus)
    assert "No trained model yet" in problem and "python3 run.py report" in problem


def test_a_checkpoint_for_another_text_is_refused(tmp_path, monkeypatch, small_corpus):
    path = tmp_path / "training.npz"
    monkeypatch.setattr(rnnlib, "CHECKPOINT_PATH", path)
    other = rnnlib.Corpus(small_corpus.text.upper(), source="shouting")
    rnnlib.train(RNN.init(other.K, m=4), other, updates=3, checkpoint=path, progress=False)
    problem = serve.check_model(small_corpus)
    assert "trained on shouting, but the corpus now is pangrams" in problem
    assert "python3 run.py report" in problem
    path.write_bytes(b"garbage")
    assert "not a readable checkpoint" in serve.check_model(small_corpus)


def test_a_matching_checkpoint_is_served(tmp_path, monkeypatch, small_corpus):
    path = tmp_path / "training.npz"
    monkeypatch.setattr(rnnlib, "CHECKPOINT_PATH", path)
    rnnlib.train(RNN.init(small_corpus.K, m=4), small_corpus, updates=3, checkpoint=path, progress=False)
    assert serve.check_model(small_corpus) is None
