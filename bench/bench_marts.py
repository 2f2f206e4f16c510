"""Mart build times: the daily incremental build with 30 vs ~365 days of history, and a 90-day backfill.

    .venv/bin/python bench/bench_marts.py daily [--prefix gridmartbench] [--repeat 3]
    .venv/bin/python bench/bench_marts.py backfill --prefix gridmarteval --from 2024-06-02 --to 2024-08-30

daily — why: the daily DAG must not slow down as history grows (goal: time(365 d) / time(30 d) ≤ 1.3).
  1. A ``tiny`` world is simulated and loaded for 31 days (D−30 … D, D = 2024-07-01); the mart is
     built for the whole window; then ``dbt run`` (models only) and ``dbt build`` (models + data
     tests) with the one-day window ``run_date = D`` are timed (median of ``--repeat``): 30 days of
     history.
  2. History is then made 12× longer cheaply in a CLONE of that warehouse (``<prefix>_long``,
     ``create database … template``): every row of the date-partitioned raw tables and of
     ``nlp.appeal_text`` loaded for D−30 … D−1 is copied 12 times with every date/timestamp column
     shifted back by 30·k days and the row keys suffixed ``~k`` (static tables — customers, orgs,
     areas — are left as they are), and its marts are fully rebuilt over the 390 days.
  3. The same one-day builds of D are timed ALTERNATELY on the 30-day and the 390-day warehouse,
     ``--repeat`` pairs, so both sides of each pair run under the same machine load (the box is
     shared). Ratio = median over pairs of 390-day time / 30-day time, models only and models +
     tests; wall time (what the DAG waits) and node time (sum of dbt's per-node execution times —
     the SQL work history can slow down, without dbt's start-up and parse, which dominate the wall
     time of a one-day build on a busy 2-core box).
backfill — the mart step only (text mining per day, ONE dbt build for the range, propensity
  scoring for the range, the propensity mart, gate, publish) for a range of an already loaded
  warehouse, timed per sub-step.
propensity — why: scoring used to refit a model for every run date (~70 % of a 90-day mart
  backfill). On an already built window, scores the range twice in one process — one model per run
  date (``refit_days=1``, the former behaviour) and one per calendar week (the default) — and prints
  both times, their ratio, and both evaluations against the simulator's truth (AUC, precision@5 %
  on run dates whose 14-day horizon ends in the window). The weekly scores are left in place.

    .venv/bin/python bench/bench_marts.py propensity --prefix gridh6eval --from 2024-05-01 --to 2024-06-29
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from grid_appeals.config import Settings, settings  # noqa: E402
from grid_appeals.transform.run_dbt import run_dbt  # noqa: E402

DAY = date(2024, 7, 1)
BASE_DAYS = 30
COPIES = 12
EXCLUDE = ["--exclude", "stg_ml__complaint_propensity+"]
# date-partitioned tables (with their key columns, suffixed in copies); static tables are not copied
PARTITIONED: dict[str, tuple[str, ...]] = {
    "raw_95598.arc_s_95598_wkst": ("app_no", "main_app_no"),
    "raw_95598.s_comm_rec": ("comm_id", "app_no"),
    "raw_95598.s_region_outrage": ("outage_no",),
    "raw_marketing.a_pay_flow": ("pay_flow_no",),
    "raw_marketing.s_app": ("app_no",),
    "raw_metering.e_mp_day_read": (),
    "raw_metering.terminal_event": ("event_id",),
    "raw_hall.hall_ticket": ("ticket_no",),
    "raw_hall.hall_ticket_legacy": ("ticket_no",),
    "raw_hall.hall_daily": (),
    "nlp.appeal_text": ("app_no",),
}
DATE_COLUMN = {"nlp.appeal_text": "data_date"}


def timed(label: str, fn: Callable[..., object], *args: object, **kwargs: object) -> float:
    """Run fn once and print/return its wall time (the bench reports wall time: dbt is a subprocess)."""
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    dt = time.perf_counter() - t0
    print(f"  {label}: {dt:.1f} s", flush=True)
    return dt


def node_times(cfg: Settings) -> dict[str, float]:
    """unique_id -> execution time of every node of the last dbt invocation (run_results.json)."""
    results = json.loads((cfg.deploy_dir / "dbt_target" / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r["execution_time"] for r in results}


def node_seconds(cfg: Settings) -> float:
    """Sum of the node execution times of the last dbt invocation (run_results.json): the SQL work
    that history can slow down, without dbt's start-up and parse (~20 s of wall time on a busy box)."""
    return sum(node_times(cfg).values())


