#!/usr/bin/env python3
"""Demo #2 of "Parallel Computing in Python" (Gill & Fantell): multiprocessing.Pool.

    with Pool(num_tasks) as p:
        print(p.map(Fibonacci_driver, [40, 40, 40, 40, 40]))

prints the list of results and "Processes completed their tasks in S s!".

Swift side: ``swift run -c release mpdemo pool --vs-python``.

Usage:
    python3 pool_demo.py [--n 40] [--workers 5] [--tasks 5] [--json]

JSON (the only stdout line with --json):
    {"demo": "pool", "language": "python", "n": 40, "workers": 5, "tasks": 5,
     "results": [63245986, ...], "seconds": 60.0}
"""

import argparse
import json
import time
from multiprocessing import Pool

from speed_test import Fibonacci_driver  # the slide's recursive Fibonacci, shared with Demo #1


def main():
    parser = argparse.ArgumentParser(description="Demo #2: Pool.map of Fibonacci_driver")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print only one JSON object")
    args = parser.parse_args()

    start = time.time()
    with Pool(args.workers) as p:
        results = p.map(Fibonacci_driver, [args.n] * args.tasks)
    p.join()
    end = time.time()
    process_duration = end - start
    if args.json:
        print(json.dumps({"demo": "pool", "language": "python", "n": args.n, "workers": args.workers,
                          "tasks": args.tasks, "results": results, "seconds": process_duration}), flush=True)
        return
    print(results)
    print(f"Processes completed their tasks in {process_duration} s!\n")


if __name__ == "__main__":
    main()
