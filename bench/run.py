"""Run the whole benchmark: ``python -m bench.run [--out results.json]``.

1. Throughput: each variant under its own uvicorn (1 worker, pinned to ``--server-core``) loaded
   by wrk (pinned to ``--load-core``), warmed up then measured, in interleaved rounds (the order
   rotates each round). Median requests/s per variant; ratio to its reference's median.
2. CPU µs per request of each variant, in process (``bench.cpu``), one child per variant per
   round, pinned to the server core; the differences are what each lever costs.
3. Instructions per request, counted by Valgrind (``bench.instructions``), for the real app
   and the trivial route: the same figure every run, where the two above spread.
4. Exposition render time for a realistic series count (``bench.render``), and the same with
   the latency histogram not labelled by status.

The real app runs on a fresh SQLite file (the embedded default) unless ``--database-url`` names
an empty database (PostgreSQL: ``postgresql+asyncpg://...``), which is migrated and seeded.

Results are printed as tables and written as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.apps import BY_NAME, VARIANTS
from bench.instructions import REQUESTS, count
from bench.load import measure
from bench.report import (
    cpu_table,
    instructions_table,
    load_table,
    summarize_cpu,
    summarize_instructions,
    summarize_load,
)
from bench.server import ROOT, clean_env, serve

# The real app's goal, its metrics-only twin, and the trivial route's two goals as a cross-check
# of the counts against wrk (each reference is added).
INSTRUCTIONS_VARIANTS = ("bgw_app_full", "bgw_app_metrics", "bgw_full", "bgw_metrics")
DEFAULT_OUT = Path(tempfile.gettempdir()) / "bgw-bench" / "results.json"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def seed(url: str) -> None:
    subprocess.run([sys.executable, "-m", "bench.seed", url], cwd=ROOT, env=clean_env(), check=True)


@contextmanager
def seeded_database(url: str | None) -> Iterator[str]:
    """``url`` migrated and seeded with 20 games, or a fresh SQLite file removed afterwards."""
    if url is not None:
        seed(url)
        yield url
        return
    directory = tempfile.mkdtemp(prefix="bgw-bench-")
    url = f"sqlite+aiosqlite:///{directory}/bench.db"
    try:
        seed(url)
        yield url
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def with_references(names: Sequence[str]) -> list[str]:
    """``names`` with each one's reference in front of it (a ratio needs both from one run)."""
    return list(dict.fromkeys(r for n in names for r in (BY_NAME[n].reference, n)))


def rotated(items: Sequence[str], by: int) -> list[str]:
    by %= len(items)
    return [*items[by:], *items[:by]]


def run_load(args: argparse.Namespace, variants: Sequence[str], db_url: str) -> dict[str, Any]:
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for round_number in range(args.rounds):
        for name in rotated(variants, round_number):
            load = {"core": args.load_core, "connections": args.connections}
            with serve(name, args.server_core, {"BGW_DATABASE_URL": db_url}) as server:
                path = BY_NAME[name].path
                measure(server, path, **load, seconds=args.warmup)
                result = measure(server, path, **load, seconds=args.duration)
            rounds[name].append(vars(result))
            log(
                f"round {round_number + 1}/{args.rounds} {name:<22} "
                f"{result.requests_per_second:>7.0f} req/s "
                f"{result.server_cpu_us:>6.0f} µs CPU/req, {result.server_cpu_share:.0%} busy, "
                f"others {result.foreign_cores:.2f} cores"
            )
    return {"rows": summarize_load(rounds)}


