#!/usr/bin/env python3
"""MPI ping-pong through mpi4py: the Python peer of ../mpi/pingpong.c and of the
Swift MPI wrapper's ping-pong in the demo CLI.

Ranks 0 and 1 of MPI_COMM_WORLD bounce one message back and forth (tag 0): rank 0
sends, rank 1 receives and sends it back, rank 0 receives -- one round trip, timed
with MPI.Wtime() on rank 0 after a warm-up and a barrier, in two flavours:

  pickle API  comm.send(obj) / comm.recv() of a ``bytes`` object (pickled, so the
              wire message is a little longer than the payload);
  buffer API  comm.Send / comm.Recv of a ``bytearray`` as MPI.BYTE (no numpy),
              the same calls as the C program's MPI_Send / MPI_Recv.

  (a) 8-byte payload: 1000 warm-up round trips, then N timed;
      one-way latency in microseconds = seconds / N / 2 * 1e6.
  (b) 1 MiB (1048576-byte) payload: 100 warm-up round trips, then M = max(10, N // 10)
      timed; bandwidth in GB/s = 2 * 1048576 * M / seconds / 1e9 (both directions,
      GB = 10**9 bytes).

Usage (exactly two ranks; as root Open MPI needs --allow-run-as-root):
    mpirun --allow-run-as-root -np 2 python3 mpi_pingpong.py [--iterations N (10000)] [--json]

Needs mpi4py (``pip install mpi4py``); exits 3 without it, 2 unless the world size is 2.

JSON (the only stdout line with --json, printed by rank 0):
    {"demo": "mpi-pingpong", "language": "python", "iterations": N, "bandwidth_iterations": M,
     "latency_8b_us": ..., "latency_8b_buffer_us": ...,
     "latency_1mib_us": ..., "latency_1mib_buffer_us": ...,
     "bandwidth_1mib_gbps": ..., "bandwidth_1mib_buffer_gbps": ...}
(the first of each pair is the pickle API, the ``_buffer`` one the buffer API).
"""

import argparse
import contextlib
import io
import sys

from bench_output import import_mpi4py, report

MPI = import_mpi4py("mpi_pingpong.py")

SMALL_BYTES = 8
LARGE_BYTES = 1024 * 1024
SMALL_WARMUP = 1000
LARGE_WARMUP = 100


def pickle_round_trip(comm, nbytes):
    payload = bytes(nbytes)
    if comm.Get_rank() == 0:
        def round_trip():
            comm.send(payload, dest=1, tag=0)
            comm.recv(source=1, tag=0)
    else:
        def round_trip():
            comm.send(comm.recv(source=0, tag=0), dest=0, tag=0)
    return round_trip


def buffer_round_trip(comm, nbytes):
    message = [bytearray(nbytes), MPI.BYTE]
    if comm.Get_rank() == 0:
        def round_trip():
            comm.Send(message, dest=1, tag=0)
            comm.Recv(message, source=1, tag=0)
    else:
        def round_trip():
            comm.Recv(message, source=0, tag=0)
            comm.Send(message, dest=0, tag=0)
    return round_trip


def timed(comm, round_trip, warmup, n):
    """Seconds for n round trips after warmup ones (meaningful on rank 0)."""
    comm.Barrier()
    for _ in range(warmup):
        round_trip()
    start = MPI.Wtime()
    for _ in range(n):
        round_trip()
    return MPI.Wtime() - start


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def parse_args(comm):
    """argparse on every rank, but only rank 0 shows usage, help or errors."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=positive_int, default=10_000,
                        help="8-byte round trips (default 10000); 1 MiB ones: max(10, N // 10)")
    parser.add_argument("--json", action="store_true")
    if comm.Get_rank() == 0:
        return parser.parse_args()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return parser.parse_args()


def main():
    comm = MPI.COMM_WORLD
    args = parse_args(comm)
    if comm.Get_size() != 2:
        if comm.Get_rank() == 0:
            print(f"mpi_pingpong.py: needs exactly 2 MPI ranks, world size is {comm.Get_size()} "
                  "(run: mpirun --allow-run-as-root -np 2 python3 mpi_pingpong.py)", file=sys.stderr)
        sys.exit(2)

    n = args.iterations
    bw_n = max(10, n // 10)
    small = timed(comm, pickle_round_trip(comm, SMALL_BYTES), SMALL_WARMUP, n)
    small_buffer = timed(comm, buffer_round_trip(comm, SMALL_BYTES), SMALL_WARMUP, n)
    large = timed(comm, pickle_round_trip(comm, LARGE_BYTES), LARGE_WARMUP, bw_n)
    large_buffer = timed(comm, buffer_round_trip(comm, LARGE_BYTES), LARGE_WARMUP, bw_n)

    if comm.Get_rank() == 0:
        report({
            "demo": "mpi-pingpong",
            "language": "python",
            "iterations": n,
            "bandwidth_iterations": bw_n,
            "latency_8b_us": small / n / 2 * 1e6,
            "latency_8b_buffer_us": small_buffer / n / 2 * 1e6,
            "latency_1mib_us": large / bw_n / 2 * 1e6,
            "latency_1mib_buffer_us": large_buffer / bw_n / 2 * 1e6,
            "bandwidth_1mib_gbps": 2 * LARGE_BYTES * bw_n / large / 1e9,
            "bandwidth_1mib_buffer_gbps": 2 * LARGE_BYTES * bw_n / large_buffer / 1e9,
        }, args.json)


if __name__ == "__main__":
    main()
