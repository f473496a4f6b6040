#!/usr/bin/env python3
"""The "Multiprocessing Shared Memory" slide of "Parallel Computing in Python"
(Gill & Fantell).

``result = multiprocessing.Array('i', 4)`` and ``square_sum =
multiprocessing.Value('i')`` live in shared memory; a child process fills
them with the squares of [1, 2, 3, 4] and their sum, and the parent, after
join(), sees what the child wrote -- the contrast with the "Initial Memory
Setup" slide, where a plain global stays the child's own:

    Result(in process p1): [1, 4, 9, 16]
    Sum of squares(in process p1): 30
    Result(in main program): [1, 4, 9, 16]
    Sum of squares(in main program): 30

Swift side: ``swift run -c release mpdemo shared-memory --vs-python``.

Usage:
    python3 shared_memory.py [--json]

JSON (the only stdout line with --json):
    {"demo": "shared-memory", "language": "python", "result": [1, 4, 9, 16],
     "square_sum": 30}
"""

import argparse
import json
import multiprocessing


def square_list(mylist, result, square_sum, quiet=False):
    """
    function to square a given list
    """
    # append squares of mylist to result array
    for idx, num in enumerate(mylist):
        result[idx] = num * num
    # square_sum value
    square_sum.value = sum(result)
    if not quiet:
        print("Result(in process p1): {}".format(result[:]), flush=True)
        print("Sum of squares(in process p1): {}".format(square_sum.value), flush=True)


def main():
    parser = argparse.ArgumentParser(description="Shared memory: Array and Value")
    parser.add_argument("--json", action="store_true", help="print only one JSON object")
    args = parser.parse_args()

    # input list
    mylist = [1, 2, 3, 4]
    # creating Array of int data type with space for 4 integers
    result = multiprocessing.Array('i', 4)
    # creating Value of int data type
    square_sum = multiprocessing.Value('i')

    # creating new process
    p1 = multiprocessing.Process(target=square_list, args=(mylist, result, square_sum, args.json))
    p1.start()
    p1.join()
    if p1.exitcode != 0:
        raise SystemExit(f"child process exited with code {p1.exitcode}")

    if args.json:
        print(json.dumps({"demo": "shared-memory", "language": "python",
                          "result": result[:], "square_sum": square_sum.value}), flush=True)
        return
    # print result array
    print("Result(in main program): {}".format(result[:]))
    # print square_sum Value
    print("Sum of squares(in main program): {}".format(square_sum.value))


if __name__ == "__main__":
    main()
