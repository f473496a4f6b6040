#!/usr/bin/env python3
"""Process start-up cost -- the "Large amount of overhead" point of the
Multiprocessing slide of "Parallel Computing in Python" (Gill & Fantell),
measured for each start method.

For every requested start method, ``multiprocessing.get_context(method)``
creates a Process running an empty function; ``--count`` processes are
started and joined one after another and the mean cost per process is
reported in milliseconds.  One warm-up process per method is run first and
not timed.  For ``forkserver`` the one-time start of the fork server itself
happens during that warm-up and is reported separately as
``forkserver_server_start_ms`` (launch + first process, minus the
steady-state cost of one process).

Swift side: ``swift run -c release mpdemo process-start --vs-python`` runs
the same loop with swift-multiprocessing's Process for each start method,
then this script with ``--json`` and the same ``--count``/``--methods``, and
prints both side by side.

Usage:
    python3 process_start.py [--count 20] [--methods fork,spawn,forkserver]
                             [--json]

JSON (the only stdout line with --json; a method that is not available on
this platform is reported as null):
    {"demo": "process-start", "language": "python", "count": ...,
     "ms_per_process": {"fork": ..., "spawn": ..., "forkserver": ...},
     "forkserver_server_start_ms": ...}
"""

import argparse
import json
import multiprocessing
import sys
import time

KNOWN_METHODS = ("fork", "spawn", "forkserver")


def empty():
    pass


def start_and_join(ctx):
    p = ctx.Process(target=empty)
    p.start()
    p.join()
    if p.exitcode != 0:
        raise SystemExit(f"child process exited with code {p.exitcode}")


def measure(method, count):
    ctx = multiprocessing.get_context(method)
    # Warm-up (untimed for the per-process figure).  For forkserver this
    # also starts the server: ensure_running() only launches it, and the
    # first process waits until it has finished importing/preloading.
    start = time.perf_counter()
    if method == "forkserver":
        from multiprocessing import forkserver
        forkserver.ensure_running()
    start_and_join(ctx)
    first_ms = (time.perf_counter() - start) * 1e3

    start = time.perf_counter()
    for _ in range(count):
        start_and_join(ctx)
    elapsed = time.perf_counter() - start
    ms = elapsed * 1e3 / count
    # Server start = (launch + first process) - steady-state cost of one process.
    server_ms = max(0.0, first_ms - ms) if method == "forkserver" else None
    return ms, server_ms


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
        description="start+join cost of an empty Process per start method")
    parser.add_argument("--count", type=int, default=20,
                        help="processes started and joined per method (default 20)")
    parser.add_argument("--methods", default=",".join(KNOWN_METHODS),
                        help="comma-separated start methods "
                             "(default fork,spawn,forkserver)")
    parser.add_argument("--json", action="store_true",
                        help="print only one JSON object")
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be >= 1")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for m in methods:
        if m not in KNOWN_METHODS:
            parser.error(f"unknown start method {m!r} "
                         f"(choose from {', '.join(KNOWN_METHODS)})")

    available = multiprocessing.get_all_start_methods()
    ms_per_process = {}
    server_start_ms = None
    for method in methods:
        if method not in available:
            print(f"start method {method!r} not available here; skipped",
                  file=sys.stderr)
            ms_per_process[method] = None
            continue
        ms, server_ms = measure(method, args.count)
        ms_per_process[method] = ms
        if server_ms is not None:
            server_start_ms = server_ms

    if args.json:
        out = {
            "demo": "process-start",
            "language": "python",
            "count": args.count,
            "ms_per_process": ms_per_process,
        }
        if server_start_ms is not None:
            out["forkserver_server_start_ms"] = server_start_ms
        print(json.dumps(out), flush=True)
        return

    print(f"Start + join of an empty Process, {args.count} times per method "
          f"(default method here: {multiprocessing.get_start_method()}):")
    for method, ms in ms_per_process.items():
        if ms is None:
            print(f"  {method:<10}  not available")
        else:
            print(f"  {method:<10}  {ms:8.3f} ms per process")
    if server_start_ms is not None:
        print(f"  (forkserver server start, once: {server_start_ms:.3f} ms)")


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_helper_processes()
