"""Customers that live and change: new connections, 销户, 费控 switches, contact edits, 增容.

The static world (``world.py``) is the customer base on 2024-06-30 (its build dates end there).
From ``EPOCH`` (2024-07-01) on it evolves day by day:

- a new-connection application (``s_app`` 101/102/201/202) that reaches 装表接电 on day D creates a
  customer (``c_cons``) and its metering point (``c_mp``) with build/ps date D, located in the
  台区 of the customer the application was drawn for; it is read from the next day's frozen
  reading on and pays like other customers (appended after the existing rows: every row of the
  existing customers stays byte-identical);
- a 增容 application (111/211) reaching 装表接电 raises the customer's contract capacity, and with
  it the voltage (single-phase above 10 kVA → 380 V, 高压增容 → 10 kV) and the 用电类别 (一般工商业
  reaching 315 kVA becomes 大工业, the two-part tariff threshold);
- cancellations, switches to prepaid (trending up), mobile changes and address corrections at the
  scale's daily rates (``scales.CustomerChanges``); a cancelled customer's meter is removed, so
  it has no frozen reading after the cancel date.

Determinism: the candidate events of a day are a pure function of (seed, day); which of them are
accepted (a cancelled customer changes no more, a prepaid customer does not switch again) depends
on the earlier days, so the accepted log is a fold from ``EPOCH`` — computed once per run up to
its latest day and filtered by date, which gives the same log up to D however far the fold ran.
The source tables hold the state as of the latest simulated day L (``sim_world.customers_as_of``,
like work-order lifecycles): a run that moves L forward writes only the rows of customers touched
in (old L, new L], in their state as of the new L (delete by key + COPY); a run that does not move
L writes nothing. Changes between simulated days are in the tables too (the source system's
current state), and every one of them is in ``sim_truth.customer_change_truth``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from grid_appeals.simulate import expansion, names
from grid_appeals.simulate.context import SimContext
from grid_appeals.simulate.rng import day_rng, hash_uniform
from grid_appeals.simulate.world import ELEC_CODES, ELEC_TYPES, VOLT_LIST, World

EPOCH = date(2024, 7, 1)
NEW_TYPES = ("101", "102", "201", "202")
UPGRADE_TYPES = ("111", "211")
CONNECT_STEP = 4  # index of 装表接电 in expansion.APP_STEPS
DAY0 = date(2015, 1, 1).toordinal()
# a new customer's number comes from its application: (creation day − 2015-01-01) · 10⁴ + row
NEW_CONS_BASE = 6_500_000_000
NEW_MP_BASE = 65_000_000_000_000
NEW_KEY = 10**12  # name/phone/address key space of new customers (existing ones use their index)
RESIDENTIAL = ("201", "202")
CONS_COLS = [
    "cons_no",
    "cons_name",
    "elec_type_code",
    "trade_code",
    "volt_code",
    "contract_cap",
    "urban_rural_flag",
    "org_no",
    "tg_no",
    "line_no",
    "rca_flag",
    "status_code",
    "elec_addr",
    "mobile",
    "build_date",
    "ps_date",
    "cancel_date",
    "upd_time",
]
MP_COLS = ["mp_no", "cons_no", "tg_no", "meter_asset_no", "t_factor", "inst_date"]
TRUTH_COLS = [
    "change_date",
    "change_time",
    "cons_no",
    "kind",
    "column_name",
    "old_value",
    "new_value",
    "event_ref",
]
KIND_ORDER = ["cancel", "capacity", "prepaid", "mobile", "address"]


def _office_time(keys: np.ndarray, seed: int, salt: int, d: date) -> pd.DatetimeIndex:
    """A time on d during office hours (08:30-17:30), by key."""
    sec = (8.5 * 3600 + hash_uniform(keys, seed, salt) * 9 * 3600).astype(np.int64)
    return pd.Timestamp(d) + pd.to_timedelta(sec, unit="s")


def _dates(ordinals: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(
        pd.Timestamp("0001-01-01") + pd.to_timedelta(np.asarray(ordinals, np.int64) - 1, unit="D")
    )


def cons_rows(w: World, idx: np.ndarray) -> pd.DataFrame:
    """``c_cons`` rows of existing customers as the world built them (before any change).

    Customers already cancelled in the world (status 9) got a cancel date between their power-on
    and 2024-06-30; ``upd_time`` is the last touch of the record (power-on or cancellation).
    """
    idx = np.asarray(idx, dtype=np.int64)
    cf = w.cust_frame(idx)
    build = _dates(w.cust_build[idx])
    ps = build + pd.Timedelta(days=7)
    status = w.cust_status[idx]
    span = np.maximum(0, (pd.Timestamp(EPOCH - timedelta(days=1)) - ps).days.to_numpy())
    cancel = ps + pd.to_timedelta((hash_uniform(idx, w.seed, 401) * span).astype(np.int64), unit="D")
    last = pd.DatetimeIndex(np.where(status == 9, cancel, ps))
    elec = cf["elec_type_code"]
    res = elec.isin(RESIDENTIAL)
    return pd.DataFrame(
        {
            "cons_no": cf["cons_no"],
            "cons_name": cf["cons_name"],
            "elec_type_code": elec,
            "trade_code": np.where(res, "9900", "0700"),
            "volt_code": cf["volt_code"],
            "contract_cap": np.where(res, 8.0, np.where(elec == "100", 630.0, 30.0)),
            "urban_rural_flag": np.where(cf["urban"], "1", "2"),
            "org_no": cf["org_no"],
            "tg_no": cf["tg_no"],
            "line_no": cf["line_no"],
            "rca_flag": cf["rca_flag"].astype(str),
            "status_code": status.astype(str),
            "elec_addr": cf["elec_addr"],
            "mobile": cf["mobile"],
            "build_date": build.strftime("%Y-%m-%d"),
            "ps_date": ps.strftime("%Y-%m-%d"),
            "cancel_date": np.where(status == 9, cancel.strftime("%Y-%m-%d"), None),
            "upd_time": _office_time(idx, w.seed, 402, EPOCH) - pd.Timestamp(EPOCH) + last,
        }
    )


def mp_rows(mp_no: pd.Series, cons_no: pd.Series, tg_no: pd.Series, inst_date: pd.Series) -> pd.DataFrame:
    """``c_mp`` rows: the metering point of each customer (installed at power-on)."""
    return pd.DataFrame(
        {
            "mp_no": mp_no,
            "cons_no": cons_no,
            "tg_no": tg_no,
            "meter_asset_no": "3330001" + mp_no.str[-10:],
            "t_factor": 1,
            "inst_date": inst_date,
        }
    )


def _connect_days(ctx: SimContext, c: date) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Time and day (ordinal) of the 装表接电 step of each application created on c (cached)."""

    def build() -> tuple[pd.DatetimeIndex, np.ndarray]:
        t = pd.DatetimeIndex([s[CONNECT_STEP] for s in expansion.applications(ctx, c)["steps"]]).floor("s")
        return t, t.normalize().to_numpy().astype("datetime64[D]").astype(np.int64) + date(
            1970, 1, 1
        ).toordinal()

    return ctx.cached(("app_connect", c), build)


