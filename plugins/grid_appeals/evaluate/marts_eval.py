"""Correctness of the appeal marts against the simulator's ground truth (issue 6 acceptance).

Why a separate module: only ``evaluate/`` (and ``simulate/``) may read ``<prefix>_sim_truth``; the
pipeline and the dbt models never see the answers, so every number here measures what the marts
found on their own. For a loaded window [first, last] it scores:

(a) hot spots — ``marts.fct_hotspot_daily`` surges (org_level ``supply_station``, dimension
    ``topic``) vs ``topic_surge``. A flagged cell (station, topic, day) *matches* a truth surge when
    station and topic are equal and the day lies within the surge's days ± ``tolerance_days``.
    Recall = planted surges (one per ``surge_id``, all its days) matched by ≥ 1 flag. Strict
    precision = flags matching a planted surge / all flags; lenient precision also counts flags
    matching an organic burst the simulator recorded (``planted = false``) as correct. The first
    ``warmup_days`` of the window are skipped (the detector needs a trailing baseline).
(b) frequent-outage areas — ``marts.fct_frequent_outage_areas.is_frequent_outage`` vs
    ``frequent_outage_area`` per (as_of, tg_no), for as-of dates whose 60-day lookback lies inside
    the window (earlier dates' truth counts outages the warehouse never received).
(c) repeat→complaint chains — complaints that truth says followed an earlier work order
    (``appeal_truth.parent_app_no``): recovered when the complaint and its parent sit in the same
    ``int_appeal_chain_members`` chain (recall; also "whole chain": every ancestor in the window in
    the same chain). Precision of ``fct_appeal_chains.converted_to_complaint``: the chain's first
    complaint really has an earlier contact of that chain among its truth ancestors.
(d) propensity — ``ml.complaint_propensity`` scores of run dates in [score_from, last − 14] vs
    ``escalation_truth``: positive when the true complaint came after the run date and within 14
    days of it. ROC AUC (pooled and mean per run date) and precision in the top 5 % per run date.
(e) a markdown report and a JSON document (``MartsReport.render`` / ``to_json``).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from grid_appeals.config import Settings, settings

GOALS = {"hotspot_precision": 0.9, "hotspot_recall": 0.9, "frequent_outage_precision": 0.9,
         "frequent_outage_recall": 0.9, "chain_recall": 0.9, "propensity_auc": 0.85}
HORIZON_DAYS = 14  # the propensity label horizon (same as analytics.propensity)
HOTSPOT_WARMUP_DAYS = 28  # trailing baseline the detector needs before its flags are judged
OUTAGE_LOOKBACK_DAYS = 60  # truth: ≥ 3 outages starting in [D − 60, D]


def _query(cfg: Settings, role: str, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """One query into a DataFrame (``role`` = warehouse or sim_truth): the evaluation joins in pandas
    because truth and warehouse are separate databases."""
    from grid_appeals.warehouse.connection import connect

    with connect(role, cfg=cfg) as conn:
        cur = conn.execute(sql, params or {})  # type: ignore[arg-type]
        return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description or []])


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


# ---- (a) hot spots ---------------------------------------------------------------------------------
def hotspot_eval(first: date, last: date, *, cfg: Settings | None = None, tolerance_days: int = 1,
                 warmup_days: int = HOTSPOT_WARMUP_DAYS) -> dict[str, Any]:
    """Station × topic surges flagged by the mart vs planted (and organic) surges of the simulator."""
    cfg = cfg or settings()
    lo = first + timedelta(days=warmup_days)
    if lo > last:
        lo = first
    truth = _query(cfg, "sim_truth", """
        select surge_date, station_org_no, topic, planted, surge_id, n_appeals, n_planted
        from topic_surge where surge_date between %(lo)s and %(hi)s""",
                   {"lo": lo - timedelta(days=tolerance_days), "hi": last + timedelta(days=tolerance_days)})
    flags = _query(cfg, "warehouse", """
        select appeal_date, org_id, dimension_value as topic, appeals, baseline_daily, surge_z
        from marts.fct_hotspot_daily
        where is_surge and dimension = 'topic' and org_level = 'supply_station'
          and appeal_date between %(lo)s and %(hi)s""", {"lo": lo, "hi": last})
    truth["surge_date"] = pd.to_datetime(truth["surge_date"]).dt.date
    flags["appeal_date"] = pd.to_datetime(flags["appeal_date"]).dt.date
    planted = truth[truth["planted"]]
    surges = (planted.groupby("surge_id")
              .agg(station=("station_org_no", "first"), topic=("topic", "first"),
                   start=("surge_date", "min"), end=("surge_date", "max"), per_day=("n_planted", "max"))
              .reset_index())
    # judge surges that start inside the judged range (their first day has a baseline)
    surges = surges[(surges["start"] >= lo) & (surges["start"] <= last)]
    organic = truth[~truth["planted"]]

    def near(day: date, days: list[date]) -> bool:
        return any(abs((day - d).days) <= tolerance_days for d in days)

    flag_cells: dict[tuple[str, str], list[date]] = {}
    for r in flags.itertuples():
        flag_cells.setdefault((r.org_id, r.topic), []).append(r.appeal_date)
    found = []
    for s in surges.itertuples():
        days = flag_cells.get((s.station, s.topic), [])
        found.append(any(s.start - timedelta(days=tolerance_days) <= d <= s.end + timedelta(days=tolerance_days)
                         for d in days))
    surges = surges.assign(found=found)
    planted_days: dict[tuple[str, str], list[date]] = {}
    for r in planted.itertuples():
        planted_days.setdefault((r.station_org_no, r.topic), []).append(r.surge_date)
    organic_days: dict[tuple[str, str], list[date]] = {}
    for r in organic.itertuples():
        organic_days.setdefault((r.station_org_no, r.topic), []).append(r.surge_date)
    verdict = []
    for r in flags.itertuples():
        key = (r.org_id, r.topic)
        if near(r.appeal_date, planted_days.get(key, [])):
            verdict.append("planted")
        elif near(r.appeal_date, organic_days.get(key, [])):
            verdict.append("organic")
        else:
            verdict.append("false")
    flags = flags.assign(verdict=verdict)
    n_flags = len(flags)
    n_planted_flags = int((flags["verdict"] == "planted").sum())
    n_organic_flags = int((flags["verdict"] == "organic").sum())
    organic_judged = organic[(organic["surge_date"] >= lo) & (organic["surge_date"] <= last)]
    organic_found = sum(near(r.surge_date, flag_cells.get((r.station_org_no, r.topic), []))
                        for r in organic_judged.itertuples())
    return {
        "judged_from": lo.isoformat(), "judged_to": last.isoformat(), "tolerance_days": tolerance_days,
        "planted_surges": len(surges), "planted_found": int(surges["found"].sum()),
        "recall": _ratio(int(surges["found"].sum()), len(surges)),
        "flags": n_flags, "flags_planted": n_planted_flags, "flags_organic": n_organic_flags,
        "flags_false": n_flags - n_planted_flags - n_organic_flags,
        "precision_strict": _ratio(n_planted_flags, n_flags),
        "precision_lenient": _ratio(n_planted_flags + n_organic_flags, n_flags),
        # detections that match an organic row are ignored: precision among the rest
        "precision_planted_vs_unexplained": _ratio(n_planted_flags, n_flags - n_organic_flags),
        "organic_surges": len(organic_judged), "organic_found": int(organic_found),
        "missed": surges.loc[~surges["found"], ["surge_id", "station", "topic", "start", "end", "per_day"]]
        .astype(str).to_dict("records"),
        "false_flags_sample": flags.loc[flags["verdict"] == "false"].head(10).astype(str).to_dict("records"),
    }


# ---- (b) frequent-outage areas ----------------------------------------------------------------------
def frequent_outage_eval(first: date, last: date, *, cfg: Settings | None = None,
                         lookback_days: int = OUTAGE_LOOKBACK_DAYS) -> dict[str, Any]:
    """Flagged (as_of, area) pairs vs truth's frequent-outage areas, for as-of dates with full history."""
    cfg = cfg or settings()
    lo = first + timedelta(days=lookback_days)
    if lo > last:
        return {"as_of_from": None, "as_of_to": last.isoformat(), "note": "window shorter than the lookback"}
    truth = _query(cfg, "sim_truth", """select as_of, tg_no, outages_60d from frequent_outage_area
                                       where as_of between %(lo)s and %(hi)s""", {"lo": lo, "hi": last})
    pred = _query(cfg, "warehouse", """select as_of_date as as_of, transformer_area_id as tg_no, outages_60d
                                      from marts.fct_frequent_outage_areas
                                      where is_frequent_outage and as_of_date between %(lo)s and %(hi)s""",
                  {"lo": lo, "hi": last})
    for f in (truth, pred):
        f["as_of"] = pd.to_datetime(f["as_of"]).dt.date
    t = set(zip(truth["as_of"], truth["tg_no"], strict=True))
    p = set(zip(pred["as_of"], pred["tg_no"], strict=True))
    tp = len(t & p)
    areas_t, areas_p = set(truth["tg_no"]), set(pred["tg_no"])
    return {
        "as_of_from": lo.isoformat(), "as_of_to": last.isoformat(), "as_of_days": (last - lo).days + 1,
        "truth_area_days": len(t), "flagged_area_days": len(p), "true_positives": tp,
        "precision": _ratio(tp, len(p)), "recall": _ratio(tp, len(t)),
        "truth_areas": len(areas_t), "flagged_areas": len(areas_p),
        "area_precision": _ratio(len(areas_t & areas_p), len(areas_p)),
        "area_recall": _ratio(len(areas_t & areas_p), len(areas_t)),
        "missed_sample": [list(map(str, x)) for x in sorted(t - p)[:10]],
        "false_sample": [list(map(str, x)) for x in sorted(p - t)[:10]],
    }