def run_cpu(args: argparse.Namespace, variants: Sequence[str], db_url: str) -> dict[str, Any]:
    rounds: dict[str, list[float]] = {name: [] for name in variants}
    for round_number in range(args.cpu_rounds):
        for name in rotated(variants, round_number):
            command = [
                "taskset", "-c", str(args.server_core), sys.executable, "-m", "bench.cpu", name,
                "--batches", str(args.cpu_batches), "--batch-seconds", str(args.cpu_batch_seconds),
            ]  # fmt: skip
            output = subprocess.run(
                command,
                cwd=ROOT,
                env=clean_env({"BGW_DATABASE_URL": db_url}),
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            cpu_us = json.loads(output)["cpu_us"]
            rounds[name].append(cpu_us)
            log(f"cpu round {round_number + 1}/{args.cpu_rounds} {name:<22} {cpu_us:>7.1f} µs")
    return {"rows": summarize_cpu(rounds)}


def run_instructions(args: argparse.Namespace, db_url: str) -> dict[str, Any]:
    counts = []
    for name in args.instructions_variants:
        result = count(name, args.instructions_requests, database_url=db_url)
        counts.append(result)
        log(f"instructions {name:<22} {result.instructions_per_request:>11,.0f} per request")
    return {"rows": summarize_instructions(counts)}


def run_render(args: argparse.Namespace, *flags: str) -> dict[str, Any]:
    command = [
        "taskset", "-c", str(args.server_core),
        sys.executable, "-m", "bench.render", "--runs", str(args.render_runs), *flags,
    ]  # fmt: skip
    output = subprocess.run(
        command, cwd=ROOT, env=clean_env(), check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output)


def machine() -> dict[str, Any]:
    revision = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git": revision,
        "loadavg": os.getloadavg(),
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="BGW telemetry benchmark")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument(
        "--variants", default=",".join(v.name for v in VARIANTS), help="comma list of names"
    )
    parser.add_argument("--rounds", type=int, default=5, help="interleaved wrk rounds")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up load")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--load-core", type=int, default=1)
    parser.add_argument("--cpu-rounds", type=int, default=3)
    parser.add_argument("--cpu-batches", type=int, default=7, help="median of this many")
    parser.add_argument("--cpu-batch-seconds", type=float, default=0.4)
    parser.add_argument(
        "--instructions-variants",
        default=",".join(INSTRUCTIONS_VARIANTS),
        help="comma list of variants counted under Valgrind",
    )
    parser.add_argument("--instructions-requests", type=int, default=REQUESTS)
    parser.add_argument("--render-runs", type=int, default=50)
    parser.add_argument(
        "--database-url", help="an empty database for the real app (default: a fresh SQLite file)"
    )
    parser.add_argument("--skip", default="", help="comma list of: load,cpu,instructions,render")
    args = parser.parse_args()
    args.variants = [name for name in args.variants.split(",") if name]
    args.instructions_variants = [name for name in args.instructions_variants.split(",") if name]
    unknown = (set(args.variants) | set(args.instructions_variants)) - set(BY_NAME)
    if unknown:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    args.skip = set(args.skip.split(",")) - {""}
    return args


def print_results(results: dict[str, Any], args: argparse.Namespace) -> None:
    if "load" in results:
        print(
            f"\nThroughput ({args.rounds} rounds × {args.duration:g} s, wrk -c{args.connections})"
        )
        print(load_table(results["load"]["rows"]))
    if "cpu" in results:
        print(f"\nCPU per request, in process ({args.cpu_rounds} rounds)")
        print(cpu_table(results["cpu"]["rows"]))
    if "instructions" in results:
        print(f"\nInstructions per request, Valgrind ({args.instructions_requests} requests)")
        print(instructions_table(results["instructions"]["rows"]))
    print()
    for key, label in (
        ("render", "Exposition render"),
        ("render_latency_without_status", "Same, latency histogram without status"),
    ):
        if key in results:
            render = results[key]
            print(
                f"{label}: median {render['median_ms']:.1f} ms (p90 {render['p90_ms']:.1f}, "
                f"{render['samples']} samples, {render['bytes']} bytes)"
            )


def main() -> None:
    args = parse_args()
    started = time.time()
    results: dict[str, Any] = {
        "settings": {k: sorted(v) if isinstance(v, set) else v for k, v in vars(args).items()},
        "machine": machine(),
    }
    results["settings"]["out"] = str(args.out)
    variants = with_references(args.variants)
    args.instructions_variants = with_references(args.instructions_variants)
    with seeded_database(args.database_url) as db_url:
        if "load" not in args.skip:
            measured = [name for name in variants if BY_NAME[name].throughput]
            results["load"] = run_load(args, measured, db_url)
        if "cpu" not in args.skip:
            results["cpu"] = run_cpu(args, variants, db_url)
        if "instructions" not in args.skip:
            results["instructions"] = run_instructions(args, db_url)
    if "render" not in args.skip:
        results["render"] = run_render(args)
        results["render_latency_without_status"] = run_render(args, "--latency-without-status")
    results["seconds"] = round(time.time() - started, 1)

    print_results(results, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nJSON: {args.out} ({results['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