def _completions(ctx: SimContext, first: date, last: date) -> pd.DataFrame:
    """Applications whose 装表接电 falls in [first, last] (``on`` = its day's ordinal), by day and key."""
    parts = []
    c = first - timedelta(days=expansion.LOOKBACK)
    while c <= last:
        ap = expansion.applications(ctx, c)
        if len(ap):
            t, on = _connect_days(ctx, c)
            # steps later than LOOKBACK days after creation are never simulated (s_app stays at the
            # state it had then): such an application connects no customer either
            m = (
                (on >= first.toordinal())
                & (on <= last.toordinal())
                & (on <= c.toordinal() + expansion.LOOKBACK)
            )
            if m.any():
                parts.append(
                    ap.loc[m, ["key", "app_no", "cust_idx", "type_code", "contract_cap"]].assign(
                        t=t[m], on=on[m]
                    )
                )
        c += timedelta(days=1)
    if not parts:
        return pd.DataFrame(
            {
                "key": np.zeros(0, np.int64),
                "app_no": [],
                "cust_idx": np.zeros(0, np.int64),
                "type_code": [],
                "contract_cap": np.zeros(0),
                "t": pd.DatetimeIndex([]),
                "on": np.zeros(0, np.int64),
            }
        )
    return (
        pd.concat(parts, ignore_index=True).sort_values(["on", "key"], kind="stable").reset_index(drop=True)
    )


