"""Benchmark: score PHQ-9 responses through the library and through `rapport score`.

    .venv/bin/python bench/bench_score.py [--n 1000000] [--seed 1]

Each figure is printed beside a floor measured in the same run on the same answers:

- library: `Instrument.score(answers)` on answer dicts in memory, against a bare loop that
  sums the same dicts' values;
- CLI: `rapport score phq9 FILE` in a subprocess (start-up included), against a bare Python
  loop over the same file that parses each line, sums its answers and writes the sum.

The ratio says how many times slower than the floor the real thing is. To keep memory flat,
the in-memory runs cycle through 10,000 distinct responses; the file holds N distinct lines.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rapport.instruments import load

POOL = 10_000


def responses(n: int, seed: int) -> list[dict[str, int]]:
    rng = random.Random(seed)
    return [{f"phq9-{i}": rng.randint(0, 3) for i in range(1, 10)} for _ in range(n)]


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} /s"


def floor_library(pool: list[dict[str, int]], n: int) -> float:
    start = time.perf_counter()
    m = len(pool)
    for k in range(n):
        sum(pool[k % m].values())
    return time.perf_counter() - start


def run_library(pool: list[dict[str, int]], n: int) -> float:
    score = load("phq9").score
    start = time.perf_counter()
    m = len(pool)
    for k in range(n):
        score(pool[k % m])
    return time.perf_counter() - start


FLOOR_CLI = """
import json, sys
loads = json.loads
write = sys.stdout.write
with open(sys.argv[1], encoding="utf-8") as lines:
    for line in lines:
        write(str(sum(loads(line)["answers"].values())) + "\\n")
"""


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=False)  # exit 0 expected: all valid
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="responses (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n = args.n

    pool = responses(min(n, POOL), args.seed)
    library_floor = floor_library(pool, n)
    library = run_library(pool, n)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "phq9.jsonl"
        rng = random.Random(args.seed)
        with path.open("w", encoding="utf-8") as f:
            for _ in range(n):
                answers = {f"phq9-{i}": rng.randint(0, 3) for i in range(1, 10)}
                f.write(json.dumps({"answers": answers}) + "\n")
        size = os.path.getsize(path)
        cli_floor = timed([sys.executable, "-c", FLOOR_CLI, str(path)])
        cli = timed([sys.executable, "-m", "rapport.cli", "score", "phq9", str(path)])

    print(f"PHQ-9, {n:,} responses ({size / 1e6:.0f} MB of JSON lines for the CLI)")
    print(f"{'':22}{'rapport':>15}{'floor':>15}{'ratio':>8}")
    print(
        f"{'library score()':22}{rate(n, library)}{rate(n, library_floor)}"
        f"{library / library_floor:>7.1f}x"
    )
    print(f"{'rapport score (CLI)':22}{rate(n, cli)}{rate(n, cli_floor)}{cli / cli_floor:>7.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
