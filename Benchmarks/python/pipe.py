#!/usr/bin/env python3
"""The Pipe slide of "Parallel Computing in Python" (Gill & Fantell):
"Pipe: pair of connection objects that facilitate communication between
two processes".

multiprocessing.Pipe() returns two Connection objects; a child process
sends Python objects through its end and the parent receives them from the
other.  The demo part sends a number, None, a string and a list and the
parent prints each one as it arrives:

    received: 42
    received: None
    received: hello
    received: [1, 2, 3]

Then three measurements (each with a fresh Pipe and child process; process
start-up is not timed):

  (a) round trip -- the child echoes small ints; the parent does N
      ``send`` + ``recv`` pairs; reported as microseconds per round trip;
  (b) one-way rate -- the parent ``send``s M small ints to a child that
      receives them all and then sends back the count; timed from the first
      send until the count arrives; reported as messages per second;
  (c) bandwidth -- a K MiB ``bytes`` payload is sent with ``send_bytes`` to a
      child that receives it with ``recv_bytes`` and answers with a 1-byte
      ack, repeated R times (R = 64 for 1 MiB, i.e. 64 MiB in total);
      reported in MB/s (MB = 10**6 bytes), next to an in-process baseline
      that copies the same payload R times (memoryview slice assignment
      into a preallocated bytearray, i.e. a plain memcpy).

Swift side: ``swift run -c release mpdemo pipe --vs-python`` runs the same
demo and measurements with swift-multiprocessing's Pipe/Connection and then
this script with ``--json`` and the same sizes, and prints both side by
side with ratios.

Usage:
    python3 pipe.py [--round-trips N (10000)] [--messages M (1000000)]
                    [--payload-mib K (1)] [--json]

JSON (the only stdout line with --json):
    {"demo": "pipe", "language": "python", "round_trips": N,
     "round_trip_us": ..., "messages": M, "one_way_msgs_per_s": ...,
     "payload_bytes": ..., "bandwidth_mb_s": ..., "memcpy_mb_s": ...,
     "received": [42, null, "hello", [1, 2, 3]],
     "bandwidth_reps": R, "start_method": ...}
"""

import argparse
import json
import math
import multiprocessing
import time

MIB = 1024 * 1024
WARMUP_ROUND_TRIPS = 100
BANDWIDTH_TOTAL_BYTES = 64 * MIB   # 64 repetitions of a 1 MiB payload
MAX_BANDWIDTH_REPS = 100_000


# ----------------------------------------------------------------- children

def demo_sender(conn):
    # The slide's child: send a few different Python objects.
    for obj in (42, None, "hello", [1, 2, 3]):
        conn.send(obj)
    conn.close()


def echo_child(conn):
    # Echo every object back; None ends the loop.
    while True:
        obj = conn.recv()
        if obj is None:
            break
        conn.send(obj)
    conn.close()


def counting_child(conn):
    # Receive everything until None, then report how many objects arrived.
    count = 0
    while True:
        obj = conn.recv()
        if obj is None:
            break
        count += 1
    conn.send(count)
    conn.close()


def bytes_sink_child(conn):
    # Receive raw byte messages, ack each with one byte; b"" ends the loop.
    while True:
        data = conn.recv_bytes()
        if not data:
            break
        conn.send_bytes(b"\x01")
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


# ------------------------------------------------------------------ helpers

def start_child(target):
    parent_conn, child_conn = multiprocessing.Pipe()
    p = multiprocessing.Process(target=target, args=(child_conn,))
    p.start()
    child_conn.close()  # the parent keeps only its own end
    return parent_conn, p


def finish_child(conn, p):
    conn.close()
    p.join()
    if p.exitcode != 0:
        raise SystemExit(f"child process exited with code {p.exitcode}")


def run_demo(quiet):
    conn, p = start_child(demo_sender)
    received = []
    for _ in range(4):
        obj = conn.recv()
        received.append(obj)
        if not quiet:
            print(f"received: {obj}", flush=True)
    finish_child(conn, p)
    return received