# ---- (c) repeat → complaint chains ------------------------------------------------------------------
def chain_eval(first: date, last: date, *, cfg: Settings | None = None) -> dict[str, Any]:
    """Do complaints that followed earlier contacts share a mart chain with those contacts?"""
    cfg = cfg or settings()
    truth = _query(cfg, "sim_truth", """
        select app_no, parent_app_no, busi_type, cause, repeat_complaint, created_date
        from appeal_truth where created_date between %(lo)s and %(hi)s""", {"lo": first, "hi": last})
    members = _query(cfg, "warehouse", """select work_order_id, chain_id, accepted_at, is_complaint
                                         from intermediate.int_appeal_chain_members""")
    in_wh = _query(cfg, "warehouse", "select work_order_id, main_work_order_id from marts.fct_appeals")
    chain_of = dict(zip(members["work_order_id"], members["chain_id"], strict=True))
    parent = dict(zip(truth["app_no"], truth["parent_app_no"], strict=True))
    known = set(truth["app_no"])
    complaints = truth[(truth["busi_type"] == "投诉") & truth["parent_app_no"].notna()
                       & truth["parent_app_no"].isin(known)]

    def ancestors(app: str) -> list[str]:
        out, cur = [], parent.get(app)
        while isinstance(cur, str) and cur in known and len(out) < 50:
            out.append(cur)
            cur = parent.get(cur)
        return out

    rows = []
    merged = set(in_wh.loc[in_wh["main_work_order_id"].notna(), "work_order_id"])
    present = set(in_wh["work_order_id"])
    for r in complaints.itertuples():
        anc = ancestors(r.app_no)
        c = chain_of.get(r.app_no)
        same_parent = c is not None and chain_of.get(r.parent_app_no) == c
        same_all = c is not None and all(chain_of.get(a) == c for a in anc)
        reason = ("ok" if same_parent else
                  "complaint_not_in_warehouse" if r.app_no not in present else
                  "parent_not_in_warehouse" if r.parent_app_no not in present else
                  "complaint_merged_suborder" if r.app_no in merged else
                  "parent_merged_suborder" if r.parent_app_no in merged else
                  "no_customer_or_split")
        rows.append((r.app_no, r.cause, same_parent, same_all, reason))
    res = pd.DataFrame(rows, columns=["app_no", "cause", "same_parent", "same_all", "reason"])
    # precision of converted chains: the first complaint of the chain has a truth ancestor in the chain
    conv = _query(cfg, "warehouse", """
        select m.chain_id, m.work_order_id
        from intermediate.int_appeal_chain_members m
        join marts.fct_appeal_chains c on c.chain_id = m.chain_id
        where c.converted_to_complaint and m.is_complaint and m.accepted_at = c.first_complaint_at
          and c.first_contact_date between %(lo)s and %(hi)s""", {"lo": first, "hi": last})
    conv = conv.drop_duplicates("chain_id")
    ok = [any(chain_of.get(a) == r.chain_id for a in ancestors(r.work_order_id)) for r in conv.itertuples()]
    judged = [r.work_order_id in known for r in conv.itertuples()]
    n_judged = int(sum(judged))
    n_ok = int(sum(o for o, j in zip(ok, judged, strict=True) if j))
    by_cause = (res.groupby("cause")["same_parent"].agg(["count", "mean"]).round(4)
                .rename(columns={"count": "complaints", "mean": "recall"}).reset_index().to_dict("records"))
    return {
        "complaints_with_prior_contact": len(res),
        "recovered_parent": int(res["same_parent"].sum()) if len(res) else 0,
        "recall": _ratio(int(res["same_parent"].sum()), len(res)) if len(res) else None,
        "recall_whole_chain": _ratio(int(res["same_all"].sum()), len(res)) if len(res) else None,
        # the linking rule alone: pairs whose two orders both reached the warehouse (not quarantined)
        "complaints_loaded_with_parent": int(res["reason"].isin(["ok", "complaint_merged_suborder",
                                                                 "parent_merged_suborder",
                                                                 "no_customer_or_split"]).sum()),
        "recall_loaded": _ratio(int(res["same_parent"].sum()),
                                int(res["reason"].isin(["ok", "complaint_merged_suborder", "parent_merged_suborder",
                                                        "no_customer_or_split"]).sum())),
        "miss_reasons": res.loc[~res["same_parent"], "reason"].value_counts().to_dict() if len(res) else {},
        "recall_by_cause": by_cause,
        "converted_chains": len(conv), "converted_chains_judged": n_judged, "converted_chains_correct": n_ok,
        "converted_precision": _ratio(n_ok, n_judged),
    }


