"""Summaries of a run: medians, ratios to a reference from the same run, and text tables."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from bench.apps import BY_NAME


def summarize_load(rounds: Mapping[str, Sequence[Mapping[str, float]]]) -> list[dict[str, Any]]:
    """Per variant: median requests/s over the rounds, its ratio to the reference's median, and
    the spread of the per-round ratios (each round's variant over the same round's reference)."""
    medians = {
        name: statistics.median(r["requests_per_second"] for r in results)
        for name, results in rounds.items()
    }
    rows = []
    for name, results in rounds.items():
        variant = BY_NAME[name]
        reference = rounds.get(variant.reference)
        row: dict[str, Any] = {
            "variant": name,
            "description": variant.description,
            "reference": variant.reference,
            "rps_median": medians[name],
            "rps_rounds": [r["requests_per_second"] for r in results],
            "p50_ms_median": statistics.median(r["p50_ms"] for r in results),
            "p99_ms_median": statistics.median(r["p99_ms"] for r in results),
            "server_cpu_us_median": statistics.median(r["server_cpu_us"] for r in results),
            "server_cpu_share_median": statistics.median(r["server_cpu_share"] for r in results),
            "foreign_cores_max": max(r["foreign_cores"] for r in results),
            "target": variant.target,
        }
        if reference is not None:
            row["ratio"] = medians[name] / medians[variant.reference]
            # The same ratio as implied by the server's CPU time per request, which another
            # process stealing the core disturbs less than it disturbs requests/s.
            row["cpu_ratio"] = statistics.median(
                r["server_cpu_us"] for r in reference
            ) / statistics.median(r["server_cpu_us"] for r in results)
            paired = [
                mine["requests_per_second"] / theirs["requests_per_second"]
                for mine, theirs in zip(results, reference, strict=True)
            ]
            row["ratio_min"], row["ratio_max"] = min(paired), max(paired)
            if variant.target is not None:
                row["goal_met"] = row["ratio"] >= variant.target
        rows.append(row)
    return rows


def summarize_cpu(rounds: Mapping[str, Sequence[float]]) -> list[dict[str, Any]]:
    """Per variant: median CPU µs per request over the rounds, and the difference to its
    reference (what the instrumentation adds per request)."""
    medians = {name: statistics.median(values) for name, values in rounds.items()}
    rows = []
    for name, values in rounds.items():
        reference = BY_NAME[name].reference
        row: dict[str, Any] = {
            "variant": name,
            "cpu_us_median": medians[name],
            "cpu_us_rounds": list(values),
            "reference": reference,
        }
        if reference in medians:
            row["added_us"] = medians[name] - medians[reference]
        rows.append(row)
    return rows


def target_cell(row: Mapping[str, Any]) -> str:
    """A row's goal and whether it was met: ``≥0.85 ok``, ``≥0.85 NO`` or ``-``."""
    if row["target"] is None:
        return "-"
    verdict = "" if "goal_met" not in row else (" ok" if row["goal_met"] else " NO")
    return f"≥{row['target']:.2f}{verdict}"


def load_table(rows: Sequence[Mapping[str, Any]]) -> str:
    lines = [
        f"{'variant':<22} {'req/s':>8} {'ratio':>6} {'per-round':>11} {'target':>9} {'CPU r.':>6} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'CPU µs':>7} {'busy':>5} {'others':>6}  vs",
    ]
    for row in rows:
        ratio = f"{row['ratio']:.2f}" if "ratio" in row else "-"
        cpu_ratio = f"{row['cpu_ratio']:.2f}" if "cpu_ratio" in row else "-"
        spread = f"{row['ratio_min']:.2f}-{row['ratio_max']:.2f}" if "ratio" in row else "-"
        target = target_cell(row)
        lines.append(
            f"{row['variant']:<22} {row['rps_median']:>8.0f} {ratio:>6} {spread:>11} "
            f"{target:>9} {cpu_ratio:>6} {row['p50_ms_median']:>7.2f} {row['p99_ms_median']:>7.2f} "
            f"{row['server_cpu_us_median']:>7.0f} {row['server_cpu_share_median']:>5.0%} "
            f"{row['foreign_cores_max']:>6.2f}  "
            f"{row['reference']}"
        )
    return "\n".join(lines)


def cpu_table(rows: Sequence[Mapping[str, Any]]) -> str:
    lines = [f"{'variant':<22} {'CPU µs/req':>10} {'added µs':>9}  vs"]
    for row in rows:
        added = f"{row['added_us']:+.1f}" if "added_us" in row else "-"
        lines.append(
            f"{row['variant']:<22} {row['cpu_us_median']:>10.1f} {added:>9}  {row['reference']}"
        )
    return "\n".join(lines)


def summarize_instructions(counts: Sequence[Any]) -> list[dict[str, Any]]:
    """Per variant: instructions per request (``bench.instructions.Count``) and the reference's
    count divided by it, the throughput ratio a CPU-bound server would show."""
    by_name = {result.variant: result for result in counts}
    rows = []
    for result in counts:
        variant = BY_NAME[result.variant]
        row: dict[str, Any] = {
            "variant": result.variant,
            "reference": variant.reference,
            "instructions_per_request": result.instructions_per_request,
            "totals": list(result.totals),
            "requests": result.requests,
            "target": variant.target,
        }
        reference = by_name.get(variant.reference)
        if reference is not None:
            row["ratio"] = reference.instructions_per_request / result.instructions_per_request
            row["added"] = result.instructions_per_request - reference.instructions_per_request
            if variant.target is not None:
                row["goal_met"] = row["ratio"] >= variant.target
        rows.append(row)
    return rows


def instructions_table(rows: Sequence[Mapping[str, Any]]) -> str:
    lines = [f"{'variant':<22} {'instr./req':>11} {'added':>10} {'ratio':>6} {'target':>9}  vs"]
    for row in rows:
        added = f"{row['added']:+,.0f}" if "added" in row else "-"
        ratio = f"{row['ratio']:.3f}" if "ratio" in row else "-"
        target = target_cell(row)
        lines.append(
            f"{row['variant']:<22} {row['instructions_per_request']:>11,.0f} {added:>10} "
            f"{ratio:>6} {target:>9}  {row['reference']}"
        )
    return "\n".join(lines)