# per-node times of the timed ``dbt build`` runs: unique_id -> ([30-day s …], [long s …])
BUILD_NODES: dict[str, tuple[list[float], list[float]]] = {}


def print_top_nodes(top: int = 5) -> None:
    """The nodes of the one-day ``dbt build`` that cost most on the long history (median over the
    pairs), next to their 30-day time: where growth with history still hides."""
    rows = sorted(
        ((statistics.median(b), statistics.median(a), k) for k, (a, b) in BUILD_NODES.items() if a and b),
        reverse=True,
    )[:top]
    print(f"\n| top {top} nodes of dbt build (long) | 30 d | long | ratio |\n|---|---|---|---|")
    for b, a, k in rows:
        print(f"| {k} | {a:.2f} s | {b:.2f} s | {b / a if a else float('nan'):.2f} |")


def daily_pairs(
    short: Settings, long: Settings, day: date, repeat: int
) -> dict[str, list[tuple[float, ...]]]:
    """(30-day wall s, long wall s, 30-day node s, long node s) of the one-day build, measured back
    to back ``repeat`` times per command (models only, models + tests)."""
    v = {"run_date": day.isoformat()}
    out: dict[str, list[tuple[float, ...]]] = {"run": [], "build": []}
    for _ in range(repeat):
        for cmd in ("run", "build"):
            a = timed(f"dbt {cmd} run_date={day} (30 d)", run_dbt, [cmd, *EXCLUDE], cfg=short, variables=v)
            na = node_seconds(short)
            short_nodes = node_times(short)
            b = timed(f"dbt {cmd} run_date={day} (long)", run_dbt, [cmd, *EXCLUDE], cfg=long, variables=v)
            nb = node_seconds(long)
            if cmd == "build":
                for k, t in short_nodes.items():
                    BUILD_NODES.setdefault(k, ([], []))[0].append(t)
                for k, t in node_times(long).items():
                    BUILD_NODES.setdefault(k, ([], []))[1].append(t)
            print(f"    node time {na:.1f} s vs {nb:.1f} s", flush=True)
            out[cmd].append((a, b, na, nb))
    return out