# ---- (d) propensity ---------------------------------------------------------------------------------
def auc(y: np.ndarray, s: np.ndarray) -> float | None:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, ties counted half: no sklearn needed."""
    y = np.asarray(y, dtype=int)
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    if pos == 0 or neg == 0:
        return None
    ranks = pd.Series(np.asarray(s, dtype=float)).rank(method="average").to_numpy()
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def propensity_eval(first: date, last: date, *, cfg: Settings | None = None, score_from: date | None = None,
                    horizon_days: int = HORIZON_DAYS, top_share: float = 0.05) -> dict[str, Any]:
    """AUC and precision@top 5 % of the scores of each run date whose horizon ends inside the window."""
    cfg = cfg or settings()
    hi = last - timedelta(days=horizon_days)
    lo = score_from or first + (last - first) / 2
    scores = _query(cfg, "warehouse", """select run_date, work_order_id, score, score_rank
                                        from ml.complaint_propensity
                                        where run_date between %(lo)s and %(hi)s""", {"lo": lo, "hi": hi})
    if scores.empty:
        return {"run_dates": 0, "scored": 0, "auc": None, "note": f"no scores in [{lo}, {hi}]"}
    truth = _query(cfg, "sim_truth", """select app_no as work_order_id, escalated, escalated_at
                                       from escalation_truth where created_date between %(lo)s and %(hi)s""",
                   {"lo": lo - timedelta(days=horizon_days + 1), "hi": hi})
    df = scores.merge(truth, on="work_order_id", how="left")
    df["run_date"] = pd.to_datetime(df["run_date"])
    start = df["run_date"] + pd.Timedelta(days=1)  # scores use what was known by the end of run_date
    esc = pd.to_datetime(df["escalated_at"])
    already = df["escalated"].fillna(False).astype(bool) & (esc < start)
    df = df[~already & df["escalated"].notna()].copy()
    esc = pd.to_datetime(df["escalated_at"])
    df["label"] = (df["escalated"].astype(bool) & (esc >= df["run_date"] + pd.Timedelta(days=1))
                   & (esc < df["run_date"] + pd.Timedelta(days=1 + horizon_days))).astype(int)
    df["score"] = df["score"].astype(float)
    per_day = []
    for d, g in df.groupby("run_date"):
        k = max(1, math.ceil(top_share * len(g)))
        top = g.nsmallest(k, "score_rank")
        per_day.append({"run_date": d.date().isoformat(), "scored": len(g), "positives": int(g["label"].sum()),
                        "auc": auc(g["label"].to_numpy(), g["score"].to_numpy()),
                        "precision_top": round(float(top["label"].mean()), 4)})
    pd_ = pd.DataFrame(per_day)
    aucs = pd_["auc"].dropna()
    return {
        "run_dates": len(pd_), "run_from": lo.isoformat(), "run_to": hi.isoformat(), "scored": len(df),
        "positives": int(df["label"].sum()), "base_rate": round(float(df["label"].mean()), 4),
        "dropped_already_escalated": int(already.sum()),
        "auc": round(float(auc(df["label"].to_numpy(), df["score"].to_numpy()) or float("nan")), 4),
        "auc_mean_per_run_date": round(float(aucs.mean()), 4) if len(aucs) else None,
        "precision_at_top_5pct": round(float(pd_["precision_top"].mean()), 4),
        "lift_at_top_5pct": (round(float(pd_["precision_top"].mean()) / float(df["label"].mean()), 2)
                             if df["label"].mean() > 0 else None),
        "per_run_date": per_day,
    }


# ---- (e) report -------------------------------------------------------------------------------------
@dataclass
class MartsReport:
    """All four evaluations of one window, renderable as markdown and JSON."""

    first: date
    last: date
    prefix: str
    hotspots: dict[str, Any] = field(default_factory=dict)
    frequent_outage: dict[str, Any] = field(default_factory=dict)
    chains: dict[str, Any] = field(default_factory=dict)
    propensity: dict[str, Any] = field(default_factory=dict)

    def headline(self) -> list[tuple[str, float | None, float, int | None]]:
        """(metric, value, goal, truth items it rests on)."""
        h, f, c, p = self.hotspots, self.frequent_outage, self.chains, self.propensity
        return [
            ("hot spots: recall (planted surges)", h.get("recall"), GOALS["hotspot_recall"], h.get("planted_surges")),
            ("hot spots: precision strict (planted only)", h.get("precision_strict"), GOALS["hotspot_precision"],
             h.get("flags")),
            ("hot spots: precision lenient (planted or organic)", h.get("precision_lenient"),
             GOALS["hotspot_precision"], h.get("flags")),
            ("frequent-outage areas: precision", f.get("precision"), GOALS["frequent_outage_precision"],
             f.get("flagged_area_days")),
            ("frequent-outage areas: recall", f.get("recall"), GOALS["frequent_outage_recall"],
             f.get("truth_area_days")),
            ("repeat→complaint chains: recall", c.get("recall"), GOALS["chain_recall"],
             c.get("complaints_with_prior_contact")),
            ("repeat→complaint chains: recall, both contacts loaded", c.get("recall_loaded"), GOALS["chain_recall"],
             c.get("complaints_loaded_with_parent")),
            ("converted chains: precision", c.get("converted_precision"), 0.0, c.get("converted_chains_judged")),
            ("propensity: AUC (pooled)", p.get("auc"), GOALS["propensity_auc"], p.get("positives")),
            ("propensity: precision@5% (mean per run date)", p.get("precision_at_top_5pct"), 0.0, p.get("positives")),
        ]

    def passed(self) -> bool:
        return all(v is not None and v >= g for _, v, g, _ in self.headline() if g > 0)

    def render(self) -> str:
        lines = [f"# Mart correctness vs ground truth — `{self.prefix}` {self.first} … {self.last}", "",
                 "| metric | value | goal | truth items | ok |", "|---|---|---|---|---|"]
        for name, v, g, n in self.headline():
            ok = "" if g <= 0 else ("✅" if v is not None and v >= g else "❌")
            lines.append(f"| {name} | {'n/a' if v is None else f'{v:.3f}'} | {g if g > 0 else '—'} | {n} | {ok} |")
        h, f, c, p = self.hotspots, self.frequent_outage, self.chains, self.propensity
        lines += ["", "## Hot spots",
                  f"Judged {h.get('judged_from')} … {h.get('judged_to')}, ±{h.get('tolerance_days')} day: "
                  f"{h.get('planted_found')}/{h.get('planted_surges')} planted surges found; {h.get('flags')} flags = "
                  f"{h.get('flags_planted')} planted + {h.get('flags_organic')} organic + {h.get('flags_false')} "
                  f"unexplained; organic bursts found {h.get('organic_found')}/{h.get('organic_surges')}.",
                  "", "## Frequent-outage areas",
                  f"As-of {f.get('as_of_from')} … {f.get('as_of_to')}: {f.get('true_positives')} of "
                  f"{f.get('truth_area_days')} true area-days flagged, {f.get('flagged_area_days')} flagged; "
                  f"distinct areas precision {f.get('area_precision')} recall {f.get('area_recall')}.",
                  "", "## Repeat → complaint chains",
                  f"{c.get('recovered_parent')}/{c.get('complaints_with_prior_contact')} complaints share a chain with "
                  f"their parent contact (whole chain: {c.get('recall_whole_chain')}); misses: {c.get('miss_reasons')}. "
                  f"Converted chains {c.get('converted_chains')}, judged {c.get('converted_chains_judged')}, correct "
                  f"{c.get('converted_chains_correct')}.", "",
                  "| cause | complaints | recall |", "|---|---|---|"]
        lines += [f"| {r['cause']} | {r['complaints']} | {r['recall']} |" for r in c.get("recall_by_cause", [])]
        lines += ["", "## Propensity",
                  f"Run dates {p.get('run_from')} … {p.get('run_to')} ({p.get('run_dates')}): {p.get('scored')} scored, "
                  f"{p.get('positives')} escalated within {HORIZON_DAYS} days (base rate {p.get('base_rate')}); "
                  f"AUC pooled {p.get('auc')}, mean per run date {p.get('auc_mean_per_run_date')}; "
                  f"precision@5% {p.get('precision_at_top_5pct')} (lift {p.get('lift_at_top_5pct')})."]
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        d = asdict(self)
        d["first"], d["last"] = self.first.isoformat(), self.last.isoformat()
        d["headline"] = [{"metric": m, "value": v, "goal": g or None, "truth_items": n}
                         for m, v, g, n in self.headline()]
        return json.dumps(d, ensure_ascii=False, indent=1, default=str)

    def write(self, directory: Path) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        stem = f"marts_eval_{self.first:%Y%m%d}_{self.last:%Y%m%d}"
        md, js = directory / f"{stem}.md", directory / f"{stem}.json"
        md.write_text(self.render(), encoding="utf-8")
        js.write_text(self.to_json(), encoding="utf-8")
        return md, js


def evaluate_marts(first: date, last: date, *, cfg: Settings | None = None,
                   score_from: date | None = None) -> MartsReport:
    """Run (a)-(d) on the window [first, last] already loaded and built under ``cfg``'s prefix."""
    cfg = cfg or settings()
    return MartsReport(first, last, cfg.db_prefix,
                       hotspots=hotspot_eval(first, last, cfg=cfg),
                       frequent_outage=frequent_outage_eval(first, last, cfg=cfg),
                       chains=chain_eval(first, last, cfg=cfg),
                       propensity=propensity_eval(first, last, cfg=cfg, score_from=score_from))
