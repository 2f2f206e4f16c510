"""Defect capture: did the loader catch every defect the simulator injected into a window?

Why a separate package: this is the only code allowed to read ``sim_truth`` (the pipeline under
``sources/``, ``quality/`` and ``load/`` must never see the answers; a hygiene test enforces it).

For every row of ``sim_truth.defect_truth`` in the window the defect counts as *captured* when the
warehouse shows the right reaction:

- row defects (missing_required, invalid_code, malformed_phone, bad_timestamp, bad_reading): the
  row is in ``quarantine.<source>__<entity>`` with a failure label naming the right expectation
  (the null check / value set / format regex of the column the simulator broke, a bound or a
  derived cross-column check on a timestamp / reading), or the whole batch of its day failed;
- duplicate: the key is stored at most once in raw (or quarantined once), or its batch failed;
- late_row: the late row is loaded (raw) or quarantined for another reason, or its batch failed;
- file defects (schema_drift, truncated_gzip, broken_encoding): the entity's batch of that day
  failed with a message naming the problem, or (broken bytes below the bad-row threshold) rows of
  that file were quarantined as undecodable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date

import pandas as pd
import psycopg
from psycopg import sql

from grid_appeals.config import Settings, settings
from grid_appeals.load.ddl import quarantine_ident, raw_ident
from grid_appeals.quality.validate import ENCODING_REASON
from grid_appeals.sources.contracts import EntityContract, load_contracts

# defect_truth.entity → contract keys whose raw/quarantine/ledger rows can hold it
ENTITY_MAP: dict[str, tuple[str, ...]] = {
    "wkst": ("95598.arc_s_95598_wkst",),
    "s_comm_rec": ("95598.s_comm_rec",),
    "a_pay_flow": ("marketing.a_pay_flow",),
    "e_mp_day_read": ("metering.e_mp_day_read",),
    "terminal_event": ("metering.terminal_event",),
    "hall_ticket": ("hall.hall_ticket", "hall.hall_ticket_legacy"),
    "hall_ops": ("hall.hall_ticket",),
    "hall_gbk_csv": ("hall.hall_ticket_legacy",),
}
# file-level kinds → what a clear batch-failure message must mention
FILE_KINDS: dict[str, str] = {
    "schema_drift": r"schema drift",
    "truncated_gzip": r"truncated gzip",
    "broken_encoding": r"undecodable|encoding",
}
GOAL = 0.99


@dataclass
class CaptureReport:
    """Per-kind capture table plus every defect row with how (or whether) it was captured."""

    table: pd.DataFrame
    rows: pd.DataFrame
    # quarantined rows whose key has no injected defect: the contract rejected valid data (or the
    # simulator made a defect it did not record) — columns entity, row_key, failures
    unexplained: pd.DataFrame = dataclass_field(default_factory=lambda: pd.DataFrame(
        columns=["entity", "row_key", "failures"]))

    def render(self) -> str:
        lines = [f"{'kind':<18}{'defects':>9}{'captured':>10}{'capture %':>11}  how"]
        for r in self.table.itertuples():
            lines.append(f"{r.kind:<18}{r.defects:>9}{r.captured:>10}{r.capture_pct:>10.1f}%  {r.how}")
        missed = self.rows[~self.rows["captured"]]
        if len(missed):
            lines.append(f"\n{len(missed)} missed, first ones:")
            lines += [f"  {m.sim_date} {m.entity} {m.row_key} {m.kind} ({m.detail})"
                      for m in missed.head(20).itertuples()]
        lines.append(f"\nquarantined without an injected defect: {len(self.unexplained)} rows")
        if len(self.unexplained):
            reasons = self.unexplained.explode("failures").groupby(["entity", "failures"]).size()
            lines += [f"  {e} {f}: {n}" for (e, f), n in reasons.sort_values(ascending=False).head(20).items()]
        return "\n".join(lines)


def _frame(conn: psycopg.Connection, query: sql.Composable | str, params: tuple = ()) -> pd.DataFrame:
    cur = conn.execute(query, params)  # type: ignore[arg-type]
    return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description or []])


def _key_expr(contract: EntityContract, prefix: str = "") -> sql.Composable:
    """The row key as defect_truth spells it: primary-key values joined by ':'."""
    if prefix == "row":
        parts = [sql.SQL("(row->>{})").format(sql.Literal(k)) for k in contract.primary_key]
    else:
        parts = [sql.SQL("{}::text").format(sql.Identifier(k)) for k in contract.primary_key]
    return sql.SQL(" || ':' || ").join(parts)


def _reason_columns(reasons: list[str]) -> set[str]:
    return {m.group(1) for r in reasons if (m := re.search(r"\(([^)]*)\)", r))}


def _row_reason_ok(kind: str, detail: str, reasons: list[str], contract: EntityContract) -> bool:
    cols = _reason_columns(reasons)
    temporal = {c.name for c in contract.columns if c.is_temporal}
    numeric = {c.name for c in contract.columns if c.is_numeric}
    checks_on = {chk.column: {chk.a, *chk.b} for chk in contract.checks}
    if kind == "missing_required":
        return f"expect_column_values_to_not_be_null({detail})" in reasons
    if kind == "invalid_code":
        return f"expect_column_values_to_be_in_set({detail})" in reasons
    if kind == "malformed_phone":
        return any(r.startswith(f"expect_column_values_to_match_regex({detail})") for r in reasons)
    if kind == "bad_timestamp":
        return bool(cols & temporal) or any(checks_on.get(c, set()) & temporal for c in cols)
    if kind == "bad_reading":
        return bool(cols & numeric) or any(checks_on.get(c, set()) & numeric for c in cols)
    return bool(reasons)


def defect_capture(first: date, last: date, *, cfg: Settings | None = None) -> CaptureReport:
    """Join the window's ground truth with quarantine, raw, and the ledger (see module doc)."""
    cfg = cfg or settings()
    contracts = {c.key: c for c in load_contracts()}
    with psycopg.connect(cfg.url("sim_truth")) as truth_conn:
        truth = _frame(truth_conn, "select sim_date, entity, row_key, kind, coalesce(detail, '') detail "
                                   "from defect_truth where sim_date between %s and %s", (first, last))
    needed = sorted({k for e in truth["entity"].unique() for k in ENTITY_MAP.get(e, ())})
    quarantined: dict[str, dict[str, list[str]]] = {}
    q_files: dict[str, pd.DataFrame] = {}
    raw_counts: dict[str, pd.Series] = {}
    with psycopg.connect(cfg.url("warehouse")) as wh:
        ledger = _frame(wh, """select distinct on (source, entity, data_date) source || '.' || entity as key,
                                      data_date, status, coalesce(error, '') error
                               from ops.load_log where data_date between %s and %s
                               order by source, entity, data_date, attempt desc""", (first, last))
        for key in needed:
            c = contracts[key]
            exists = wh.execute("select to_regclass(%s) is not null",
                                (f'{c.raw_schema}."{c.raw_table}"',)).fetchone()
            if not exists or not exists[0]:
                continue
            q = _frame(wh, sql.SQL("select {k} as row_key, failures, _data_date, _source_file from {t} "
                                   "where _data_date between %s and %s").format(
                k=_key_expr(c, "row"), t=quarantine_ident(c)), (first, last))
            q_files[key] = q
            agg: dict[str, list[str]] = {}
            for k, f in zip(q["row_key"], q["failures"], strict=True):
                agg.setdefault(k, []).extend(f)
            quarantined[key] = agg
            r = _frame(wh, sql.SQL("select {k} as row_key, count(*) n from {t} where _data_date between %s and %s "
                                   "group by 1").format(k=_key_expr(c), t=raw_ident(c)), (first, last))
            raw_counts[key] = r.set_index("row_key")["n"] if len(r) else pd.Series(dtype="int64")
    failed = {(r.key, r.data_date): r.error for r in ledger.itertuples() if r.status == "failed"}

    captured, how = [], []
    for t in truth.itertuples():
        keys = ENTITY_MAP.get(t.entity, ())
        ok, why = False, "not found"
        if t.kind in FILE_KINDS:
            for key in keys:
                err = failed.get((key, t.sim_date))
                if err and re.search(FILE_KINDS[t.kind], err, re.I):
                    ok, why = True, "batch failed"
                    break
                q = q_files.get(key)
                token = t.row_key.split(":")[1] if t.row_key.count(":") >= 2 else ""
                if t.kind == "broken_encoding" and q is not None and len(q):
                    hit = q[(q["_data_date"] == t.sim_date) & q["_source_file"].fillna("").str.contains(token)
                            & q["failures"].map(lambda f: ENCODING_REASON in f)]
                    if len(hit):
                        ok, why = True, "lines quarantined"
                        break
        else:
            for key in keys:
                if (key, t.sim_date) in failed:
                    ok, why = True, "batch failed"
                    break
                reasons = quarantined.get(key, {}).get(t.row_key)
                n_raw = int(raw_counts.get(key, pd.Series(dtype="int64")).get(t.row_key, 0))
                if t.kind == "duplicate":
                    if (n_raw == 1 and not reasons) or (n_raw == 0 and reasons):
                        ok, why = True, "duplicate dropped"
                        break
                elif t.kind == "late_row":
                    if n_raw >= 1 or reasons:
                        ok, why = True, "loaded" if n_raw else "quarantined"
                        break
                elif reasons and _row_reason_ok(t.kind, t.detail, reasons, contracts[key]):
                    ok, why = True, "quarantined"
                    break
                elif reasons or n_raw:
                    why = f"wrong reason {reasons}" if reasons else "loaded as valid"
        captured.append(ok)
        how.append(why)
    rows = truth.assign(captured=captured, how=how)
    if rows.empty:
        table = pd.DataFrame(columns=["kind", "defects", "captured", "capture_pct", "how"])
    else:
        table = rows.groupby("kind").agg(defects=("captured", "size"), captured=("captured", "sum"),
                                         how=("how", lambda s: ", ".join(f"{k} {v}" for k, v in
                                                                         s.value_counts().items())))
        table["capture_pct"] = 100.0 * table["captured"] / table["defects"]
        table = table.reset_index()[["kind", "defects", "captured", "capture_pct", "how"]]
    return CaptureReport(table=table, rows=rows, unexplained=_unexplained(truth, quarantined))


def _unexplained(truth: pd.DataFrame, quarantined: dict[str, dict[str, list[str]]]) -> pd.DataFrame:
    """Quarantined rows of the mapped entities whose key the simulator never broke (any defect kind,
    any day of the window: a late row is quarantined on its arrival day)."""
    broken: dict[str, set[str]] = {}
    for entity, row_key in zip(truth["entity"], truth["row_key"], strict=True):
        for key in ENTITY_MAP.get(entity, ()):
            broken.setdefault(key, set()).add(row_key)
    rows = [(key, k, sorted(set(f))) for key, agg in quarantined.items() for k, f in agg.items()
            if k not in broken.get(key, set()) and ENCODING_REASON not in f]
    return pd.DataFrame(rows, columns=["entity", "row_key", "failures"])
