"""The output every bench script ends with: one JSON line for ``mpdemo bench`` with --json, or
one ``key: value`` line per figure for a person."""

import json
import os
import sys


def import_mpi4py(script):
    """mpi4py's ``MPI`` module, or exit 3 with the install hint (printed by rank 0 only)."""
    try:
        from mpi4py import MPI
    except ImportError:
        if os.environ.get("OMPI_COMM_WORLD_RANK", os.environ.get("PMI_RANK", "0")) == "0":
            print(f"{script}: mpi4py is not installed; pip install mpi4py", file=sys.stderr)
        sys.exit(3)
    return MPI


def report(figures, as_json):
    if as_json:
        print(json.dumps(figures), flush=True)
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")
