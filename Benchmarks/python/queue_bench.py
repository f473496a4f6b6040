#!/usr/bin/env python3
"""Queue rows of ``mpdemo bench`` beyond Demo 6: the round trip through two
``multiprocessing.Queue``s to a child and back, and the message rate with 4
producer and 4 consumer processes on one queue (the "many producers and many
consumers" the slide recommends Queue for), timed from the moment every
producer is ready, as on the Swift side.

Usage:
    python3 queue_bench.py [--round-trips N] [--per-producer N] [--json]

JSON (the only stdout line with --json):
    {"demo": "queue-bench", "language": "python", "round_trip_us": 60.0,
     "many_to_many_per_s": 150000.0}
"""

import argparse
import time
from multiprocessing import Event, Process, Queue, Semaphore
from bench_output import report


def echo(requests, replies):
    while True:
        item = requests.get()
        if item is None:
            return
        replies.put(item)


def count_until_none(queue, results):
    received = 0
    while queue.get() is not None:
        received += 1
    results.put(received)


def fill(queue, count, ready, go):
    ready.release()
    go.wait()
    for number in range(count):
        queue.put(number)


def round_trip_us(round_trips):
    requests, replies = Queue(), Queue()
    child = Process(target=echo, args=(requests, replies), daemon=True)
    child.start()
    requests.put(-1)
    replies.get()
    start = time.perf_counter()
    for number in range(round_trips):
        requests.put(number)
        assert replies.get() == number
    seconds = time.perf_counter() - start
    requests.put(None)
    child.join()
    return seconds / round_trips * 1e6


def many_to_many(producers, consumers, per_producer):
    queue, results = Queue(), Queue()
    readers = [Process(target=count_until_none, args=(queue, results), daemon=True) for _ in range(consumers)]
    ready, go = Semaphore(0), Event()
    writers = [Process(target=fill, args=(queue, per_producer, ready, go)) for _ in range(producers)]
    for reader in readers:
        reader.start()
    for writer in writers:
        writer.start()
    for _ in writers:
        ready.acquire()
    start = time.perf_counter()
    go.set()
    for writer in writers:
        writer.join()
    for _ in readers:
        queue.put(None)
    received = sum(results.get() for _ in readers)
    for reader in readers:
        reader.join()
    seconds = time.perf_counter() - start
    assert received == producers * per_producer
    return received / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-trips", type=int, default=10_000)
    parser.add_argument("--per-producer", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = {
        "demo": "queue-bench",
        "language": "python",
        "round_trip_us": round_trip_us(args.round_trips),
        "many_to_many_per_s": many_to_many(4, 4, args.per_producer),
    }
    report(figures, args.json)


if __name__ == "__main__":
    main()
