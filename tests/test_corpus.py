import tracemalloc

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


TEXTS = {
    "ascii": "hello world\n" * 5,
    "accents and symbols": "Dürer — “quoted” naïve\ttab\n€½",
    "beyond the BMP": "a😀b𝔘c😀😀d🂡\n" * 4 + "e",
    "K = 256": "".join(chr(0x100 + k) for k in range(256)) * 2,
    "K = 257": "".join(chr(0x100 + k) for k in range(257)),
    "K > 256, beyond the BMP": "".join(chr(0x1F300 + k % 600) for k in range(0, 3000, 7)),
}


@pytest.mark.parametrize("chunk", [rnnlib.ENCODE_CHUNK, 7, 1])
@pytest.mark.parametrize("name", TEXTS)
def test_the_indices_are_each_characters_place_in_the_sorted_vocabulary_in_the_smallest_type(name, chunk,
                                                                                              monkeypatch):
    """The indices the whole text encoded at once as int64 gave, now chunk by chunk (chunk
    boundaries among characters beyond the BMP too) in one byte a character for K <= 256."""
    monkeypatch.setattr(rnnlib, "ENCODE_CHUNK", chunk)
    text = TEXTS[name]
    corpus = Corpus(text)
    assert corpus.data.tolist() == [sorted(set(text)).index(ch) for ch in text]
    assert corpus.data.dtype == (np.uint8 if corpus.K <= 256 else np.uint16)
    assert corpus.encode(text[::-1]).tolist() == corpus.data[::-1].tolist()
    assert corpus.encode(text[::-1]).dtype == corpus.data.dtype and corpus.decode(corpus.data) == text


def test_a_vocabulary_beyond_65536_characters_takes_four_bytes():
    text = "".join(map(chr, range(0x20000, 0x20000 + 65_537)))
    corpus = Corpus(text)
    assert corpus.data.dtype == np.uint32 and corpus.data[-1] == 65_536 and corpus.decode(corpus.data) == text


@pytest.mark.parametrize("chunk", [rnnlib.ENCODE_CHUNK, 3])
def test_an_unknown_character_in_a_later_chunk_is_named_with_its_position_and_the_count(chunk, monkeypatch):
    monkeypatch.setattr(rnnlib, "ENCODE_CHUNK", chunk)
    corpus = Corpus("abc😀")
    with pytest.raises(ValueError, match=r"^character 'z' \(U\+007A\) at position 9 is not in the vocabulary of "
                                         r"text \(K = 4\): use only characters of the training text "
                                         r"\(3 unknown in all\)$"):
        corpus.encode("abc😀abcabzcz😀€")


@pytest.mark.parametrize("dense", [True, False])
def test_training_on_the_small_codes_is_bit_for_bit_training_on_int64_codes(small_corpus, large_corpus, dense):
    corpus = small_corpus if dense else large_corpus  # large: K > 4 seq_length, sparse dU
    wide = Corpus(corpus.text, corpus.source)
    wide.data = corpus.data.astype(np.int64)
    runs = []
    for c in (corpus, wide):
        rnn = rnnlib.RNN.init(c.K, m=12, sigma=0.1, rng=0)
        runs.append((rnn, rnnlib.train(rnn, c, updates=100, rng=3, sample_every=30, progress=False)))
    (a, a_history), (b, b_history) = runs
    assert corpus.data.dtype == np.uint8 and np.array_equal(a.theta, b.theta)
    assert np.array_equal(a_history.smooth_loss, b_history.smooth_loss) and a_history.samples == b_history.samples


def test_building_a_corpus_takes_about_one_byte_a_character_beyond_the_text():
    text = rnnlib.python_docs_text()[:400_000] * 10  # 4 million characters
    tracemalloc.start()
    try:
        corpus = Corpus(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert corpus.data.nbytes == len(text) and peak < len(text) + 4e6  # int64 codes alone were 32 MB
