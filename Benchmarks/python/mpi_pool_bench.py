#!/usr/bin/env python3
"""Tiny-task rate of mpi4py.futures.MPIPoolExecutor: the MPI peer of pool_bench.py's
tiny-task rows, for the Swift MPI wrapper's task pool in the demo CLI.

With one executor and its workers up (a warm-up ``map`` of 10 tasks first), tasks
``twice(x) = x * 2`` per second through
  map_chunk1_per_second   executor.map(twice, range(count), chunksize=1)
  map_chunked_per_second  executor.map(twice, range(count), chunksize=count // (4 * workers)),
                          like multiprocessing's automatic chunk size
  submit_per_second       executor.submit(twice, x) for each x, then wait for every future
Each rate is count / seconds from the first call until all results are back (time.perf_counter).

Run it as (rank 0 runs this script, ranks 1 and 2 serve as the pool's 2 workers):
    mpirun --allow-run-as-root --oversubscribe -np 3 python3 -m mpi4py.futures mpi_pool_bench.py [--count 20000] [--json]
or as a singleton, where MPIPoolExecutor(max_workers=2) spawns the workers with
MPI_Comm_spawn (Open MPI counts free slots = cores, so the spawn asks to oversubscribe):
    python3 mpi_pool_bench.py [--count 20000] [--json]
Both work with Open MPI 4.1.4 and mpi4py 4.1.  Plain ``mpirun -np 3 python3 mpi_pool_bench.py``
(without ``-m mpi4py.futures``) is refused.

Needs mpi4py (``pip install mpi4py``); exits 3 without it, 2 on misuse, 4 if the workers
never come up (a failed spawn makes MPIPoolExecutor wait forever).

JSON (the only stdout line with --json):
    {"demo": "mpi-pool-bench", "language": "python", "mode": "mpi4py.futures" | "spawn",
     "workers": 2, "count": ..., "chunksize": ..., "map_chunk1_per_second": ...,
     "map_chunked_per_second": ..., "submit_per_second": ...}
"""

import argparse
import os
import sys
import threading
import time

from bench_output import import_mpi4py, report

MPI = import_mpi4py("mpi_pool_bench.py")
from mpi4py.futures import MPIPoolExecutor  # noqa: E402 (after the check above)

BOOTUP_TIMEOUT_S = 60


def twice(x):
    return x * 2


def launched_by_mpi4py_futures():
    """True under ``python3 -m mpi4py.futures``, whose shared pool mpi4py keeps in a private global."""
    from mpi4py.futures import _core
    return getattr(_core, "SharedPool", None) is not None


def bootup(executor):
    """executor.bootup(), but exit instead of hanging forever if the workers never come up."""
    booter = threading.Thread(target=executor.bootup, daemon=True)
    booter.start()
    booter.join(BOOTUP_TIMEOUT_S)
    if booter.is_alive():
        print(f"mpi_pool_bench.py: no MPIPoolExecutor workers after {BOOTUP_TIMEOUT_S} s", file=sys.stderr)
        sys.stderr.flush()
        os._exit(4)


def tiny_map(executor, count, chunksize):
    start = time.perf_counter()
    results = list(executor.map(twice, range(count), chunksize=chunksize))
    seconds = time.perf_counter() - start
    assert results[-1] == 2 * (count - 1)
    return count / seconds


def tiny_submit(executor, count):
    start = time.perf_counter()
    futures = [executor.submit(twice, x) for x in range(count)]
    total = sum(future.result() for future in futures)
    seconds = time.perf_counter() - start
    assert total == count * (count - 1)
    return count / seconds


def main():
    comm = MPI.COMM_WORLD
    shared = launched_by_mpi4py_futures()
    if comm.Get_size() > 1 and not shared:
        if comm.Get_rank() == 0:
            print("mpi_pool_bench.py: under mpirun, run it through mpi4py.futures: mpirun --allow-run-as-root "
                  "--oversubscribe -np 3 python3 -m mpi4py.futures mpi_pool_bench.py", file=sys.stderr)
        sys.exit(2)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be >= 1")

    if shared:  # ranks 1.. of MPI_COMM_WORLD are the workers already
        executor = MPIPoolExecutor()
    else:       # spawn 2 workers; "map_by :OVERSUBSCRIBE" is Open MPI's spawn info key for it
        executor = MPIPoolExecutor(max_workers=2, mpi_info={"map_by": ":OVERSUBSCRIBE"})
    with executor:
        bootup(executor)
        workers = executor.num_workers
        chunksize = max(1, args.count // (4 * workers))
        assert list(executor.map(twice, range(10))) == [2 * x for x in range(10)]
        figures = {
            "demo": "mpi-pool-bench",
            "language": "python",
            "mode": "mpi4py.futures" if shared else "spawn",
            "workers": workers,
            "count": args.count,
            "chunksize": chunksize,
            "map_chunk1_per_second": tiny_map(executor, args.count, 1),
            "map_chunked_per_second": tiny_map(executor, args.count, chunksize),
            "submit_per_second": tiny_submit(executor, args.count),
        }
    report(figures, args.json)


if __name__ == "__main__":
    main()
