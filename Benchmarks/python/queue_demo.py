#!/usr/bin/env python3
"""Demo #6 of "Parallel Computing in Python" (Gill & Fantell): multiprocessing.Queue.

As on the slide (after Mike Pennington's answer on Stack Overflow): a reader
process gets from the queue until 'DONE'; the writer puts `count` integers,
then 'DONE'; the time covers the writes and the reader's join. ``--kind
simple`` uses ``SimpleQueue`` and ``--kind pipe`` the ``Pipe`` the slide
compares with ("Queue is built on top of Pipe (slower than Pipe)").

Swift side: ``swift run -c release mpdemo queue --vs-python``.

Usage:
    python3 queue_demo.py [--counts 10000,100000,1000000] [--kind queue|simple|pipe] [--json]

``--kind`` may list several kinds (``queue,simple,pipe``), as ``mpdemo bench`` does.

JSON (the only stdout line with --json):
    {"demo": "queue", "language": "python", "kind": "queue",
     "runs": [{"count": 10000, "seconds": 0.05, "messages_per_s": 200000.0}, ...],
     "by_kind": {"queue": {"10000": 200000.0, ...}}}
"""

import argparse
import json
import time
from multiprocessing import Pipe, Process, Queue, SimpleQueue


def reader_proc(queue):
    ## Read from the queue; this will be spawned as a separate Process
    while True:
        msg = queue.get()          # Read from the queue and do nothing
        if (msg == 'DONE'):
            break


def writer(count, queue):
    ## Write to the queue
    for ii in range(0, count):
        queue.put(ii)              # Write 'count' numbers into the queue
    queue.put('DONE')


def pipe_reader(conn):
    while True:
        if conn.recv() == 'DONE':
            break


def pipe_writer(count, conn):
    for ii in range(0, count):
        conn.send(ii)
    conn.send('DONE')


def run_kind(kind, counts):
    """[(count, seconds)] for one kind, as the slide times it."""
    runs = []
    if kind == "pipe":
        for count in counts:
            reader_end, writer_end = Pipe(duplex=False)
            reader_p = Process(target=pipe_reader, args=(reader_end,))
            reader_p.daemon = True
            reader_p.start()
            _start = time.time()
            pipe_writer(count, writer_end)
            reader_p.join()
            runs.append((count, time.time() - _start))
        return runs
    pqueue = Queue() if kind == "queue" else SimpleQueue()
    for count in counts:
        ### reader_proc() reads from pqueue as a separate process
        reader_p = Process(target=reader_proc, args=((pqueue),))
        reader_p.daemon = True
        reader_p.start()          # Launch reader_proc() as a separate python process

        _start = time.time()
        writer(count, pqueue)     # Send a lot of stuff to reader()
        reader_p.join()           # Wait for the reader to finish
        runs.append((count, time.time() - _start))
    return runs


def main():
    parser = argparse.ArgumentParser(description="Demo #6: numbers through a Queue to a reader process")
    parser.add_argument("--counts", default="10000,100000,1000000")
    parser.add_argument("--kind", default="queue", help="queue, simple or pipe; or several, comma-separated")
    parser.add_argument("--json", action="store_true", help="print only one JSON object")
    args = parser.parse_args()
    counts = [int(text) for text in args.counts.split(",") if text]

    kinds = [kind for kind in args.kind.split(",") if kind]
    for kind in kinds:
        if kind not in ("queue", "simple", "pipe"):
            parser.error(f"unknown kind {kind!r}: use queue, simple or pipe")
    by_kind = {}
    for kind in kinds:
        by_kind[kind] = run_kind(kind, counts)
    runs = by_kind[kinds[0]]

    if args.json:
        print(json.dumps({"demo": "queue", "language": "python", "kind": kinds[0],
                          "runs": [{"count": count, "seconds": seconds,
                                    "messages_per_s": count / seconds} for count, seconds in runs],
                          "by_kind": {kind: {str(count): count / seconds for count, seconds in kind_runs}
                                      for kind, kind_runs in by_kind.items()}}),
              flush=True)
        return
    for kind, kind_runs in by_kind.items():
        name = {"queue": "Queue()", "simple": "SimpleQueue()", "pipe": "Pipe()"}[kind]
        for count, seconds in kind_runs:
            print("Sending {0} numbers to {1} took {2} seconds".format(count, name, seconds))


if __name__ == "__main__":
    main()
