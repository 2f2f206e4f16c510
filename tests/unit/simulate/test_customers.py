"""Pure tests of the evolving customer base (simulate/customers.py): order independence of the
fold, rates, and the rules the changes follow."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from grid_appeals.simulate import customers, metering, payments
from grid_appeals.simulate.context import SimContext
from grid_appeals.simulate.defects import DefectRates
from grid_appeals.simulate.scales import get_scale

D = date(2024, 7, 20)


def _ctx(horizon: date | None = None) -> SimContext:
    ctx = SimContext(3, get_scale("tiny"), DefectRates())
    ctx.customers_horizon = horizon
    return ctx


def test_fold_up_to_a_day_does_not_depend_on_how_far_it_ran():
    """A worker folds to the run's last day and filters; a single-day run folds to that day."""
    short = customers.evolve(_ctx(), D).until(D)
    long = customers.evolve(_ctx(D + timedelta(days=30)), D).until(D)
    pd.testing.assert_frame_equal(short.log.reset_index(drop=True), long.log.reset_index(drop=True))
    pd.testing.assert_frame_equal(short.new.reset_index(drop=True), long.new.reset_index(drop=True))
    # and the day's readings and payments (new customers appended, cancelled ones gone) agree too
    a, b = _ctx(), _ctx(D + timedelta(days=30))
    pd.testing.assert_frame_equal(metering.readings(a, D), metering.readings(b, D))
    pd.testing.assert_frame_equal(payments.payments(a, D), payments.payments(b, D))


def test_existing_customers_rows_are_unchanged_by_new_ones():
    """New customers' readings and payments come after the existing ones, which are untouched."""
    ctx = _ctx()
    rd = metering.readings(ctx, D)
    new = rd["cust_idx"].to_numpy() < 0
    assert new.any() and not new[: (~new).sum()].any()  # appended at the end
    assert (rd.loc[new, "mp_no"] >= customers.NEW_MP_BASE).all()
    pay = payments.payments(ctx, D)
    assert (np.diff(pay["key"].to_numpy()) == 1).all()
    assert not (pay["cust_idx"].to_numpy() < 0)[: (pay["cust_idx"] >= 0).sum()].any()


def test_changes_follow_their_rules():
    ev = customers.evolve(_ctx(), D).until(D)
    lg = ev.log
    days = (D - customers.EPOCH).days + 1
    assert {"new_connection", "cancel", "prepaid", "mobile", "address", "capacity"} <= set(lg["kind"])
    # at most one cancellation per customer, nothing after it
    canc = lg[(lg["kind"] == "cancel") & (lg["column_name"] == "status_code")]
    assert canc["cons_no"].is_unique
    after = lg.merge(canc[["cons_no", "change_date"]], on="cons_no", suffixes=("", "_c"))
    assert not (after["change_date"] > after["change_date_c"]).any()
    # prepaid only ever 0 → 1, once
    pp = lg[lg["kind"] == "prepaid"]
    assert set(zip(pp["old_value"], pp["new_value"], strict=True)) == {("0", "1")} and pp["cons_no"].is_unique
    # 增容: capacity goes up; a 一般工商业 customer reaching 315 kVA becomes 大工业
    cap = lg[(lg["kind"] == "capacity") & (lg["column_name"] == "contract_cap")]
    assert (cap["new_value"].astype(float) > cap["old_value"].astype(float)).all()
    et = lg[(lg["kind"] == "capacity") & (lg["column_name"] == "elec_type_code")]
    assert set(zip(et["old_value"], et["new_value"], strict=True)) <= {("403", "100")}
    # new customers on their connection day, with numbers from their application
    assert (ev.new["connect_date"] >= pd.Timestamp(customers.EPOCH)).all()
    assert ev.new["uid"].is_unique
    # tiny's rates (5× realistic): a few changes a day, not hundreds
    per_day = lg.groupby("kind")["cons_no"].nunique() / days
    assert 0.5 < per_day["mobile"] < 20 and per_day["cancel"] < 5, per_day


def test_state_rows_hold_the_last_value():
    ctx = _ctx()
    ev = customers.evolve(ctx, D).until(D)
    cons, mp, truth = customers.state_rows(ctx.world, ev, customers.EPOCH - timedelta(days=1))
    assert cons["cons_no"].is_unique and len(mp) == len(ev.new) and len(truth) == len(ev.log)
    last = (
        ev.log[ev.log["idx"] >= 0]
        .sort_values("change_time", kind="stable")
        .groupby(["cons_no", "column_name"])["new_value"]
        .last()
    )
    got = cons.set_index("cons_no")
    for (cons_no, col), v in last.items():
        cell = got.at[cons_no, col]
        assert (float(cell) == float(v)) if col == "contract_cap" else cell == v, (cons_no, col)
    # a later start writes only customers touched after it
    later, _, t2 = customers.state_rows(ctx.world, ev, D - timedelta(days=2))
    assert set(later["cons_no"]) == set(ev.log.loc[ev.log["change_date"] > D - timedelta(days=2), "cons_no"])
    assert (t2["change_date"] > D - timedelta(days=2)).all()


def test_nothing_changes_before_the_epoch():
    ev = customers.evolve(_ctx(), customers.EPOCH - timedelta(days=1)).until(
        customers.EPOCH - timedelta(days=1)
    )
    assert ev.log.empty and ev.new.empty
