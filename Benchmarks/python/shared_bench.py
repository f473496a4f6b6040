#!/usr/bin/env python3
"""Shared-memory rows of ``mpdemo bench``, measured with CPython's multiprocessing.

- locked increments: a ``Value('q')`` incremented under ``get_lock()`` by two processes at once;
- uncontended lock: ``multiprocessing.Lock`` acquire + release pairs in one process;
- bandwidth: copying into a ``shared_memory.SharedMemory`` buffer and back out (memoryview slices);
- a big array to a child: ``count`` int64 values handed to a new ``Process`` (spawn) and summed there,
  once as pickled bytes in the arguments and once through ``shared_memory.SharedMemory`` by name
  (numpy sums if it is installed, else ``sum(memoryview.cast('q'))``).

Usage: python3 shared_bench.py [--increments N] [--lock-ops N] [--bandwidth-mib M] [--big-mib M] [--json]
"""

import argparse
import multiprocessing
import time
from multiprocessing import shared_memory
from bench_output import report

try:
    import numpy
except ImportError:  # the standard library only
    numpy = None


def increment(counter, count, ready=None, go=None):
    if ready is not None:
        ready.set()
        go.wait()
    for _ in range(count):
        with counter.get_lock():
            counter.value += 1


def total_of(buffer):
    if numpy is not None:
        return int(numpy.frombuffer(buffer, dtype=numpy.int64).sum())
    return sum(memoryview(buffer).cast('q'))


def sum_pickled(data, queue):
    queue.put(total_of(data))


def sum_shared(name, queue):
    segment = shared_memory.SharedMemory(name=name)
    try:
        queue.put(total_of(segment.buf))
    finally:
        segment.close()


def locked_increments(count):
    counter = multiprocessing.Value('q', 0)
    ready, go = multiprocessing.Event(), multiprocessing.Event()
    child = multiprocessing.Process(target=increment, args=(counter, count, ready, go))
    child.start()
    ready.wait()  # the child's start is not what is measured
    start = time.perf_counter()
    go.set()
    increment(counter, count)
    child.join()
    seconds = time.perf_counter() - start
    assert counter.value == 2 * count
    return 2 * count / seconds


def uncontended_lock(count):
    lock = multiprocessing.Lock()
    start = time.perf_counter()
    for _ in range(count):
        lock.acquire()
        lock.release()
    return count / (time.perf_counter() - start)


def bandwidth(mib):
    size = mib << 20
    source = bytes([0x5A]) * size
    segment = shared_memory.SharedMemory(create=True, size=size)
    try:
        start = time.perf_counter()
        for _ in range(4):
            segment.buf[:size] = source
            copy = bytes(segment.buf[:size])
        seconds = time.perf_counter() - start
        assert copy[-1] == 0x5A
    finally:
        segment.close()
        segment.unlink()
    return 2 * 4 * size / seconds / 1e6


def big_array(mib):
    count = (mib << 20) // 8
    data = (1).to_bytes(8, 'little') * count
    queue = multiprocessing.Queue()
    start = time.perf_counter()
    child = multiprocessing.Process(target=sum_pickled, args=(data, queue))
    child.start()
    total = queue.get()
    child.join()
    pickled = time.perf_counter() - start
    assert total == count

    segment = shared_memory.SharedMemory(create=True, size=len(data))
    try:
        segment.buf[:len(data)] = data
        start = time.perf_counter()
        child = multiprocessing.Process(target=sum_shared, args=(segment.name, queue))
        child.start()
        total = queue.get()
        child.join()
        shared = time.perf_counter() - start
        assert total == count
    finally:
        segment.close()
        segment.unlink()
    return pickled, shared


def answer_lengths(conn):
    """Receives arrays (bytes, or a SharedMemory name) and answers each with its int64 count."""
    while True:
        try:
            item = conn.recv()
        except EOFError:
            return
        if isinstance(item, str):
            segment = shared_memory.SharedMemory(name=item)
            conn.send(segment.size // 8)
            segment.close()
        else:
            conn.send(len(item) // 8)


def big_array_hand_off(mib):
    """Seconds to hand the array to a process already running and get its count back, the
    fastest of 5: pickled through a Pipe, and by name as a SharedMemory segment."""
    count = (mib << 20) // 8
    data = (1).to_bytes(8, 'little') * count
    parent, child_end = multiprocessing.Pipe()
    child = multiprocessing.Process(target=answer_lengths, args=(child_end,))
    child.start()
    child_end.close()
    segment = shared_memory.SharedMemory(create=True, size=len(data))
    try:
        segment.buf[:len(data)] = data
        results = []
        for item in (data, segment.name):
            fastest = float("inf")
            for _ in range(5):
                start = time.perf_counter()
                parent.send(item)
                received = parent.recv()
                fastest = min(fastest, time.perf_counter() - start)
                assert received == count
            results.append(fastest)
    finally:
        segment.close()
        segment.unlink()
        parent.close()
        child.join()
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--increments", type=int, default=100_000)
    parser.add_argument("--lock-ops", type=int, default=1_000_000)
    parser.add_argument("--bandwidth-mib", type=int, default=64)
    parser.add_argument("--big-mib", type=int, default=256)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    multiprocessing.set_start_method("spawn")
    pickled, shared = big_array(args.big_mib)
    hand_off_pickled, hand_off_shared = big_array_hand_off(args.big_mib)
    figures = {
        "demo": "shared-bench",
        "language": "python",
        "numpy": numpy is not None,
        "locked_increments_per_s": locked_increments(args.increments),
        "uncontended_lock_per_s": uncontended_lock(args.lock_ops),
        "bandwidth_mb_s": bandwidth(args.bandwidth_mib),
        "big_array_pickled_s": pickled,
        "big_array_shared_memory_s": shared,
        "hand_off_pickled_s": hand_off_pickled,
        "hand_off_shared_memory_s": hand_off_shared,
    }
    report(figures, args.json)


if __name__ == "__main__":
    main()
