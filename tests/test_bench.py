"""The benchmarks run and say what they measured (their numbers are the machine's business)."""

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


def bench(*args) -> str:
    return subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, check=True).stdout


def test_the_update_benchmark_compares_rnnlib_with_the_plain_implementation():
    out = bench("--rounds", "1", "--updates", "20", "--chars", "200")
    assert "m = 100, K = 80, seq_length = 25, float64" in out
    assert re.search(r"update, rnnlib: +[\d.]+ µs", out) and re.search(r"ratio rnnlib / plain: [\d.]+", out)


def test_the_corpus_benchmark_gives_seconds_and_peak_memory_per_megabyte():
    out = bench("--corpus", "2")
    assert re.search(r"text: the offline corpus repeated, [\d.]+ MB as UTF-8 \([\d,]+ characters, K = \d+;", out)
    peak = float(re.search(r"peak memory [\d.,]+ MB beyond the text \(([\d.]+) MB per MB\)", out).group(1))
    assert re.search(r"Corpus build: [\d.]+ s \([\d.]+ s per MB; median of 3\)", out)
    assert 0.9 < peak < 3  # one byte a character, and the chunk being encoded
