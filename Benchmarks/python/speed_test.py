#!/usr/bin/env python3
"""Demo #1 of "Parallel Computing in Python" (Gill & Fantell):
"threading.Thread and multiprocessing.Process" -- speed_test.py.

The slide computes the naive recursive ``Fibonacci_driver(40)`` (with
fib(1) = 0, fib(2) = 1, so fib(40) = 63245986) in ``num_tasks = 5``
threading.Thread objects, then in 5 multiprocessing.Process objects, prints
how long each batch took and which one "wins".  Because of the GIL the
threads run one after another, while the processes run on separate cores.

This script reproduces that experiment line for line and adds a third,
sequential run (the same tasks called one after another in the main
process) as the baseline for speed-ups.  Timings use time.perf_counter()
instead of the slide's time.time().

Swift side: ``swift run -c release mpdemo speed-test --vs-python`` runs the
Swift port of the same demo (Thread / Process from swift-multiprocessing)
and then this script with ``--json`` and the same ``--n``/``--tasks``
(and ``--start-method`` if given), and prints both side by side.

Usage:
    python3 speed_test.py [--n 40] [--tasks 5]
                          [--start-method {fork,spawn,forkserver}] [--json]

With ``--json`` nothing but one JSON object is printed on stdout (the
``Fib n is ...`` lines of the threads, processes and sequential run are
suppressed):
    {"demo": "speed-test", "language": "python", "n": ..., "tasks": ...,
     "threads_s": ..., "processes_s": ..., "sequential_s": ...,
     "start_method": ...}
"""

import argparse
import json
import multiprocessing
import threading
import time


def Fibonacci_driver(n):
    # Exactly the slide's recursive definition.
    if n < 0:
        print("Invalid Input")
    elif n == 1:
        return 0
    elif n == 2:
        return 1
    else:
        return Fibonacci_driver(n - 1) + Fibonacci_driver(n - 2)


def Fibonacci(n, quiet=False):
    value = Fibonacci_driver(n)
    if not quiet:
        # One write per line (the slide's plain print() can interleave the
        # text and the newline of two threads finishing at the same time).
        print(f"Fib {n} is {value}\n", end="", flush=True)


def stop_helper_processes():
    """Stop and reap the forkserver / resource-tracker helper processes that
    the spawn and forkserver start methods leave running until interpreter
    exit.  Normally they exit on their own and init reaps them; stopping
    them here means the script leaves no orphans (or zombies, under an init
    that does not reap) behind.  Uses private CPython APIs, hence guarded."""
    for module_name, attr in (("multiprocessing.forkserver", "_forkserver"),
                              ("multiprocessing.resource_tracker", "_resource_tracker")):
        try:
            module = __import__(module_name, fromlist=[attr])
            getattr(module, attr)._stop()
        except Exception:
            pass


def parse_args():
    parser = argparse.ArgumentParser(
        description="Demo #1: threading.Thread vs multiprocessing.Process "
                    "(recursive Fibonacci)")
    parser.add_argument("--n", type=int, default=40,
                        help="Fibonacci index computed by every task (default 40)")
    parser.add_argument("--tasks", type=int, default=5,
                        help="number of threads / processes (default 5)")
    parser.add_argument("--start-method", choices=["fork", "spawn", "forkserver"],
                        default=None,
                        help="multiprocessing start method (default: platform default)")
    parser.add_argument("--json", action="store_true",
                        help="print only one JSON object with the timings")
    args = parser.parse_args()
    if args.n < 1:
        parser.error("--n must be >= 1 (the slide's Fibonacci_driver starts at fib(1) = 0)")
    if args.tasks < 1:
        parser.error("--tasks must be >= 1")
    return args


def main():
    args = parse_args()
    n = args.n
    num_tasks = args.tasks
    quiet = args.json
    ctx = multiprocessing.get_context(args.start_method)
    start_method = ctx.get_start_method()

    # creating thread
    start = time.perf_counter()
    threads_list = []
    for i in range(num_tasks):
        threads_list.append(threading.Thread(target=Fibonacci, args=(n, quiet)))

    for i in range(num_tasks):
        threads_list[i].start()

    for i in range(num_tasks):
        threads_list[i].join()

    end = time.perf_counter()
    thread_duration = end - start
    if not quiet:
        print(f"Threads completed their tasks in {thread_duration} s!\n", flush=True)

    # creating process
    start = time.perf_counter()
    processes_list = []

    for i in range(num_tasks):
        processes_list.append(ctx.Process(target=Fibonacci, args=(n, quiet)))

    for i in range(num_tasks):
        processes_list[i].start()

    for i in range(num_tasks):
        processes_list[i].join()

    end = time.perf_counter()
    process_duration = end - start
    for p in processes_list:
        if p.exitcode != 0:
            raise SystemExit(f"child process exited with code {p.exitcode}")
    if not quiet:
        print(f"Processes completed their tasks in {process_duration} s!\n", flush=True)

    # sequential baseline (not on the slide)
    start = time.perf_counter()
    for i in range(num_tasks):
        Fibonacci(n, quiet)
    end = time.perf_counter()
    sequential_duration = end - start

    if quiet:
        print(json.dumps({
            "demo": "speed-test",
            "language": "python",
            "n": n,
            "tasks": num_tasks,
            "threads_s": thread_duration,
            "processes_s": process_duration,
            "sequential_s": sequential_duration,
            "start_method": start_method,
        }), flush=True)
        return

    print(f"Sequential run completed in {sequential_duration} s!\n")
    print(f"Threads speed-up over sequential: "
          f"{sequential_duration / thread_duration:.2f}x")
    print(f"Processes speed-up over sequential: "
          f"{sequential_duration / process_duration:.2f}x")
    print(f"(start method: {start_method}, {multiprocessing.cpu_count()} CPUs)\n")

    if process_duration < thread_duration:
        print("Multiprocessing wins!")
    else:
        print("Multithreading wins!")


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_helper_processes()
