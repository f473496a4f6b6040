#!/usr/bin/env python3
"""Manager rows of ``mpdemo bench``: operations per second through ``multiprocessing.Manager()``
from 2 processes at once: ``list.append``, and ``dict`` set then get. The clock runs from the
moment both processes are released (an Event) until both are joined, so process start-up is not
counted.

Usage:
    python3 manager_bench.py [--count 5000] [--json]

JSON (the only stdout line with --json):
    {"demo": "manager-bench", "language": "python", "list_append_per_s": ..., "dict_set_get_per_s": ...}
"""

import argparse
import os
import time
from multiprocessing import Event, Manager, Process
from bench_output import report


def appender(shared, count, go):
    len(shared)  # connected before the clock starts, as the Swift side is
    go.wait()
    for i in range(count):
        shared.append(i)


def dict_worker(shared, count, go):
    len(shared)
    go.wait()
    tag = f"{os.getpid()}-"
    for i in range(count):
        shared[f"{tag}{i}"] = i
    for i in range(count):
        assert shared[f"{tag}{i}"] == i


def timed(target, arguments_for):
    """Seconds from releasing 2 processes running ``target`` to joining both."""
    go = Event()
    processes = [Process(target=target, args=(*arguments_for(index), go)) for index in range(2)]
    for process in processes:
        process.start()
    time.sleep(0.2)  # let both reach the event: Python offers no cheaper way to know
    start = time.perf_counter()
    go.set()
    for process in processes:
        process.join()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with Manager() as manager:
        shared_list = manager.list()
        seconds = timed(appender, lambda index: (shared_list, args.count))
        assert len(shared_list) == 2 * args.count
        list_rate = 2 * args.count / seconds
        shared_dict = manager.dict()
        seconds = timed(dict_worker, lambda index: (shared_dict, args.count))
        dict_rate = 4 * args.count / seconds
    figures = {
        "demo": "manager-bench",
        "language": "python",
        "list_append_per_s": list_rate,
        "dict_set_get_per_s": dict_rate,
    }
    report(figures, args.json)


if __name__ == "__main__":
    main()
