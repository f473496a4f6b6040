"""The output every bench script ends with: one JSON line for ``mpdemo bench`` with --json, or
one ``key: value`` line per figure for a person."""

import json


def report(figures, as_json):
    if as_json:
        print(json.dumps(figures), flush=True)
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")
