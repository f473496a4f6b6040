#!/usr/bin/env python3
"""Pool rows of ``mpdemo bench``: Demo #2 (``Pool.map`` of fib(n) over 5
workers, pool start and shutdown included, as the slide times it); tiny tasks
(``x * 2``) per second through ``Pool.map`` with chunksize 1 and with Python's
automatic chunk size, and through ``ProcessPoolExecutor.submit``; and the
start-up of a pool (start, one result, close and join) per start method.

Usage:
    python3 pool_bench.py [--n 35] [--tiny 20000] [--thread-n 32] [--thread-tasks 16] [--json]

JSON (the only stdout line with --json):
    {"demo": "pool-bench", "language": "python", "demo2_s": ..., "tiny_chunk1_per_s": ...,
     "tiny_auto_per_s": ..., "tiny_submit_per_s": ...,
     "pool_startup_s": {"fork": ..., "spawn": ..., "forkserver": ...}}
"""

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import Pool, get_context
from multiprocessing.pool import ThreadPool

from speed_test import Fibonacci_driver  # the slide's recursive Fibonacci
from bench_output import report


def twice(x):
    return x * 2


def demo2(n):
    start = time.perf_counter()
    with Pool(5) as p:
        results = p.map(Fibonacci_driver, [n] * 5)
    p.join()
    assert len(results) == 5
    return time.perf_counter() - start


def tiny_map(count, chunksize):
    with Pool(2) as p:
        p.map(twice, range(10))  # workers up before the clock starts
        start = time.perf_counter()
        results = p.map(twice, range(count), chunksize=chunksize)
        seconds = time.perf_counter() - start
    assert results[-1] == 2 * (count - 1)
    return count / seconds


def tiny_submit(count):
    with ProcessPoolExecutor(2) as executor:
        list(executor.map(twice, range(10)))
        start = time.perf_counter()
        futures = [executor.submit(twice, x) for x in range(count)]
        total = sum(future.result() for future in futures)
        seconds = time.perf_counter() - start
    assert total == count * (count - 1)
    return count / seconds


def thread_pool(n, tasks):
    """The slide's fib through multiprocessing.pool.ThreadPool(2): the GIL runs one at a time."""
    with ThreadPool(2) as p:
        p.map(Fibonacci_driver, [5, 5])
        start = time.perf_counter()
        results = p.map(Fibonacci_driver, [n] * tasks)
        seconds = time.perf_counter() - start
    assert len(results) == tasks
    return seconds


def pool_startup(method):
    """Median of 5: start a pool of 2 with ``method``, one result, close and join."""
    context = get_context(method)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        with context.Pool(2) as p:
            assert p.apply(twice, (21,)) == 42
            p.close()
            p.join()
        times.append(time.perf_counter() - start)
    return sorted(times)[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=35)
    parser.add_argument("--tiny", type=int, default=20_000)
    parser.add_argument("--thread-n", type=int, default=32)
    parser.add_argument("--thread-tasks", type=int, default=16)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = {
        "demo": "pool-bench",
        "language": "python",
        "demo2_s": demo2(args.n),
        "tiny_chunk1_per_s": tiny_map(args.tiny, 1),
        "tiny_auto_per_s": tiny_map(args.tiny, None),
        "tiny_submit_per_s": tiny_submit(args.tiny),
        "thread_pool_s": thread_pool(args.thread_n, args.thread_tasks),
        "pool_startup_s": {method: pool_startup(method) for method in ("fork", "spawn", "forkserver")},
    }
    report(figures, args.json)


if __name__ == "__main__":
    main()
