import numpy as np
import pytest

import rnnlib
from rnnlib import Corpus, load_corpus


def test_vocabulary_is_sorted_distinct_characters_and_maps_are_inverse():
    corpus = Corpus("hello world", source="test")
    assert corpus.chars == (" ", "d", "e", "h", "l", "o", "r", "w")
    assert corpus.K == 8
    assert all(corpus.ind_to_char[corpus.char_to_ind[ch]] == ch for ch in corpus.chars)
    assert corpus.data.tolist() == [3, 2, 4, 4, 5, 0, 7, 5, 6, 4, 1]
    assert corpus.decode(corpus.data) == "hello world"


def test_data_is_encoded_once_and_read_only():
    corpus = Corpus("abcabc")
    with pytest.raises(ValueError):
        corpus.data[0] = 1


def test_encode_decode_round_trip_with_non_ascii_characters():
    text = "Dürer — “quoted” 😀 naïve\ttab\n"
    corpus = Corpus(text)
    assert corpus.decode(corpus.encode(text[::-1])) == text[::-1]
    assert corpus.encode("").shape == (0,)
    assert corpus.decode([]) == ""


def test_encode_of_an_unknown_character_names_it_and_its_position():
    corpus = Corpus("abc")
    with pytest.raises(ValueError, match=r"'z' \(U\+007A\) at position 2 .*not in the vocabulary"):
        corpus.encode("abzc")
    with pytest.raises(ValueError, match=r"'€'"):
        corpus.encode("a€")  # a code point above every vocabulary character


def test_decode_rejects_indices_out_of_range():
    corpus = Corpus("abc")
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        corpus.decode([0, 3])


def test_load_corpus_reads_utf8_drops_bom_and_unifies_line_endings(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes("\ufeffone\r\ntwo\rthree\nfür".encode("utf-8"))
    corpus = load_corpus(path)
    assert corpus.text == "one\ntwo\nthree\nfür"
    assert "\r" not in corpus.chars and "\ufeff" not in corpus.chars
    assert corpus.source == str(path)


def test_missing_file_is_a_clear_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no such file: .*nope\.txt"):
        load_corpus(tmp_path / "nope.txt")


def test_a_directory_is_refused_by_name_with_a_text_in_it_as_the_example(tmp_path):
    with pytest.raises(IsADirectoryError) as empty:
        load_corpus(tmp_path)
    assert str(empty.value) == f"{tmp_path} is a directory, not a text file: pass the path of a UTF-8 text file"
    (tmp_path / "notes.md").write_text("not a .txt\n")
    (tmp_path / "b.txt").write_text("a text\n")
    (tmp_path / "a.txt").mkdir()  # a folder, whatever its name, is no example
    with pytest.raises(IsADirectoryError) as holding:
        load_corpus(tmp_path)
    assert str(holding.value).endswith(f"text file, e.g. {tmp_path / 'b.txt'}")
    assert load_corpus(tmp_path / "b.txt").text == "a text\n"  # the example is one that loads


def test_an_empty_file_is_refused_by_name(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.txt is empty"):
        load_corpus(path)
    path.write_bytes(b"\xef\xbb\xbf")  # only a byte-order mark
    with pytest.raises(ValueError, match=r"is empty"):
        load_corpus(path)


def test_bytes_that_are_not_utf8_name_the_file_and_offset(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\u00e9 au lait".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1\.txt is not UTF-8 text: byte 0xe9 at offset 3.*iconv"):
        load_corpus(path)


def test_without_the_book_the_offline_default_is_used_and_announced(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv(rnnlib.CORPUS_ENV, raising=False)
    monkeypatch.setattr(rnnlib, "BOOK_PATH", tmp_path / "goblet_book.txt")
    corpus = load_corpus()
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "goblet_book.txt" in out and "copy" in out
    assert "Python reference documentation" in corpus.source
    assert len(corpus) > 400_000 and corpus.K > 80
    assert corpus.text == rnnlib.python_docs_text()


def test_the_book_in_data_is_preferred(monkeypatch, tmp_path, capsys):
    book = tmp_path / "goblet_book.txt"
    book.write_text("HARRY POTTER\r\n", encoding="utf-8")
    monkeypatch.delenv(rnnlib.CORPUS_ENV, raising=False)
    monkeypatch.setattr(rnnlib, "BOOK_PATH", book)
    corpus = load_corpus()
    assert corpus.text == "HARRY POTTER\n"
    assert capsys.readouterr().out == ""


def test_the_environment_variable_names_the_corpus(monkeypatch, tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("my own text", encoding="utf-8")
    monkeypatch.setenv(rnnlib.CORPUS_ENV, str(path))
    assert load_corpus().text == "my own text"
    monkeypatch.setenv(rnnlib.CORPUS_ENV, str(tmp_path / "missing.txt"))
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        load_corpus()


def test_source_is_shown_relative_to_the_project_when_inside_it():
    assert rnnlib.display_path(rnnlib.BOOK_PATH) == "data/goblet_book.txt"


def test_the_book_if_present_has_the_course_file_size(corpus):
    if corpus.source != "data/goblet_book.txt":
        pytest.skip("data/goblet_book.txt is not here (the offline default corpus is in use)")
    assert len(corpus) == 1_107_542 and corpus.K == 80
    assert np.array_equal(corpus.encode(corpus.text[:1000]), corpus.data[:1000])
