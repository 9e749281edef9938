"""Instructions per request of one variant, counted by Valgrind: the same figure every run.

On this machine wall-clock and CPU-time figures for the real app spread by ±15 % between process
starts and between rounds (a shared VM with no hardware performance counters), more than the
margin of the real app's goal. Valgrind's ``callgrind`` tool counts the instructions a process
executes instead; with a fixed hash seed and a seeded ``random`` (trace ids, and so the 10 %
sampling decisions) the count repeats to a few parts per thousand.

Each variant runs twice under ``valgrind --tool=callgrind``: build the app, run its lifespan,
send ``--warmup`` requests, then ``--base`` requests in one run and ``--base + --requests`` in
the other (in process, as :mod:`bench.cpu` does: no sockets, no HTTP parser). The difference of
the two totals divided by ``--requests`` is the variant's instructions per request, free of
start-up and shutdown. The ratio of the reference's count to a variant's estimates the
throughput ratio of a CPU-bound server (it leaves out the kernel, uvicorn's HTTP handling, which
is the same for both, and differences in instructions per cycle).

``python -m bench.instructions bgw_app_off bgw_app_full [--requests N]`` prints one JSON object
per variant and a table; the real-app variants need ``BGW_DATABASE_URL`` (``bench.run`` prepares
a database, ``python -m bench.seed URL`` does it by hand). Under Valgrind Python runs about 60×
slower: a real-app variant takes a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass

from bench.apps import BY_NAME
from bench.report import instructions_table, summarize_instructions
from bench.server import ROOT, clean_env

WARMUP = 200
BASE = 100
REQUESTS = 400
# Background loops that run on the wall clock would add work in proportion to how long Valgrind
# takes; pushed past the run, they run once at start-up in both runs and cancel out.
QUIET_BACKGROUND = {"BGW_HEALTH_INTERVAL_SECONDS": "3600", "BGW_METRICS_REFRESH_SECONDS": "3600"}
_COLLECTED = re.compile(r"Collected : (\d+)")


@dataclass(frozen=True)
class Count:
    variant: str
    requests: int
    instructions_per_request: float
    totals: tuple[int, int]


def child(variant: str, warmup: int, count: int) -> None:
    """Inside Valgrind: start the app, warm it up, send ``count`` requests, stop."""
    import uvloop

    from bench.apps import create
    from bench.cpu import Client, lifespan

    random.seed(0)

    async def run() -> None:
        app = create(variant)
        client = Client(app, BY_NAME[variant].path)
        async with lifespan(app):
            await client.requests(warmup)
            await client.requests(count)

    uvloop.run(run())


def _command(variant: str, warmup: int, count: int) -> list[str]:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("bench.instructions needs valgrind (apt-get install -y valgrind)")
    return [
        valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, "-m", "bench.instructions", "--child", variant,
        "--warmup", str(warmup), "--count", str(count),
    ]  # fmt: skip


def count(
    variant: str,
    requests: int = REQUESTS,
    base: int = BASE,
    warmup: int = WARMUP,
    database_url: str | None = None,
) -> Count:
    """Instructions per request of ``variant``: its two Valgrind runs side by side (a count does
    not depend on what else the machine is doing)."""
    env = clean_env({"PYTHONHASHSEED": "0", **QUIET_BACKGROUND})
    if database_url is not None:
        env["BGW_DATABASE_URL"] = database_url
    runs = [
        subprocess.Popen(
            _command(variant, warmup, total),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for total in (base, base + requests)
    ]
    stderrs = [run.communicate()[1] for run in runs]  # both finish before either is judged
    totals = []
    for run, stderr in zip(runs, stderrs, strict=True):
        found = _COLLECTED.search(stderr)
        if run.returncode != 0 or found is None:
            raise RuntimeError(f"{variant} under valgrind failed:\n{stderr[-3000:]}")
        totals.append(int(found.group(1)))
    short, long = totals
    return Count(variant, requests, (long - short) / requests, (short, long))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", help="variants from bench.apps")
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--base", type=int, default=BASE)
    parser.add_argument("--warmup", type=int, default=WARMUP)
    parser.add_argument("--child", choices=sorted(BY_NAME), help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.warmup, args.count)
        return
    unknown = sorted(set(args.variants) - set(BY_NAME))
    if unknown or not args.variants:
        problem = f"unknown variants: {', '.join(unknown)}" if unknown else "no variant named"
        parser.error(f"{problem}; choose from {', '.join(sorted(BY_NAME))}")
    database_url = os.environ.get("BGW_DATABASE_URL")
    counts = [
        count(name, args.requests, args.base, args.warmup, database_url) for name in args.variants
    ]
    for result in counts:
        print(json.dumps(asdict(result)))
    print(instructions_table(summarize_instructions(counts)))


if __name__ == "__main__":
    main()