def clone_warehouse(cfg: Settings, clone: Settings) -> None:
    """``clone``'s warehouse database = a file-level copy of ``cfg``'s (nobody may be connected)."""
    with psycopg.connect(cfg.server_url("postgres"), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{clone.db_prefix}_warehouse"')
        conn.execute(f'create database "{clone.db_prefix}_warehouse" template "{cfg.db_prefix}_warehouse"')


def ingest_mart_inputs(cfg: Settings, first: date, last: date) -> None:
    """Load, day by day, the entities the marts read (95598 orders, calls, outage notices; metering
    events; the marketing reference tables) — readings, payments, expansion applications and hall
    tickets feed no timed mart model, and skipping them makes the setup ~2× faster."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from grid_appeals.pipeline.backfill import _ingest_one

    daily = [
        "marketing.o_org",
        "marketing.g_line",
        "marketing.g_tg",
        "marketing.c_cons",
        "marketing.c_mp",
        "95598.arc_s_95598_wkst",
        "95598.s_comm_rec",
        "95598.s_region_outrage",
        "metering.terminal_event",
    ]
    work = [(k, first + timedelta(days=i)) for i in range((last - first).days + 1) for k in daily]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        failed = [
            (d, k)
            for d, k, _, err in pool.map(_ingest_one, *zip(*work, strict=True), [cfg] * len(work))
            if err
        ]
    print(f"  {len(work)} batches, {len(failed)} failed (injected file defects): {failed}", flush=True)


def setup_base(cfg: Settings, first: date, last: date, seed: int) -> None:
    """Simulate + load + mart for [first, last] at tiny scale (skipped when already built)."""
    from grid_appeals.pipeline.mart_tasks import run_mart_window
    from grid_appeals.simulate.runner import simulate
    from grid_appeals.text.training import train_models
    from grid_appeals.warehouse.bootstrap import bootstrap

    bootstrap(cfg)
    timed("simulate", simulate, first, last, scale="tiny", seed=seed, cfg=cfg)
    timed("ingest (mart inputs)", ingest_mart_inputs, cfg, first, last)
    timed("text train", train_models, first + (last - first) / 2, cfg=cfg)
    timed("mart window", run_mart_window, first, last, cfg=cfg)


def drop_history(cfg: Settings, first: date) -> None:
    """Delete every copied row (dated before ``first``): back to the simulated window only."""
    with psycopg.connect(cfg.url("warehouse"), autocommit=True) as conn:
        for table in PARTITIONED:
            if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0]:
                conn.execute(
                    f"delete from {table} where {DATE_COLUMN.get(table, '_data_date')} < %s", (first,)
                )


def replicate_history(cfg: Settings, first: date, last: date, copies: int) -> None:
    """Copy the rows of [first, last] ``copies`` times, each shifted back by (last − first + 1)·k days
    (creating the raw date partitions the copies need, as the loader would)."""
    from grid_appeals.load.ddl import ensure_partition
    from grid_appeals.sources.contracts import load_contracts

    contracts = {
        f"{c.raw_schema}.{c.raw_table}": c
        for src in ("95598", "marketing", "metering", "hall")
        for c in load_contracts(src)
    }
    span = (last - first).days + 1
    drop_history(cfg, first)
    with psycopg.connect(cfg.url("warehouse"), autocommit=True) as conn:
        for table, keys in PARTITIONED.items():
            schema, name = table.split(".")
            cols = conn.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = %s and table_name = %s order by ordinal_position",
                (schema, name),
            ).fetchall()
            if not cols:
                continue
            dcol = DATE_COLUMN.get(table, "_data_date")
            contract = contracts.get(table)
            for k in range(1, copies + 1):
                shift = span * k
                if contract is not None and contract.partition != "none":
                    for i in range(span):
                        with conn.transaction():
                            ensure_partition(contract, conn, first + timedelta(days=i - shift))
                exprs = []
                for c, t in cols:
                    if c in keys:
                        exprs.append(f"case when {c} is null then null else {c} || '~{k}' end")
                    elif t == "date":
                        exprs.append(f"{c} - {shift}")
                    elif t.startswith("timestamp"):
                        exprs.append(f"{c} - interval '{shift} days'")
                    else:
                        exprs.append(c)
                names = ", ".join(c for c, _ in cols)
                conn.execute(
                    f"insert into {table} ({names}) select {', '.join(exprs)} from {table} "
                    f"where {dcol} between %s and %s",
                    (first, last),
                )
            n = conn.execute(f"select count(*) from {table}").fetchone()[0]
            print(f"  {table}: {n} rows after copying", flush=True)
        conn.execute("analyze")


def history_days(cfg: Settings) -> int:
    with psycopg.connect(cfg.url("warehouse")) as conn:
        lo, hi = conn.execute(
            "select min(_data_date), max(_data_date) from raw_95598.arc_s_95598_wkst"
        ).fetchone()
    return (hi - lo).days


def cmd_daily(args: argparse.Namespace) -> None:
    import dataclasses

    cfg = dataclasses.replace(settings(), db_prefix=args.prefix)
    long = dataclasses.replace(cfg, db_prefix=f"{args.prefix}_long")
    day = DAY
    first = day - timedelta(days=BASE_DAYS)
    if args.reuse:
        print(f"# reusing the tiny world {first} … {day} under prefix {cfg.db_prefix}", flush=True)
        timed("drop copied history", drop_history, cfg, first)
    else:
        print(f"# setup: tiny world {first} … {day} under prefix {cfg.db_prefix}", flush=True)
        setup_base(cfg, first, day, args.seed)
    timed("full rebuild", run_dbt, ["build", "--full-refresh", *EXCLUDE], cfg=cfg)
    timed(f"clone into {long.db_prefix}_warehouse", clone_warehouse, cfg, long)
    print(f"# copying {first} … {day - timedelta(days=1)} {COPIES}× into the past of the clone", flush=True)
    timed("replicate", replicate_history, long, first, day - timedelta(days=1), COPIES)
    timed("full rebuild (long)", run_dbt, ["build", "--full-refresh", *EXCLUDE], cfg=long)
    h30, hlong = history_days(cfg), history_days(long)
    print(f"# one-day builds, alternating {h30} and {hlong} days of history", flush=True)
    pairs = daily_pairs(cfg, long, day, args.repeat)
    print(
        "\n| build (one-day window) | 30-day history | long history | ratio (median of pairs) "
        "| node time 30 d | node time long | node-time ratio |\n|---|---|---|---|---|---|---|"
    )
    for cmd, label in (("run", "dbt run (models only)"), ("build", "dbt build (models + tests)")):
        p = pairs[cmd]
        a, b = statistics.median(x[0] for x in p), statistics.median(x[1] for x in p)
        na, nb = statistics.median(x[2] for x in p), statistics.median(x[3] for x in p)
        ratio = statistics.median(x[1] / x[0] for x in p)
        nratio = statistics.median(x[3] / x[2] for x in p)
        print(
            f"| {label} | {a:.1f} s ({h30} d) | {b:.1f} s ({hlong} d) | {ratio:.2f} "
            f"| {na:.1f} s | {nb:.1f} s | {nratio:.2f} |"
        )
    print_top_nodes()
    if not args.keep_clone:
        with psycopg.connect(cfg.server_url("postgres"), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{long.db_prefix}_warehouse"')


def gate_and_publish(first: date, last: date, cfg: Settings) -> None:
    """The GX marts gate, then publish; a failed gate is reported (its time still counts) so the
    timing of the other steps is not lost to a data finding."""
    from grid_appeals.pipeline.mart_gate import GateFailed, check_marts, publish

    try:
        check_marts(first, last, cfg=cfg)
    except GateFailed as exc:
        print(f"  gate FAILED (publish skipped): {str(exc)[:300]}", flush=True)
        return
    publish(first, last, cfg=cfg)


def cmd_backfill(args: argparse.Namespace) -> None:
    import dataclasses

    from grid_appeals.pipeline import mart_tasks as mt

    cfg = dataclasses.replace(settings(), db_prefix=args.prefix)
    first, last = date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)
    print(f"# mart step for {first} … {last} ({(last - first).days + 1} days), prefix {cfg.db_prefix}")
    steps = {
        "text mining (per day)": lambda: mt.mine_text(first, last, cfg=cfg),
        "dbt build (one invocation)": lambda: mt.build_marts(first, last, cfg=cfg),
        "propensity scoring (range, weekly models)": lambda: mt.score_propensity(first, last, cfg=cfg),
        "propensity mart": lambda: mt.build_propensity_mart(first, last, cfg=cfg),
        "gate + publish": lambda: gate_and_publish(first, last, cfg),
    }
    total = 0.0
    rows = []
    for label, fn in steps.items():
        dt = timed(label, fn)
        rows.append((label, dt))
        total += dt
    print("\n| step | seconds |\n|---|---|")
    for label, dt in rows:
        print(f"| {label} | {dt:.1f} |")
    print(f"| **total** | **{total:.1f}** |")


def cmd_propensity(args: argparse.Namespace) -> None:
    import dataclasses

    from grid_appeals.analytics.propensity import score_range
    from grid_appeals.evaluate.marts_eval import propensity_eval

    cfg = dataclasses.replace(settings(), db_prefix=args.prefix)
    first, last = date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)
    lo = date.fromisoformat(args.score_from) if args.score_from else first + (last - first) / 2
    print(f"# propensity scoring of {first} … {last}, prefix {cfg.db_prefix}; judged run dates from {lo}")
    results = {}
    for label, refit in (("a model per run date (refit_days=1)", 1), ("a model per week (refit_days=7)", 7)):
        seconds = timed(label, score_range, first, last, cfg=cfg, refit_days=refit)
        p = propensity_eval(first, last, cfg=cfg, score_from=lo)
        results[label] = (seconds, p)
        print(
            f"  AUC {p['auc']} (mean per run date {p['auc_mean_per_run_date']}), precision@5% "
            f"{p['precision_at_top_5pct']}, {p['positives']} positives of {p['scored']}",
            flush=True,
        )
    print("\n| cadence | scoring s | AUC pooled | AUC mean/run date | precision@5% |\n|---|---|---|---|---|")
    for label, (seconds, p) in results.items():
        print(
            f"| {label} | {seconds:.1f} | {p['auc']} | {p['auc_mean_per_run_date']} | {p['precision_at_top_5pct']} |"
        )
    (daily, _), (weekly, _) = results.values()
    print(f"\nweekly / per-date time ratio: {weekly / daily:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("daily")
    d.add_argument("--prefix", default="gridmartbench")
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--repeat", type=int, default=3)
    d.add_argument("--reuse", action="store_true", help="skip the setup: the prefix already holds the window")
    d.add_argument(
        "--keep-clone", action="store_true", help="keep the long-history clone database afterwards"
    )
    d.set_defaults(func=cmd_daily)
    b = sub.add_parser("backfill")
    b.add_argument("--prefix", default="gridmarteval")
    b.add_argument("--from", dest="date_from", default="2024-06-02")
    b.add_argument("--to", dest="date_to", default="2024-08-30")
    b.set_defaults(func=cmd_backfill)
    p = sub.add_parser("propensity")
    p.add_argument("--prefix", default="gridmarteval")
    p.add_argument("--from", dest="date_from", default="2024-06-02")
    p.add_argument("--to", dest="date_to", default="2024-08-30")
    p.add_argument("--score-from", dest="score_from", help="first judged run date (default: the midpoint)")
    p.set_defaults(func=cmd_propensity)
    args = ap.parse_args()
    if settings().db_prefix == "grid" and getattr(args, "prefix", "") in ("grid", ""):
        raise SystemExit("refusing to run on the demo prefix")
    args.func(args)


if __name__ == "__main__":
    main()
