"""Speed of rnnlib's training against the plain per-step implementation in tests/plain_rnn.py.

By default, at the assignment's size (K = 80, m = 100, seq_length = 25, float64, one BLAS thread):
  - µs per training update (loss, gradients, clipping, AdaGrad, as rnnlib.train computes them)
    for rnnlib and for the plain implementation, in interleaved rounds on the same sequences,
    and their ratio (median of the per-round ratios);
  - synthesis speed in characters per second.
--K, --m and --dtype change the size (the plain implementation stays in float64).
--grid prints instead a table of µs per update through rnnlib.train (with its smooth loss and
best model) for K in {80, 1000, 5000}, m in {50, 100, 200} and both dtypes, all interleaved in
each round, beside the plain implementation at the assignment's size.
--corpus MB measures instead what building an rnnlib.Corpus costs, per megabyte of text (UTF-8),
on a text of about MB megabytes made by repeating the offline corpus: seconds (the median of three
builds) and peak memory (tracemalloc, beyond the text itself), in a fresh process.
A K larger than the corpus's is a text of Zipf-distributed CJK ideographs (see text_corpus).
Run it with `python3 run.py bench [options]` (or `.venv/bin/python benchmarks/bench.py --help`).
"""

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import rnnlib

# The plain implementation is the tests' reference; load it from its file, where it lives.
_spec = importlib.util.spec_from_file_location("plain_rnn", Path(__file__).parent.parent / "tests" / "plain_rnn.py")
plain_rnn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plain_rnn)

