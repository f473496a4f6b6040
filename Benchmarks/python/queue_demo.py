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

JSON (the only stdout line with --json):
    {"demo": "queue", "language": "python", "kind": "queue",
     "runs": [{"count": 10000, "seconds": 0.05, "messages_per_s": 200000.0}, ...]}
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


def main():
    parser = argparse.ArgumentParser(description="Demo #6: numbers through a Queue to a reader process")
    parser.add_argument("--counts", default="10000,100000,1000000")
    parser.add_argument("--kind", choices=["queue", "simple", "pipe"], default="queue")
    parser.add_argument("--json", action="store_true", help="print only one JSON object")
    args = parser.parse_args()
    counts = [int(text) for text in args.counts.split(",") if text]

    runs = []
    if args.kind == "pipe":
        for count in counts:
            reader_end, writer_end = Pipe(duplex=False)
            reader_p = Process(target=pipe_reader, args=(reader_end,))
            reader_p.daemon = True
            reader_p.start()
            _start = time.time()
            pipe_writer(count, writer_end)
            reader_p.join()
            runs.append((count, time.time() - _start))
    else:
        pqueue = Queue() if args.kind == "queue" else SimpleQueue()
        for count in counts:
            ### reader_proc() reads from pqueue as a separate process
            reader_p = Process(target=reader_proc, args=((pqueue),))
            reader_p.daemon = True
            reader_p.start()          # Launch reader_proc() as a separate python process

            _start = time.time()
            writer(count, pqueue)     # Send a lot of stuff to reader()
            reader_p.join()           # Wait for the reader to finish
            runs.append((count, time.time() - _start))

    if args.json:
        print(json.dumps({"demo": "queue", "language": "python", "kind": args.kind,
                          "runs": [{"count": count, "seconds": seconds,
                                    "messages_per_s": count / seconds} for count, seconds in runs]}),
              flush=True)
        return
    name = {"queue": "Queue()", "simple": "SimpleQueue()", "pipe": "Pipe()"}[args.kind]
    for count, seconds in runs:
        print("Sending {0} numbers to {1} took {2} seconds".format(count, name, seconds))


if __name__ == "__main__":
    main()
