"""Load benchmark over real HTTP: ``leadvault serve --workers N`` (and, if asked, job
workers beside it) under a mixed workload, then checks that nothing was lost.

Each configuration (database × worker processes × clients) gets a fresh server on a free
loopback port; the configurations take turns (``--rounds``), so a slow spell of a shared
machine hits all of them alike. The clients (:mod:`benchmarks.load_client`) send lead
lists with personal fields and nested activities, ``lead(id)``, ``captureLead`` with
unique emails and ``recordActivity`` for a fixed time. Afterwards, with the server stopped:

- ``audit verify`` must be OK;
- every successful read must have exactly one ``lead.read`` event with its request id,
  and no read of this run may have an event without having succeeded;
- every acknowledged capture and activity must be in the database;
- with job workers, no job may have had two runs at once.

The report gives req/s, p50 and p99 per kind, errors by kind, the CPU the load generator
and the server processes used, and the ratio of 2 workers' throughput to 1 worker's.

    python -m benchmarks.load [--database-url postgres://…] [--leads 1000] [--workers 1,2]
                              [--clients 50,200] [--seconds 30] [--job-workers 0]
    python -m benchmarks.load --short [--json FILE]   (the bounded version CI runs)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.load_checks import Checks, post_check
from benchmarks.load_client import Tally, drive
from benchmarks.load_processes import Target, prepare, release, serving


@dataclass
class Outcome:
    database: str
    workers: int
    clients: int
    seconds: float
    requests: int
    throughput: float
    per_kind: dict[str, dict[str, float]]
    errors: dict[str, int]
    generator_cpu: float
    """CPU seconds the load generator used per wall second (1.0 is a whole core)."""
    server_cpu: float
    """CPU seconds the server (and job worker) processes used per wall second."""
    machine_cpu: float
    """CPU the whole machine was busy per wall second (the database server included)."""
    checks: Checks = field(default_factory=Checks)


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of every CPU so far, from /proc/stat (zeros elsewhere)."""
    try:
        fields = [float(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


async def run_configuration(
    target: Target, workers: int, clients: int, seconds: float, job_workers: int
) -> Outcome:
    run = uuid.uuid4().hex[:8]
    own, children = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    async with serving(target, workers, job_workers) as port:
        busy, total = _machine_busy()
        tally, wall = await drive("127.0.0.1", port, target.creds, clients, seconds, run)
        own = _cpu(resource.RUSAGE_SELF) - own
        after_busy, after_total = _machine_busy()
    cores = os.cpu_count() or 1
    machine = (after_busy - busy) / (after_total - total) * cores if after_total > total else 0.0
    children = _cpu(resource.RUSAGE_CHILDREN) - children
    checks = await post_check(target, tally, job_workers > 0)
    outcome = _outcome(target, workers, clients, wall, tally, own, children, checks)
    outcome.machine_cpu = round(machine, 2)
    return outcome


def _outcome(
    target: Target,
    workers: int,
    clients: int,
    wall: float,
    tally: Tally,
    own: float,
    children: float,
    checks: Checks,
) -> Outcome:
    requests = sum(len(values) for values in tally.latencies.values())
    per_kind = {
        kind: {
            "requests": len(values),
            "p50_ms": round(_percentile(values, 0.5) * 1000, 1),
            "p99_ms": round(_percentile(values, 0.99) * 1000, 1),
        }
        for kind, values in tally.latencies.items()
    }
    return Outcome(
        database=target.dialect,
        workers=workers,
        clients=clients,
        seconds=round(wall, 1),
        requests=requests,
        throughput=round(requests / wall, 1),
        per_kind=per_kind,
        errors={f"{kind}: {why}": count for (kind, why), count in tally.errors.items()},
        generator_cpu=round(own / wall, 2),
        server_cpu=round(children / wall, 2),
        machine_cpu=0.0,
        checks=checks,
    )


def _report(outcomes: list[Outcome]) -> None:
    print(
        f"\n{'db':<9}{'workers':>8}{'clients':>8}{'req/s':>8}  "
        + "".join(f"{kind + ' p50/p99 ms':>24}" for kind in ("list", "get", "capture", "activity"))
        + f"{'gen cpu':>9}{'srv cpu':>9}{'all cpu':>9}  errors, checks"
    )
    for o in outcomes:
        kinds = "".join(
            f"{o.per_kind[k]['p50_ms']:>14.0f} /{o.per_kind[k]['p99_ms']:>7.0f}"
            for k in ("list", "get", "capture", "activity")
        )
        errors = sum(o.errors.values())
        print(
            f"{o.database:<9}{o.workers:>8}{o.clients:>8}{o.throughput:>8.1f}  {kinds}"
            f"{o.generator_cpu:>9.2f}{o.server_cpu:>9.2f}{o.machine_cpu:>9.2f}  {errors} errors, "
            f"{'checks pass' if o.checks.ok else 'CHECKS FAIL: ' + '; '.join(o.checks.problems)}"
        )
        for name, count in sorted(o.errors.items()):
            print(f"    {count:>6} × {name}")
    runs: dict[tuple[str, int, int], list[float]] = {}
    for o in outcomes:
        runs.setdefault((o.database, o.workers, o.clients), []).append(o.throughput)
    for (database, workers, clients), figures in sorted(runs.items()):
        single = runs.get((database, 1, clients))
        if workers > 1 and single:
            mean, base = sum(figures) / len(figures), sum(single) / len(single)
            print(
                f"{database}, {clients} clients: {workers} workers / 1 worker = "
                f"{mean / base:.2f} (mean of {len(figures)} and {len(single)} runs; "
                "target ≥ 1.6)"
            )


async def main_async(args: argparse.Namespace) -> list[Outcome]:
    target = await prepare(args.database_url, args.leads)
    outcomes: list[Outcome] = []
    finished = False
    try:
        for turn in range(args.rounds):
            for clients in args.clients:
                for workers in args.workers:
                    print(
                        f"… round {turn + 1}: {target.dialect}, {workers} worker(s), "
                        f"{clients} clients",
                        flush=True,
                    )
                    outcomes.append(
                        await run_configuration(
                            target, workers, clients, args.seconds, args.job_workers
                        )
                    )
        finished = True
    finally:
        failed = not finished or any(o.errors or not o.checks.ok for o in outcomes)
        await release(target, keep_files=failed)
    _report(outcomes)
    return outcomes


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite files)")
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--workers", type=_numbers, default=[1, 2])
    parser.add_argument("--clients", type=_numbers, default=[50, 200])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--job-workers", type=int, default=0)
    parser.add_argument(
        "--rounds", type=int, default=2, help="configurations take turns this many times"
    )
    parser.add_argument("--short", action="store_true", help="CI: 2 workers, 2 job workers")
    parser.add_argument("--json", type=Path, help="also write the outcomes here")
    args = parser.parse_args()
    if args.short:
        args.leads, args.workers, args.clients = 60, [2], [8]
        args.seconds, args.job_workers, args.rounds = 4.0, 2, 1
    started = time.monotonic()
    outcomes = asyncio.run(main_async(args))
    print(f"took {time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps([_plain(o) for o in outcomes], indent=2))
    failed = [o for o in outcomes if o.errors or not o.checks.ok]
    raise SystemExit(1 if failed else 0)


def _plain(outcome: Outcome) -> dict[str, Any]:
    return asdict(outcome)


if __name__ == "__main__":
    main()
