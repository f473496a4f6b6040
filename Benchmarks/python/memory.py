#!/usr/bin/env python3
"""The "Initial Memory Setup for Python Multiprocessing" slide of
"Parallel Computing in Python" (Gill & Fantell).

A global ``result = []`` lives in the parent.  A child process created with
multiprocessing.Process appends the squares of [1, 2, 3, 4] to *its own*
copy of that global and prints it; after join() the parent prints its own,
still empty, list -- processes do not share memory:

    Result(in process p1): [1, 4, 9, 16]
    Result(in main program): []

For ``--json`` only, the child additionally sends its list back through a
multiprocessing.Pipe so that the JSON can show what the child saw; the
slide's code path is otherwise unchanged.

Swift side: ``swift run -c release mpdemo memory --vs-python`` runs the
Swift port (a Process closure mutating a global array) and this script with
``--json``, and prints both side by side.

Usage:
    python3 memory.py [--json]

JSON (the only stdout line with --json; the child's print is suppressed):
    {"demo": "memory", "language": "python", "child": [1, 4, 9, 16],
     "parent": []}
"""

import argparse
import json
import multiprocessing

# empty list with global scope
result = []


def square_list(mylist, conn=None, quiet=False):
    """
    function to square a given list
    """
    global result
    # append squares of mylist to global list result
    for num in mylist:
        result.append(num * num)
    # print global list result
    if not quiet:
        print("Result(in process p1): {}".format(result), flush=True)
    # (JSON only) send the child's copy back to the parent
    if conn is not None:
        conn.send(result)
        conn.close()


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


def main():
    parser = argparse.ArgumentParser(
        description="Initial Memory Setup: a child's changes to a global "
                    "are not seen by the parent")
    parser.add_argument("--json", action="store_true",
                        help="print only one JSON object")
    args = parser.parse_args()

    # input list
    mylist = [1, 2, 3, 4]

    if not args.json:
        # creating new process
        p1 = multiprocessing.Process(target=square_list, args=(mylist,))
        # starting process
        p1.start()
        # wait until process is finished
        p1.join()

        # print global result list
        print("Result(in main program): {}".format(result))
        return

    recv_end, send_end = multiprocessing.Pipe(duplex=False)
    p1 = multiprocessing.Process(target=square_list,
                                 args=(mylist, send_end, True))
    p1.start()
    send_end.close()  # keep only the child's copy of the write end open
    child = recv_end.recv()
    recv_end.close()
    p1.join()
    if p1.exitcode != 0:
        raise SystemExit(f"child process exited with code {p1.exitcode}")

    print(json.dumps({
        "demo": "memory",
        "language": "python",
        "child": child,
        "parent": result,
    }), flush=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_helper_processes()