def measure_round_trip(n):
    conn, p = start_child(echo_child)
    for i in range(WARMUP_ROUND_TRIPS):
        conn.send(i)
        if conn.recv() != i:
            raise SystemExit("echo mismatch during warm-up")
    start = time.perf_counter()
    for i in range(n):
        conn.send(i)
        conn.recv()
    elapsed = time.perf_counter() - start
    conn.send(None)
    finish_child(conn, p)
    return elapsed / n * 1e6


def measure_one_way(m):
    conn, p = start_child(counting_child)
    send = conn.send
    start = time.perf_counter()
    for i in range(m):
        send(i)
    send(None)
    count = conn.recv()
    elapsed = time.perf_counter() - start
    finish_child(conn, p)
    if count != m:
        raise SystemExit(f"child counted {count} messages, expected {m}")
    return m / elapsed


def measure_bandwidth(payload_bytes, reps):
    payload = bytes(range(256)) * (payload_bytes // 256) + bytes(payload_bytes % 256)
    assert len(payload) == payload_bytes

    conn, p = start_child(bytes_sink_child)
    conn.send_bytes(payload)          # warm-up
    conn.recv_bytes()
    start = time.perf_counter()
    for _ in range(reps):
        conn.send_bytes(payload)
        conn.recv_bytes()
    elapsed = time.perf_counter() - start
    conn.send_bytes(b"")
    finish_child(conn, p)
    bandwidth = payload_bytes * reps / elapsed / 1e6

    # In-process baseline: copy the same bytes the same number of times.
    buf = bytearray(payload_bytes)
    view = memoryview(buf)
    view[:] = payload                 # warm-up (faults the pages in)
    start = time.perf_counter()
    for _ in range(reps):
        view[:] = payload
    elapsed = time.perf_counter() - start
    view.release()
    memcpy = payload_bytes * reps / elapsed / 1e6
    return bandwidth, memcpy


def main():
    parser = argparse.ArgumentParser(
        description="multiprocessing.Pipe demo and round-trip / message-rate "
                    "/ bandwidth measurements")
    parser.add_argument("--round-trips", type=int, default=10_000,
                        help="send+recv pairs for the round-trip test (default 10000)")
    parser.add_argument("--messages", type=int, default=1_000_000,
                        help="small ints sent one way (default 1000000)")
    parser.add_argument("--payload-mib", type=float, default=1,
                        help="payload size in MiB for the bandwidth test (default 1)")
    parser.add_argument("--json", action="store_true",
                        help="print only one JSON object")
    args = parser.parse_args()
    if args.round_trips < 1:
        parser.error("--round-trips must be >= 1")
    if args.messages < 1:
        parser.error("--messages must be >= 1")
    payload_bytes = int(args.payload_mib * MIB)
    if payload_bytes < 1:
        parser.error("--payload-mib must give at least one byte")
    reps = max(1, min(MAX_BANDWIDTH_REPS,
                      math.ceil(BANDWIDTH_TOTAL_BYTES / payload_bytes)))
    quiet = args.json

    received = run_demo(quiet)
    round_trip_us = measure_round_trip(args.round_trips)
    msgs_per_s = measure_one_way(args.messages)
    bandwidth, memcpy = measure_bandwidth(payload_bytes, reps)

    if quiet:
        print(json.dumps({
            "demo": "pipe",
            "language": "python",
            "round_trips": args.round_trips,
            "round_trip_us": round_trip_us,
            "messages": args.messages,
            "one_way_msgs_per_s": msgs_per_s,
            "payload_bytes": payload_bytes,
            "bandwidth_mb_s": bandwidth,
            "memcpy_mb_s": memcpy,
            "received": received,
            "bandwidth_reps": reps,
            "start_method": multiprocessing.get_start_method(),
        }), flush=True)
        return

    print()
    print(f"start method: {multiprocessing.get_start_method()}")
    print(f"round trip ({args.round_trips} send+recv pairs): "
          f"{round_trip_us:.2f} us per round trip")
    print(f"one-way ({args.messages} small ints): "
          f"{msgs_per_s:,.0f} messages/s")
    print(f"bandwidth ({payload_bytes} bytes x {reps}, send_bytes/recv_bytes): "
          f"{bandwidth:,.1f} MB/s")
    print(f"in-process copy of the same bytes (memcpy baseline): "
          f"{memcpy:,.1f} MB/s")


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_helper_processes()