def new_uid(app_keys: np.ndarray) -> np.ndarray:
    """Customer number offset of a new-connection application (from its key: day · 10⁴ + row)."""
    k = np.asarray(app_keys, dtype=np.int64)
    return (k // 10_000 - DAY0) * 10_000 + k % 10_000


def new_cons_no(app_keys: np.ndarray) -> np.ndarray:
    return (NEW_CONS_BASE + new_uid(app_keys)).astype(str).astype(object)


def _new_customers(ctx: SimContext, ap: pd.DataFrame) -> pd.DataFrame:
    """Attributes of the customers that new-connection applications create (``_completions`` rows)."""
    w, s = ctx.world, ctx.seed
    uid = new_uid(ap["key"].to_numpy())
    anchor = ap["cust_idx"].to_numpy().astype(np.int64)
    area = w.cust_area[anchor]
    urban = w.areas["urban"].to_numpy()[area]
    typ = ap["type_code"].to_numpy().astype(str)
    cap = ap["contract_cap"].to_numpy().astype(float)
    u = hash_uniform(uid, s, 410)
    elec = np.select(
        [typ == "101", typ == "102"],
        [np.where(urban, "202", "201"), np.where(~urban & (u < 0.3), "300", "403")],
        np.where(cap >= 315, "100", "403"),
    )
    volt = np.select(
        [typ == "101", typ == "102"], [np.where(cap > 10, "AC03802", "AC02202"), "AC03802"], "AC00101"
    )
    rca = np.where(typ == "101", 1, np.where(typ == "102", (hash_uniform(uid, s, 411) < 0.5).astype(int), 0))
    mean = np.array([ELEC_TYPES[e][2] for e in elec]) if len(elec) else np.zeros(0)
    z = np.sqrt(-2 * np.log(1 - hash_uniform(uid, s, 412))) * np.cos(2 * np.pi * hash_uniform(uid, s, 413))
    return pd.DataFrame(
        {
            "uid": uid,
            "app_no": ap["app_no"].to_numpy(),
            "anchor": anchor,
            "area_idx": area,
            "urban": urban,
            "elec_type_code": elec,
            "volt_code": volt,
            "contract_cap": cap,
            "rca_flag": rca,
            "kwh": mean * np.exp(0.45 * z),
            "digital": np.clip(hash_uniform(uid, s, 414) * 0.6 + np.where(urban, 0.4, 0.2), 0, 1),
            "t": pd.DatetimeIndex(ap["t"]),
            "connect_date": (ap["on"].to_numpy().astype(np.int64) - date(1970, 1, 1).toordinal()).astype(
                "datetime64[D]"
            ),
        }
    )


def new_cons_rows(w: World, nc: pd.DataFrame) -> pd.DataFrame:
    """``c_cons`` rows of new customers (``_new_customers`` frames)."""
    uid = nc["uid"].to_numpy().astype(np.int64)
    key = NEW_KEY + uid
    a = w.areas
    area = nc["area_idx"].to_numpy().astype(np.int64)
    st = a["station_idx"].to_numpy()[area]
    city = a["city_idx"].to_numpy()[area]
    elec = nc["elec_type_code"].to_numpy().astype(str)
    res = np.isin(elec, RESIDENTIAL)
    person = names.person_names(key, w.seed)
    biz = (
        np.array([*names.COMMUNITY, *names.STREET_HEADS], dtype=object)[uid % 63]
        + np.array(
            ["商贸有限公司", "便利店", "餐饮店", "农业合作社", "建材厂", "物业管理有限公司", "机械厂"],
            dtype=object,
        )[uid % 7]
    )
    day = pd.DatetimeIndex(nc["t"]).strftime("%Y-%m-%d")
    return pd.DataFrame(
        {
            "cons_no": (NEW_CONS_BASE + uid).astype(str),
            "cons_name": np.where(res, person, biz),
            "elec_type_code": elec,
            "trade_code": np.where(res, "9900", "0700"),
            "volt_code": nc["volt_code"].to_numpy(),
            "contract_cap": nc["contract_cap"].to_numpy(),
            "urban_rural_flag": np.where(nc["urban"], "1", "2"),
            "org_no": w.stations["org_no"].to_numpy()[st],
            "tg_no": a["tg_no"].to_numpy()[area],
            "line_no": w.lines["line_no"].to_numpy()[a["line_idx"].to_numpy()[area]],
            "rca_flag": nc["rca_flag"].astype(str).to_numpy(),
            "status_code": "1",
            "elec_addr": names.addresses(
                key,
                w.seed,
                ("陕西省" + w.cities["name"]).to_numpy()[city],
                w.stations["county_name"].to_numpy()[st],
                w.stations["town"].to_numpy()[st],
                nc["urban"].to_numpy(),
            ),
            "mobile": names.mobiles(key, w.seed),
            "build_date": day,
            "ps_date": day,
            "cancel_date": None,
            "upd_time": pd.DatetimeIndex(nc["t"]),
        }
    )


def new_mp_rows(nc: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    mp = pd.Series((NEW_MP_BASE + nc["uid"].to_numpy().astype(np.int64)).astype(str))
    return mp_rows(
        mp,
        rows["cons_no"].reset_index(drop=True),
        rows["tg_no"].reset_index(drop=True),
        rows["build_date"].reset_index(drop=True),
    )


def _pool(ctx: SimContext, name: str) -> np.ndarray:
    """Existing customers eligible for a kind of change (static: from the world alone)."""

    def build() -> np.ndarray:
        w = ctx.world
        live = w.cust_status == 1
        elec = np.array(ELEC_CODES)[w.cust_elec]
        if name == "postpaid":
            return np.flatnonzero(live & ~w.cust_rca).astype(np.int32)
        if name == "low_voltage":
            return np.flatnonzero(live & (w.cust_volt <= VOLT_LIST.index("AC03802"))).astype(np.int32)
        if name == "non_residential":
            return np.flatnonzero(live & ~np.isin(elec, RESIDENTIAL)).astype(np.int32)
        return np.flatnonzero(live).astype(np.int32)

    return ctx.cached(("cust_pool", name), build)


def applicant(ctx: SimContext, keys: np.ndarray, type_codes: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """The existing customer an application belongs to: 低压增容 only for low-voltage customers,
    高压增容 only for non-residential ones; other types keep the drawn customer (for new
    connections, the 台区 the new customer will be in)."""
    out = np.asarray(drawn, dtype=np.int64).copy()
    u = hash_uniform(np.asarray(keys, dtype=np.int64), ctx.seed, 420)
    for code, pool in (("111", "low_voltage"), ("211", "non_residential")):
        m = np.asarray(type_codes) == code
        if m.any():
            p = _pool(ctx, pool)
            out[m] = p[np.minimum((u[m] * len(p)).astype(np.int64), len(p) - 1)]
    return out


def _candidates(ctx: SimContext, d: date, up: pd.DataFrame) -> pd.DataFrame:
    """Change events drawn for d before acceptance (pure function of seed and d): existing
    customer, kind, time, and for 增容 (``up``: applications reaching 装表接电 on d) the added
    capacity, type and application."""
    rates = ctx.scale.changes
    rng = day_rng(ctx.seed, d, "customers")
    live = _pool(ctx, "live")
    post = _pool(ctx, "postpaid")
    years = (d.toordinal() - EPOCH.toordinal()) / 365.25
    idx, kind = [], []
    for k, pool, rate in (
        ("cancel", live, rates.cancel),
        ("prepaid", post, rates.prepaid * (1 + rates.prepaid_trend) ** years),
        ("mobile", live, rates.mobile),
        ("address", live, rates.address),
    ):
        n = rng.poisson(rate * len(pool)) if len(pool) else 0
        idx.append(pool[rng.integers(0, len(pool), n)] if n else np.zeros(0, np.int64))
        kind += [k] * n
    m = sum(len(x) for x in idx)
    key = d.toordinal() * 1_000_000 + np.arange(m + len(up), dtype=np.int64)
    ev = {
        "idx": np.concatenate([*idx, up["cust_idx"].to_numpy().astype(np.int64)]),
        "kind": np.array(kind + ["capacity"] * len(up), dtype=object),
        "cap": np.concatenate([np.full(m, np.nan), up["contract_cap"].to_numpy().astype(float)]),
        "type_code": np.concatenate([np.full(m, None, dtype=object), up["type_code"].to_numpy(dtype=object)]),
        "event_ref": np.concatenate([np.full(m, None, dtype=object), up["app_no"].to_numpy(dtype=object)]),
        "t": np.concatenate(
            [
                _office_time(key[:m], ctx.seed, 421, d).to_numpy(),
                pd.DatetimeIndex(up["t"]).to_numpy().astype("datetime64[ns]"),
            ]
        ),
        "key": key,
    }
    order = np.lexsort((key, np.array([KIND_ORDER.index(k) for k in ev["kind"]], dtype=np.int64)))
    return pd.DataFrame({k: v[order] for k, v in ev.items()})


def _new_mobile(w: World, key: np.ndarray) -> np.ndarray:
    return np.asarray(names.mobiles(np.asarray(key, dtype=np.int64), w.seed, salt=7), dtype=object)


_HOUSE_NO = re.compile(r"(\d+)号")


def _corrected(addr: str, key: int, seed: int) -> str:
    """Address correction: the house number (the first ``N号``) was recorded wrong."""
    m = _HOUSE_NO.search(addr)
    if not m:
        return addr + "附1号"
    old = int(m.group(1))
    new = old + 1 + int(hash_uniform(np.array([key]), seed, 422)[0] * 20)
    return addr[: m.start(1)] + str(new) + addr[m.end(1) :]


@dataclass
class Evolution:
    """Accepted changes from EPOCH through ``upto`` (the fold's result)."""

    upto: date
    log: pd.DataFrame  # TRUTH_COLS + idx (existing customer's index, -1 for a new customer)
    new: pd.DataFrame  # connections of every day in [EPOCH, upto]

    def until(self, d: date) -> Evolution:
        return Evolution(
            d,
            self.log[self.log["change_date"] <= d],
            self.new[self.new["connect_date"].to_numpy() <= np.datetime64(d)],
        )

    def cancelled_before(self, d: date) -> np.ndarray:
        """Existing customers whose meter was removed before d (cancelled on an earlier day)."""
        lg = self.log
        return lg.loc[(lg["kind"] == "cancel") & (lg["change_date"] < d), "idx"].to_numpy().astype(np.int64)


def evolve(ctx: SimContext, upto: date) -> Evolution:
    """The customer base's changes from EPOCH through ``upto`` — or further: callers filter by date
    (``until``, ``connected_before``…; the log up to a day does not depend on how far it ran).

    One fold per context, as far as the latest day asked or ``ctx.customers_horizon``: a worker
    forked after the runner computed it up to the run's last day never folds again.
    """
    ev = ctx.cache.get(("cust_evolution",))
    if ev is None or ev.upto < upto:
        ev = _fold(ctx, max(upto, ctx.customers_horizon or upto))
        ctx.cache[("cust_evolution",)] = ev
    return ev


def _fold(ctx: SimContext, upto: date) -> Evolution:
    w, seed = ctx.world, ctx.seed
    log_cols = [*TRUTH_COLS, "idx"]
    if upto < EPOCH:
        return Evolution(
            upto, pd.DataFrame(columns=log_cols), _new_customers(ctx, _completions(ctx, EPOCH, upto))
        )
    comp = _completions(ctx, EPOCH, upto)
    new = _new_customers(ctx, comp[comp["type_code"].isin(NEW_TYPES)].reset_index(drop=True))
    logs = [
        pd.DataFrame(
            {
                "change_date": pd.DatetimeIndex(new["connect_date"]).date,
                "change_time": new["t"],
                "cons_no": (NEW_CONS_BASE + new["uid"]).astype(str),
                "kind": "new_connection",
                "column_name": "*",
                "old_value": None,
                "new_value": new["elec_type_code"],
                "event_ref": new["app_no"],
                "idx": -1,
            }
        )
    ]
    up = comp[comp["type_code"].isin(UPGRADE_TYPES)]
    up_by = {int(k): g for k, g in up.groupby("on")}
    days = [EPOCH + timedelta(days=k) for k in range((upto - EPOCH).days + 1)]
    cands = [_candidates(ctx, d, up_by.get(d.toordinal(), up.iloc[:0])) for d in days]
    # existing customers' values before any change: one lookup for all the candidates
    uniq = np.unique(np.concatenate([c["idx"].to_numpy().astype(np.int64) for c in cands]))
    b = cons_rows(w, uniq)
    base = {c: dict(zip(uniq.tolist(), b[c].tolist(), strict=True)) for c in ("cons_no", *TRACKED)}
    state = _FoldState(base)
    for d, cand in zip(days, cands, strict=True):
        rows = _accept(w, seed, d, cand, state)
        if rows:
            logs.append(pd.DataFrame(rows, columns=log_cols))
    log = pd.concat(logs, ignore_index=True).sort_values("change_date", kind="stable").reset_index(drop=True)
    for c in ("old_value", "new_value"):
        log[c] = log[c].map(_text)
    return Evolution(upto, log, new)


@dataclass
class _FoldState:
    base: dict[str, dict[int, object]]  # column → existing customer → value before any change
    cancelled: set[int] = field(default_factory=set)
    switched: set[int] = field(default_factory=set)
    cur: dict[str, dict[int, object]] = field(default_factory=lambda: {c: {} for c in TRACKED})

    def get(self, col: str, i: int) -> object:
        return self.cur[col].get(i, self.base[col][i])


TRACKED = ("mobile", "elec_addr", "contract_cap", "volt_code", "elec_type_code")


def _text(v: object) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return f"{v:g}" if isinstance(v, float) else str(v)


def _accept(w: World, seed: int, d: date, cand: pd.DataFrame, st: _FoldState) -> list[tuple]:
    """Day d's accepted changes (old → new per column), updating the fold's state in place."""
    today: set[int] = set()
    seen: set[tuple[int, str]] = set()
    rows: list[tuple] = []
    for r in cand.itertuples(index=False):
        i = int(r.idx)
        if i in st.cancelled or i in today:
            continue
        if r.kind == "cancel":
            today.add(i)
            changes = [("status_code", "1", "9"), ("cancel_date", None, d.isoformat())]
        elif r.kind == "prepaid":
            if i in st.switched:
                continue
            st.switched.add(i)
            changes = [("rca_flag", "0", "1")]
        elif r.kind == "mobile":
            changes = [("mobile", st.get("mobile", i), _new_mobile(w, np.array([r.key]))[0])]
        elif r.kind == "address":
            old = str(st.get("elec_addr", i))
            changes = [("elec_addr", old, _corrected(old, int(r.key), seed))]
        else:  # capacity: a 增容 application reached 装表接电
            cap0, volt0 = float(st.get("contract_cap", i)), str(st.get("volt_code", i))
            elec0 = str(st.get("elec_type_code", i))
            cap1 = cap0 + float(r.cap)
            if r.type_code == "211":
                volt1 = "AC00101" if volt0 in ("AC02202", "AC03802") else volt0
            else:
                volt1 = "AC03802" if volt0 == "AC02202" and cap1 > 10 else volt0
            elec1 = "100" if elec0 == "403" and cap1 >= 315 else elec0
            changes = [
                ("contract_cap", cap0, cap1),
                ("volt_code", volt0, volt1),
                ("elec_type_code", elec0, elec1),
            ]
        for col, old, new in changes:
            if old == new or (i, col) in seen:
                continue
            seen.add((i, col))
            if col in st.cur:
                st.cur[col][i] = new
            rows.append((d, r.t, st.base["cons_no"][i], r.kind, col, old, new, r.event_ref, i))
    st.cancelled |= today
    return rows


def state_rows(w: World, ev: Evolution, after: date) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(c_cons rows, c_mp rows, truth rows) to write when the tables move from the state as of
    ``after`` to the state as of ``ev.upto``: only customers touched in between, in their final
    state; the truth rows of every change in between."""
    lg = ev.log[ev.log["change_date"] > after]
    nc = ev.new[ev.new["connect_date"].to_numpy() > np.datetime64(after)].reset_index(drop=True)
    new_rows = new_cons_rows(w, nc) if len(nc) else pd.DataFrame(columns=CONS_COLS)
    mp = new_mp_rows(nc, new_rows) if len(nc) else pd.DataFrame(columns=MP_COLS)
    idx = np.unique(lg.loc[lg["idx"] >= 0, "idx"].to_numpy().astype(np.int64))
    rows = cons_rows(w, idx).set_index(pd.Index(idx))
    full = ev.log[ev.log["idx"].isin(idx)].sort_values("change_time", kind="stable")
    if len(full):
        last = full.groupby(["idx", "column_name"])["new_value"].last().unstack()
        for col in last.columns:
            v = last[col].dropna()
            rows.loc[v.index, col] = v.astype(float) if col == "contract_cap" else v
        upd = full.groupby("idx")["change_time"].max()
        rows.loc[upd.index, "upd_time"] = pd.DatetimeIndex(upd.to_numpy())
    cons = pd.concat([rows.reset_index(drop=True), new_rows], ignore_index=True)[CONS_COLS]
    return cons, mp, lg[TRUTH_COLS].reset_index(drop=True)


def connected_before(ctx: SimContext, d: date) -> pd.DataFrame:
    """New customers connected before d (read from the day after 装表接电 on, paying from then)."""
    nc = evolve(ctx, d).new
    return nc[nc["connect_date"].to_numpy() < np.datetime64(d)]


def org_no(w: World, nc: pd.DataFrame) -> np.ndarray:
    """Supply station of new customers."""
    return w.stations["org_no"].to_numpy()[w.areas["station_idx"].to_numpy()[nc["area_idx"].to_numpy()]]
