"""File drops: metering gzip CSVs and business-hall workbooks / GBK CSV exports, with file defects."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from grid_appeals.config import Settings
from grid_appeals.simulate import halls, metering
from grid_appeals.simulate.context import SimContext
from grid_appeals.simulate.defects import day_has, pick
from grid_appeals.simulate.rng import hash_uniform
from grid_appeals.simulate.writer import write_gzip_csv


def _late_mask(keys: np.ndarray, seed: int, rate: float) -> np.ndarray:
    return pick(keys, seed, "late_row", "read", rate)


def write_metering(ctx: SimContext, d: date, cfg: Settings, defects: list) -> dict[str, int]:
    out = cfg.landing_dir / "metering" / d.isoformat()
    out.mkdir(parents=True, exist_ok=True)
    for f in out.glob("*"):
        f.unlink()
    dr, s = ctx.defects, ctx.seed
    rd = metering.readings(ctx, d)
    keys = rd["mp_no"].to_numpy() * 1000 + d.toordinal() % 1000
    late = _late_mask(keys, s, dr.late_row)
    rd_today = rd[~late]
    prev = d - timedelta(days=1)
    rp = metering.readings(ctx, prev)
    late_prev = _late_mask(rp["mp_no"].to_numpy() * 1000 + prev.toordinal() % 1000, s, dr.late_row)
    late_rows = rp[late_prev]
    defects += [("e_mp_day_read", f"{m}:{prev}", "late_row", f"in file {d}") for m in late_rows["mp_no"]]
    df = pd.concat([rd_today, late_rows], ignore_index=True)
    k = df["mp_no"].to_numpy() * 1000 + pd.to_datetime(df["data_date"]).map(lambda x: x.toordinal() % 1000).to_numpy() \
        if len(df) < 0 else df["mp_no"].to_numpy() * 1000 + np.where(df["data_date"] == d.isoformat(), d.toordinal() % 1000,
                                                                    prev.toordinal() % 1000)
    bad = pick(k, s, "bad_reading", "read", dr.bad_reading)
    if bad.any():
        neg = hash_uniform(k[bad], s, 81) < 0.5
        v = df.loc[bad, "pap_r"].to_numpy()
        df.loc[bad, "pap_r"] = np.where(neg, -np.abs(v), np.round(v * 1000, 2))
        defects += [("e_mp_day_read", f"{m}:{dd}", "bad_reading", "negative" if n_ else "implausible")
                    for m, dd, n_ in zip(df.loc[bad, "mp_no"], df.loc[bad, "data_date"], neg, strict=True)]
    dup = pick(k, s, "duplicate", "read", dr.duplicate)
    defects += [("e_mp_day_read", f"{m}:{dd}", "duplicate", "") for m, dd in zip(df.loc[dup, "mp_no"], df.loc[dup, "data_date"],
                                                                                strict=True)]
    df = pd.concat([df, df[dup]], ignore_index=True)
    cols = list(metering.READ_COLS)
    df = df[cols]
    if day_has(d, s, "schema_drift_day", dr.schema_drift_day):
        df = df.rename(columns={"pap_r": "pap_r_total"}).drop(columns=["pap_r4"])
        defects.append(("e_mp_day_read", f"file:{d}", "schema_drift", "pap_r renamed pap_r_total; pap_r4 missing"))
    metering.write_readings_csv(out / f"e_mp_day_read_{d:%Y%m%d}.csv.gz", df)
    ev = metering.events(ctx, d).drop(columns=["ref"])
    trunc = day_has(d, s, "truncated_gzip_day", dr.truncated_gzip_day)
    if trunc:
        defects.append(("terminal_event", f"file:{d}", "truncated_gzip", "stream cut at 60%"))
    write_gzip_csv(out / f"terminal_event_{d:%Y%m%d}.csv.gz", ev, truncate=trunc)
    return {"e_mp_day_read": len(df), "terminal_event": len(ev)}


TICKET_COLS = {"ticket_no": "ticket_no", "hall_no": "hall_no", "busi_code": "busi_code", "take_time": "take_time",
               "call_time": "call_time", "finish_time": "finish_time", "window_no": "window_no", "staff_no": "staff_no",
               "appoint_flag": "appoint_flag", "no_show_flag": "no_show_flag", "cust_no": "cust_no"}
GBK_HEADER = {"ticket_no": "票号", "hall_no": "营业厅编号", "busi_code": "业务类型", "take_time": "取号时间",
              "call_time": "叫号时间", "finish_time": "办结时间", "window_no": "窗口号", "staff_no": "工号",
              "appoint_flag": "是否预约", "no_show_flag": "是否过号", "cust_no": "户号"}


def write_halls(ctx: SimContext, d: date, cfg: Settings, defects: list) -> dict[str, int]:
    out = cfg.landing_dir / "hall" / d.isoformat()
    out.mkdir(parents=True, exist_ok=True)
    for f in out.glob("*"):
        f.unlink()
    h = halls.halls(ctx)
    tk = halls.tickets(ctx, d)
    if not len(tk):
        return {"hall_ticket": 0}
    dr, s = ctx.defects, ctx.seed
    df = pd.DataFrame({
        "ticket_no": tk["ticket_no"], "hall_no": h["hall_no"].to_numpy()[tk["hall_idx"]], "busi_code": tk["busi"],
        "take_time": pd.DatetimeIndex(tk["take"]).floor("s"), "call_time": pd.DatetimeIndex(tk["call"]).floor("s"),
        "finish_time": pd.DatetimeIndex(tk["finish"]).floor("s"), "window_no": tk["window"], "staff_no": tk["staff"],
        "appoint_flag": np.where(tk["appoint"], "1", "0"), "no_show_flag": np.where(tk["no_show"], "1", "0"),
        "cust_no": (6100000001 + tk["cust_idx"].to_numpy()).astype(str)})
    keys = df["ticket_no"].astype(np.int64).to_numpy()
    m = pick(keys, s, "bad_timestamp", "ticket", dr.bad_timestamp)
    df["call_time"] = df["call_time"].astype(object)
    for i in np.flatnonzero(m):  # call before take / on another day
        df.iat[i, df.columns.get_loc("call_time")] = df["take_time"].iat[i] - pd.Timedelta(hours=30)
        defects.append(("hall_ticket", df["ticket_no"].iat[i], "bad_timestamp", "call_time before take_time"))
    m = pick(keys, s, "missing_required", "ticket", dr.missing_required)
    df.loc[m, "busi_code"] = None
    defects += [("hall_ticket", x, "missing_required", "busi_code") for x in df["ticket_no"].to_numpy()[m]]
    m = pick(keys, s, "duplicate", "ticket", dr.duplicate)
    defects += [("hall_ticket", x, "duplicate", "") for x in df["ticket_no"].to_numpy()[m]]
    df = pd.concat([df, df[m]], ignore_index=True).sort_values("ticket_no", kind="stable")
    old = set(h.loc[h["old_system"], "hall_no"])
    new_df = df[~df["hall_no"].isin(old)]
    daily = new_df.groupby("hall_no").agg(ticket_cnt=("ticket_no", "count"), windows_open=("window_no", "nunique"),
                                          staff_on_duty=("staff_no", "nunique")).reset_index()
    daily.insert(1, "stat_date", d.isoformat())
    hash_sst = hash_uniform(np.arange(len(daily)) + d.toordinal() * 1000, s, 91)
    daily["self_service_txn"] = (daily["ticket_cnt"] * (0.4 + hash_sst)).astype(int)
    sheet = new_df
    if day_has(d, s, "schema_drift_day", dr.schema_drift_day):
        sheet = sheet.drop(columns=["staff_no"]).rename(columns={"window_no": "window"})
        defects.append(("hall_ops", f"file:{d}", "schema_drift", "staff_no missing; window_no renamed window"))
    path = out / f"hall_ops_{d:%Y%m%d}.xlsx"
    _write_workbook(path, d, (("tickets", sheet), ("hall_daily", daily)))
    n_gbk = 0
    broken = day_has(d, s, "broken_encoding_day", dr.broken_encoding_day)
    for hall_no in sorted(old):
        part = df[df["hall_no"] == hall_no].rename(columns=GBK_HEADER)
        hn = h.loc[h["hall_no"] == hall_no, "hall_name"].iloc[0]
        part.insert(2, "营业厅名称", hn)
        data = part.to_csv(index=False, lineterminator="\r\n").encode("gbk", errors="replace")
        if broken and n_gbk == 0:
            cut = io.BytesIO(data).getvalue()
            pos = len(cut) // 2
            data = cut[:pos] + b"\xff\xfe\x80" + cut[pos:]
            defects.append(("hall_gbk_csv", f"file:{hall_no}:{d}", "broken_encoding", "invalid GBK bytes mid-file"))
        (out / f"hall_{hall_no}_{d:%Y%m%d}.csv").write_bytes(data)
        n_gbk += len(part)
    return {"hall_ticket": len(df)}


_XLSX_STATIC = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '{sheets}'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '</Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
        'core-properties" Target="docProps/core.xml"/></Relationships>'),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
        '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
}


def _col_letter(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


def _xml_text(v: object) -> str:
    t = v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, pd.Timestamp) else str(v)
    return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sheet_xml(frame: pd.DataFrame) -> bytes:
    """Worksheet XML (inline strings, numbers), built from per-column Python lists.

    A day's sheet is ~1-10 k rows: plain string formatting per cell is cheaper than a hundred
    whole-column Arrow operations, and far cheaper than a general-purpose xlsx library.
    """
    cols = []
    for j, c in enumerate(frame.columns):
        s = frame[c]
        letter = _col_letter(j)
        if pd.api.types.is_datetime64_any_dtype(s):
            vals = s.dt.strftime("%Y-%m-%d %H:%M:%S").astype(object).where(s.notna(), None).tolist()
            num = False
        elif pd.api.types.is_bool_dtype(s):
            vals, num = s.astype(int).tolist(), True
        elif pd.api.types.is_numeric_dtype(s):
            vals, num = s.astype(object).where(s.notna(), None).tolist(), True
        else:
            vals = [None if v is None or v is pd.NaT or (isinstance(v, float) and v != v) else _xml_text(v)
                    for v in s.astype(object).tolist()]
            num = False
        cols.append((letter, num, vals))
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
           'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetData><row r="1">']
    out += [f'<c r="{_col_letter(j)}1" t="inlineStr"><is><t>{c}</t></is></c>' for j, c in enumerate(frame.columns)]
    out.append("</row>")
    for i in range(len(frame)):
        r = i + 2
        out.append(f'<row r="{r}">')
        for letter, num, vals in cols:
            v = vals[i]
            if v is None:
                continue
            out.append(f'<c r="{letter}{r}"><v>{v}</v></c>' if num else
                       f'<c r="{letter}{r}" t="inlineStr"><is><t>{v}</t></is></c>')
        out.append("</row>")
    out.append("</sheetData></worksheet>")
    return "".join(out).encode()


def _write_workbook(path: Path, d: date, sheets: tuple[tuple[str, pd.DataFrame], ...]) -> None:
    """Minimal .xlsx (inline strings, one style) written with vectorised string building.

    Why not xlsxwriter/openpyxl: per-cell writes were the largest single cost of a simulated day.
    Cell types are as a queue system exports them (timestamps as 'YYYY-MM-DD HH:MM:SS' text,
    integers as numbers, missing cells absent); zip entries carry a fixed timestamp (the data day)
    so the same seed and date give identical bytes.
    """
    import zipfile

    names = [nm for nm, _ in sheets]
    parts = dict(_XLSX_STATIC)
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace("{sheets}", "".join(
        f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(len(names))))
    parts["xl/workbook.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        + "".join(f'<sheet name="{nm}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, nm in enumerate(names))
        + "</sheets></workbook>")
    parts["xl/_rels/workbook.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                  f'relationships/worksheet" Target="worksheets/sheet{i + 1}.xml"/>' for i in range(len(names)))
        + f'<Relationship Id="rId{len(names) + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
          'relationships/styles" Target="styles.xml"/></Relationships>')
    parts["docProps/core.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>queue-system</dc:creator>'
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{d:%Y-%m-%d}T00:00:00Z</dcterms:created>'
        "</cp:coreProperties>")
    stamp = (max(d.year, 1980), d.month, d.day, 0, 0, 0)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for name, text in parts.items():
            z.writestr(zipfile.ZipInfo(name, stamp), text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
        for i, (_, frame) in enumerate(sheets):
            z.writestr(zipfile.ZipInfo(f"xl/worksheets/sheet{i + 1}.xml", stamp), _sheet_xml(frame),
                       compress_type=zipfile.ZIP_DEFLATED)
