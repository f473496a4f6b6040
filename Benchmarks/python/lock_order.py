#!/usr/bin/env python3
"""Demo #3 (threading.Lock) and Demo #4 (multiprocessing.Lock with a Manager list) of
"Parallel Computing in Python" (Gill & Fantell), as on the slides.

Workers 1..N are started in order; each takes the lock, and the even ones sleep
before appending their number to a shared list. The slides say that with the
lock the list comes out in order and without it does not. The lock is not
fair, though: which waiter gets it next, and who reaches it first, is up to
the scheduler, so "in order" holds only most of the time.

Swift side: ``swift run -c release mpdemo lock-order --vs-python``.

Usage:
    python3 lock_order.py [--threads N] [--processes] [--sleep S] [--no-lock] [--json]

JSON (the only stdout line with --json):
    {"demo": "lock-order", "language": "python", "workers": "threads",
     "lock": "threading.Lock", "list": [...], "out_of_order": 0, "seconds": 25.0}
"""

import argparse
import bisect
import json
import time
from multiprocessing import Lock as ProcessLock, Manager, Process
from threading import Lock as ThreadLock, Thread


class NoLock:
    def acquire(self):
        pass

    def release(self):
        pass


def f(l, i, shared_list, pause):
    l.acquire()
    try:
        if i % 2 == 0:
            time.sleep(pause)
            shared_list.append(i)
        else:
            shared_list.append(i)
    finally:
        l.release()


def longest_increasing_run(values):
    """The longest increasing subsequence's length: len(values) minus it is how many numbers
    landed out of order (the fewest that must move to sort the list)."""
    tails = []
    for value in values:
        position = bisect.bisect_left(tails, value)
        if position == len(tails):
            tails.append(value)
        else:
            tails[position] = value
    return len(tails)


def main():
    parser = argparse.ArgumentParser(description="Demo #3/#4: a lock and the order of appends")
    parser.add_argument("--threads", type=int, default=100, help="number of workers")
    parser.add_argument("--processes", action="store_true", help="workers are processes (Demo #4)")
    parser.add_argument("--sleep", type=float, default=0.5, help="seconds each even worker sleeps")
    parser.add_argument("--no-lock", action="store_true", help="append without the lock")
    parser.add_argument("--json", action="store_true", help="print only one JSON object")
    args = parser.parse_args()

    numbers = args.threads
    if args.processes:
        manager = Manager()
        global_list = manager.list()
        lock = NoLock() if args.no_lock else ProcessLock()
        make = Process
        lock_name = "none" if args.no_lock else "multiprocessing.Lock"
    else:
        global_list = []
        lock = NoLock() if args.no_lock else ThreadLock()
        make = Thread
        lock_name = "none" if args.no_lock else "threading.Lock"

    start = time.perf_counter()
    workers_list = []
    for i in range(numbers):
        workers_list.append(make(target=f, args=(lock, i + 1, global_list, args.sleep)))
    for i in range(numbers):
        workers_list[i].start()
    for i in range(numbers):
        workers_list[i].join()
    seconds = time.perf_counter() - start

    result = list(global_list)
    out_of_order = len(result) - longest_increasing_run(result)
    if args.json:
        print(json.dumps({"demo": "lock-order", "language": "python",
                          "workers": "processes" if args.processes else "threads",
                          "lock": lock_name, "list": result,
                          "out_of_order": out_of_order, "seconds": seconds}), flush=True)
        return
    print(result)
    print()
    print(f"{out_of_order} of {numbers} out of order, {seconds:.2f} s")


if __name__ == "__main__":
    main()
