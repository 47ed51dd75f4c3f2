"""Speed of rnnlib against the plain per-step implementation in tests/plain_rnn.py.

Measures, at the assignment's size (m = 100, seq_length = 25, float64, one BLAS thread):
  - µs per training update (loss, gradients, clipping, AdaGrad) for rnnlib and the plain
    implementation, in interleaved rounds on the same sequences, and their ratio (medians);
  - synthesis speed in characters per second.
Run it with `python3 run.py bench` (or `.venv/bin/python benchmarks/bench.py --help`).
"""

import argparse
import importlib.util
import statistics
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import rnnlib

# The plain implementation is the tests' reference; load it from its file, where it lives.
_spec = importlib.util.spec_from_file_location("plain_rnn", Path(__file__).parent.parent / "tests" / "plain_rnn.py")
plain_rnn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plain_rnn)


def time_rnnlib(rnn, optimiser, batches, h):
    start = time.perf_counter()
    for x, y in batches:
        _, grads, h = rnnlib.loss_and_gradients(rnn, x, y, h)
        optimiser.step(rnn, rnnlib.clip_gradients(grads))
    return (time.perf_counter() - start) / len(batches)


def time_plain(params, memory, batches, h):
    start = time.perf_counter()
    for x, y in batches:
        _, grads, h = plain_rnn.loss_and_gradients(*params, x, y, h)
        plain_rnn.adagrad_update(params, list(grads), memory)
    return (time.perf_counter() - start) / len(batches)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (median taken)")
    parser.add_argument("--updates", type=int, default=400, help="updates per round and implementation")
    parser.add_argument("--chars", type=int, default=100_000, help="characters per synthesis round")
    args = parser.parse_args(argv)
    with threadpool_limits(limits=1):
        run(args)


def run(args):
    blas = ", ".join(f"{pool['internal_api']} {pool.get('version')} ({pool.get('architecture')}), "
                     f"{pool['num_threads']} thread" for pool in threadpool_info())

    corpus = rnnlib.load_corpus()
    m, s, K = 100, 25, 80
    data = corpus.data % K  # the assignment's K = 80 whatever the corpus (the book's is 80)
    print(f"corpus: {corpus.source} (K = {corpus.K}, indices taken modulo {K}); "
          f"m = {m}, K = {K}, seq_length = {s}, float64")
    print(f"BLAS: {blas}")
    batches = [rnnlib.sequence_at(data, e, s) for e in range(0, args.updates * s, s)]
    plain_batches = [(x.tolist(), y.tolist()) for x, y in batches]
    rnn = rnnlib.RNN.init(K, m=m, rng=0)
    optimiser = rnnlib.AdaGrad()
    params = [theta.copy() for theta in rnn.values()]
    memory = [np.zeros_like(theta) for theta in params]
    h = np.zeros(m)

    ours, plain = [], []
    time_rnnlib(rnn, optimiser, batches[:20], h)  # warm-up
    time_plain(params, memory, plain_batches[:20], h)
    for _ in range(args.rounds):
        ours.append(time_rnnlib(rnn, optimiser, batches, h))
        plain.append(time_plain(params, memory, plain_batches, h))
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


if __name__ == "__main__":
    main()