SEQ_LENGTH = rnnlib.SEQ_LENGTH
CJK = 0x4E00  # the first CJK unified ideograph: 20,992 code points follow it
GRID_K, GRID_M, DTYPES = (80, 1000, 5000), (rnnlib.M // 2, rnnlib.M, 2 * rnnlib.M), ("float64", "float32")


def text_corpus(corpus: rnnlib.Corpus, K: int, updates: int, seed: int = 0) -> rnnlib.Corpus:
    """A Corpus of exactly K characters whose first updates * SEQ_LENGTH + 1, the part training
    reads, are: for K up to corpus.K, corpus's text with its indices taken modulo K (the book's
    K is the assignment's 80: the book itself); for larger K, a stand-in for a Chinese or Japanese
    text, seeded draws of K CJK ideographs with Zipf frequencies (p_k ∝ 1/k, as characters have).
    Each of the K characters follows once more after that part, so that all are in the vocabulary."""
    n = updates * SEQ_LENGTH + 1
    if K <= corpus.K:
        chars, indices = corpus.chars[:K], corpus.data[:n] % K
        source = f"{corpus.source} (K = {corpus.K}, indices taken modulo {K})"
    else:
        p = 1 / np.arange(1, K + 1)
        chars = [chr(CJK + k) for k in range(K)]
        indices = np.random.default_rng(seed).choice(K, size=n, p=p / p.sum())
        source = f"{K:,} CJK ideographs with Zipf frequencies"
    text = "".join(chars[i] for i in np.concatenate([indices, np.arange(K)]).tolist())
    return rnnlib.Corpus(text, source=source)


def batches_of(corpus, updates):
    return [rnnlib.sequence_at(corpus.data, e, SEQ_LENGTH) for e in range(0, updates * SEQ_LENGTH, SEQ_LENGTH)]


def time_rnnlib(rnn, optimiser, batches, h):
    """Seconds per update of the computation rnnlib.train makes: loss and gradients (dU sparse
    where train takes it so), clipping, AdaGrad."""
    sparse = rnnlib.sparse_U_pays(rnn.K, SEQ_LENGTH)
    start = time.perf_counter()
    for x, y in batches:
        _, grads, h = rnnlib.loss_and_gradients(rnn, x, y, h, sparse=sparse)
        optimiser.step(rnn, rnnlib.clip_gradients(grads))
    return (time.perf_counter() - start) / len(batches)


def time_plain(params, memory, batches, h):
    """Seconds per update of the plain implementation: loss and gradients, clipping, AdaGrad."""
    start = time.perf_counter()
    for x, y in batches:
        _, grads, h = plain_rnn.loss_and_gradients(*params, x, y, h)
        plain_rnn.adagrad_update(params, list(grads), memory)
    return (time.perf_counter() - start) / len(batches)


def time_train(corpus, m, dtype, updates):
    """Seconds per update of rnnlib.train, from a fresh network."""
    rnn = rnnlib.RNN.init(corpus.K, m=m, rng=0, dtype=dtype)
    start = time.perf_counter()
    rnnlib.train(rnn, corpus, updates=updates, sample_every=None, progress=False)
    return (time.perf_counter() - start) / updates


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--K", type=int, default=80, help="vocabulary size (default: the assignment's 80)")
    parser.add_argument("--m", type=int, default=rnnlib.M, help=f"hidden units (default {rnnlib.M})")
    parser.add_argument("--dtype", choices=DTYPES, default="float64", help="rnnlib's dtype (default float64)")
    parser.add_argument("--grid", action="store_true",
                        help=f"µs per rnnlib.train update for K in {GRID_K}, m in {GRID_M}, both dtypes")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (median taken)")
    parser.add_argument("--updates", type=int, default=None,
                        help="updates per round and configuration (default 400 at K = 80, fewer for larger K: "
                             "the plain implementation takes 0.13 s per update at K = 5,000; grid 100)")
    parser.add_argument("--chars", type=int, default=100_000, help="characters per synthesis round")
    parser.add_argument("--corpus", type=float, metavar="MB",
                        help="instead, the seconds and peak memory of building a Corpus of a text of MB megabytes")
    args = parser.parse_args(argv)
    if args.corpus is not None:
        return corpus_cost(args.corpus)
    args.updates = args.updates or (100 if args.grid else max(20, 32_000 // max(args.K, 80)))
    with threadpool_limits(limits=1):
        (grid if args.grid else compare)(args, rnnlib.load_corpus())


def print_blas():
    print("BLAS: " + ", ".join(f"{pool['internal_api']} {pool.get('version')} ({pool.get('architecture')}), "
                               f"{pool['num_threads']} thread" for pool in threadpool_info()))


def compare(args, corpus):
    """rnnlib against the plain implementation at one size, and synthesis."""
    text = text_corpus(corpus, args.K, args.updates)
    print(f"text: {text.source}; m = {args.m}, K = {args.K}, seq_length = {SEQ_LENGTH}, {args.dtype}"
          + ("" if args.dtype == "float64" else " (plain: float64)"))
    print_blas()
    batches = batches_of(text, args.updates)
    plain_batches = [(x.tolist(), y.tolist()) for x, y in batches]
    rnn = rnnlib.RNN.init(args.K, m=args.m, rng=0, dtype=args.dtype)
    optimiser = rnnlib.AdaGrad()
    params = [theta.astype(np.float64) for theta in rnn.values()]
    memory = [np.zeros_like(theta) for theta in params]
    h, plain_h = np.zeros(args.m, dtype=rnn.dtype), np.zeros(args.m)

    ours, plain = [], []
    time_rnnlib(rnn, optimiser, batches[:20], h)  # warm-up
    time_plain(params, memory, plain_batches[:20], plain_h)
    for _ in range(args.rounds):
        ours.append(time_rnnlib(rnn, optimiser, batches, h))
        plain.append(time_plain(params, memory, plain_batches, plain_h))
    ours_us, plain_us = statistics.median(ours) * 1e6, statistics.median(plain) * 1e6
    ratio = statistics.median(o / p for o, p in zip(ours, plain))
    print(f"update, rnnlib:  {ours_us:8.1f} µs   (rounds: {', '.join(f'{t * 1e6:.0f}' for t in ours)})")
    print(f"update, plain:   {plain_us:8.1f} µs   (rounds: {', '.join(f'{t * 1e6:.0f}' for t in plain)})")
    print(f"ratio rnnlib / plain: {ratio:.3f}  (median of the per-round ratios; 1/{1 / ratio:.1f})")

    rates = []
    for seed in range(args.rounds):
        start = time.perf_counter()
        rnnlib.synthesize(rnn, h, 0, args.chars, rng=seed)
        rates.append(args.chars / (time.perf_counter() - start))
    print(f"synthesis: {statistics.median(rates):,.0f} characters/s (median of {args.rounds} rounds of {args.chars:,})")


def grid(args, corpus):
    """µs per rnnlib.train update over K, m and dtype, and the plain implementation at K = 80, m = M."""
    texts = {K: text_corpus(corpus, K, args.updates) for K in GRID_K}
    print(f"texts: {'; '.join(text.source for text in texts.values())}; seq_length = {SEQ_LENGTH}")
    print_blas()
    print(f"µs per update through rnnlib.train from a fresh network: {args.rounds} interleaved rounds of "
          f"{args.updates} updates, medians; ratios are medians of the per-round ratios")
    configs = [(K, m, dtype) for K in GRID_K for m in GRID_M for dtype in DTYPES]
    plain_batches = [(x.tolist(), y.tolist()) for x, y in batches_of(texts[80], args.updates)]
    for K, m, dtype in configs:  # warm-up
        time_train(texts[K], m, dtype, 5)
    times = {config: [] for config in [*configs, "plain"]}
    for _ in range(args.rounds):
        for K, m, dtype in configs:
            times[K, m, dtype].append(time_train(texts[K], m, dtype, args.updates))
        params = list(rnnlib.RNN.init(80, rng=0).values())
        times["plain"].append(time_plain(params, [np.zeros_like(p) for p in params], plain_batches, np.zeros(rnnlib.M)))
    us = {config: statistics.median(seconds) * 1e6 for config, seconds in times.items()}

    def per_round(a, b):  # the median of a's time over b's, round by round
        return statistics.median(x / y for x, y in zip(times[a], times[b]))

    print("\n     K    m   float64 µs   float32 µs   32/64   K/K=80 (64)   K/K=80 (32)")
    for K, m, _ in configs[::2]:
        print(f"{K:6,} {m:4}   {us[K, m, 'float64']:10,.0f}   {us[K, m, 'float32']:10,.0f}   "
              f"{per_round((K, m, 'float32'), (K, m, 'float64')):5.2f}   "
              f"{per_round((K, m, 'float64'), (80, m, 'float64')):11.1f}   "
              f"{per_round((K, m, 'float32'), (80, m, 'float32')):11.1f}")
    print(f"\nplain (tests/plain_rnn.py), K = 80, m = {rnnlib.M}, float64: {us['plain']:,.0f} µs per update (loss, "
          f"gradients, clipping, AdaGrad); rnnlib.train / plain {per_round((80, rnnlib.M, 'float64'), 'plain'):.3f}")


# Run in a fresh process, so that nothing allocated before distorts the peak.
CORPUS_BUILD = """
import json, statistics, sys, time, tracemalloc
import rnnlib
docs = rnnlib.python_docs_text()
text = docs * max(1, round(float(sys.argv[1]) * 1e6 / len(docs.encode("utf-8"))))
seconds = []
for _ in range(3):
    start = time.perf_counter()
    corpus = rnnlib.Corpus(text)
    seconds.append(time.perf_counter() - start)
    data, K = corpus.data.nbytes, corpus.K
    del corpus
tracemalloc.start()
rnnlib.Corpus(text)
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps(dict(mb=len(text.encode("utf-8")) / 1e6, chars=len(text), str_mb=sys.getsizeof(text) / 1e6,
                      seconds=statistics.median(seconds), peak_mb=peak / 1e6, data_mb=data / 1e6, K=K)))
"""


def corpus_cost(megabytes: float):
    """What rnnlib.Corpus costs on a text of about `megabytes` MB, measured in a fresh process."""
    found = subprocess.run([sys.executable, "-c", CORPUS_BUILD, str(megabytes)], capture_output=True, text=True,
                           check=True)
    r = json.loads(found.stdout)
    print(f"text: the offline corpus repeated, {r['mb']:,.1f} MB as UTF-8 ({r['chars']:,} characters, K = {r['K']}; "
          f"{r['str_mb']:,.1f} MB as a Python str)")
    print(f"Corpus build: {r['seconds']:.2f} s ({r['seconds'] / r['mb']:.3f} s per MB; median of 3); peak memory "
          f"{r['peak_mb']:,.1f} MB beyond the text ({r['peak_mb'] / r['mb']:.2f} MB per MB); "
          f"its codes (corpus.data) {r['data_mb']:,.1f} MB")


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:  # stdout's reader went away (`| head`): stop quietly, with a Unix tool's status
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's flush at exit stays quiet
        sys.exit(141)  # 128 + SIGPIPE, as the shell shows for a tool that SIGPIPE ended
