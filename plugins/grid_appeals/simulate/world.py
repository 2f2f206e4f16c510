"""The static world: Shaanxi org tree → supply stations → lines → 台区 → customers.

Derived from the seed and the scale only (never from a date), so every simulated day sees the same
grid. Cities and counties are Shaanxi's real ones with their administrative codes (from the
``cpca`` package's data file). Org numbers follow State Grid's convention that the code length
encodes the level: province 5, city 7, county 9, supply station 11 digits.
"""

from __future__ import annotations

import csv
import importlib.util
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute

from grid_appeals.simulate import names
from grid_appeals.simulate.rng import day_rng
from grid_appeals.simulate.scales import Scale

PROV_ORG = "61101"
PROV_NAME = "国网陕西省电力有限公司"
# population weights (millions) of the cities, by adcode prefix
CITY_POP = {"6101": 13.0, "6102": 0.7, "6103": 3.3, "6104": 4.2, "6105": 4.7, "6106": 2.3, "6107": 3.2,
            "6108": 3.6, "6109": 2.5, "6110": 2.0}

ELEC_TYPES = {  # code: (name, share among customers, mean kWh/day)
    "202": ("城镇居民生活用电", 0.0, 5.5), "201": ("乡村居民生活用电", 0.0, 4.0),
    "403": ("一般工商业用电", 0.075, 60.0), "300": ("农业生产用电", 0.025, 25.0),
    "100": ("大工业用电", 0.004, 2500.0), "500": ("趸售用电", 0.0005, 8000.0), "900": ("其他用电", 0.0055, 10.0),
}
VOLT_CODES = {"AC02202": "交流220V", "AC03802": "交流380V", "AC00101": "交流10kV", "AC00351": "交流35kV",
              "AC01101": "交流110kV", "AC02201": "交流220kV"}


@dataclass
class World:
    seed: int
    scale: Scale
    orgs: pd.DataFrame  # o_org rows
    cities: pd.DataFrame  # city_idx, org_no, name, adcode
    stations: pd.DataFrame  # station_idx, org_no, name, county_idx, city_idx, urban
    lines: pd.DataFrame  # line_idx, line_no, line_name, station_idx
    areas: pd.DataFrame  # area_idx, tg_no, tg_name, line_idx, station_idx, city_idx, urban, weak, low_volt, cust_lo, cust_n
    cust_area: np.ndarray  # area index per customer (customers are contiguous per area)
    cust_elec: np.ndarray  # index into ELEC_CODES
    cust_volt: np.ndarray  # index into VOLT_LIST
    cust_rca: np.ndarray  # prepaid flag
    cust_digital: np.ndarray  # propensity to use online channels (0..1)
    cust_kwh: np.ndarray  # mean daily kWh
    cust_build: np.ndarray  # create date ordinal
    cust_status: np.ndarray  # 1 normal, 9 cancelled

    @property
    def n_customers(self) -> int:
        return len(self.cust_area)

    # -- per-customer derived attributes -----------------------------------------------------
    def cons_no(self, idx: np.ndarray) -> np.ndarray:
        """户号 strings (Arrow cast: building 10 M Python strings is what made the world slow)."""
        return _int_str(6100000001 + np.asarray(idx, dtype=np.int64))

    def mp_no(self, idx: np.ndarray) -> np.ndarray:
        return _int_str(61000000000001 + np.asarray(idx, dtype=np.int64))

    def cust_urban(self, idx: np.ndarray) -> np.ndarray:
        return self.areas["urban"].to_numpy()[self.cust_area[idx]]

    def cust_frame(self, idx: np.ndarray) -> pd.DataFrame:
        """Everything about a set of customers, strings included (computed on demand)."""
        idx = np.asarray(idx, dtype=np.int64)
        a = self.areas
        area = self.cust_area[idx]
        st = a["station_idx"].to_numpy()[area]
        city = a["city_idx"].to_numpy()[area]
        urban = a["urban"].to_numpy()[area]
        # per-row place names as Arrow takes from the small city/station tables (no object arrays)
        city_name = pa.array(("陕西省" + self.cities["name"]).tolist(), pa.string()).take(pa.array(city))
        county_name = pa.array(self.stations["county_name"].tolist(), pa.string()).take(pa.array(st))
        town = pa.array(self.stations["town"].tolist(), pa.string()).take(pa.array(st))
        elec = np.array(ELEC_CODES, dtype=object)[self.cust_elec[idx]]
        res = np.isin(elec, ["201", "202"])
        nm = names.person_names(idx, self.seed)
        biz = np.array([*names.COMMUNITY, *names.STREET_HEADS], dtype=object)[idx % 63] + np.array(
            ["商贸有限公司", "便利店", "餐饮店", "农业合作社", "建材厂", "物业管理有限公司", "机械厂"], dtype=object)[idx % 7]
        return pd.DataFrame({
            "cust_idx": idx,
            "cons_no": self.cons_no(idx),
            "mp_no": self.mp_no(idx),
            "cons_name": np.where(res, nm, biz),
            "person": nm,
            "mobile": names.mobiles(idx, self.seed),
            "elec_addr": names.addresses(idx, self.seed, city_name,
                                         county_name, town, urban),
            "elec_type_code": elec,
            "volt_code": np.array(VOLT_LIST, dtype=object)[self.cust_volt[idx]],
            "urban": urban,
            "area_idx": area,
            "tg_no": a["tg_no"].to_numpy()[area],
            "line_no": self.lines["line_no"].to_numpy()[a["line_idx"].to_numpy()[area]],
            "org_no": self.stations["org_no"].to_numpy()[st],
            "city_idx": city,
            "station_idx": st,
            "rca_flag": self.cust_rca[idx].astype(np.int8),
        })


def _int_str(x: np.ndarray) -> pd.api.extensions.ExtensionArray:
    return pa.compute.cast(pa.array(x), pa.string()).to_pandas().array


ELEC_CODES = list(ELEC_TYPES)
VOLT_LIST = list(VOLT_CODES)


def shaanxi_divisions() -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """(cities [(adcode6, name)], counties [(adcode6, name, city adcode6)]) from cpca's data file."""
    # locate the data file without importing cpca (its __init__ needs setuptools' pkg_resources)
    spec = importlib.util.find_spec("cpca")
    assert spec is not None and spec.submodule_search_locations, "package cpca is required"
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"
    text = path.read_text(encoding="utf-8")
    cities, counties = [], []
    for row in csv.DictReader(text.splitlines()):
        code = row["adcode"][:6]
        if not code.startswith("61") or code == "610000":
            continue
        if code.endswith("00"):
            cities.append((code, row["name"]))
        elif not code.endswith("01") or row["name"] != "市辖区":
            counties.append((code, row["name"], code[:4] + "00"))
    return sorted(cities), sorted(counties)


# share of a station's transformer areas that are urban (城镇), by the kind of place the station serves
URBAN_AREA_SHARE = {"district": 0.9, "county_seat": 0.5, "township": 0.05}


@lru_cache(maxsize=4)
def build_world(seed: int, scale: Scale) -> World:
    rng = day_rng(seed, None, "world")
    city_rows, county_rows = shaanxi_divisions()
    orgs = [(PROV_ORG, PROV_NAME, None, "01", "610000")]
    cities = []
    for ci, (code, name) in enumerate(city_rows):
        org_no = f"{PROV_ORG}{ci + 1:02d}"
        cities.append((ci, org_no, name, code))
        orgs.append((org_no, f"国网{name[:-1]}供电公司", PROV_ORG, "02", code))
    cities_df = pd.DataFrame(cities, columns=["city_idx", "org_no", "name", "adcode"])
    city_of = {c[3]: c for c in cities}
    stations, county_no = [], {}
    county_weights = []
    for code, name, city_code in county_rows:
        ci, city_org, _, _ = city_of[city_code]
        k = county_no.setdefault(city_code, 0) + 1
        county_no[city_code] = k
        c_org = f"{city_org}{k:02d}"
        district = name.endswith("区")
        orgs.append((c_org, f"国网{name}供电{'分公司' if district else '公司'}", city_org, "03", code))
        n_st = scale.stations_per_county + (1 if district and scale.stations_per_county > 1 else 0)
        county_weights.append(CITY_POP[city_code[:4]] * (1.6 if district else 1.0))
        for s in range(n_st):
            town = names.TOWN_HEADS[int(rng.integers(len(names.TOWN_HEADS)))] if s else "城关"
            urban = district or s == 0
            st_org = f"{c_org}{s + 1:02d}"
            st_name = f"{name}{town}供电所"
            orgs.append((st_org, st_name, c_org, "04", code))
            stations.append((len(stations), st_org, st_name, len(county_weights) - 1, ci, urban, name, town,
                             URBAN_AREA_SHARE["district" if district else ("county_seat" if s == 0 else "township")]))
    stations_df = pd.DataFrame(stations, columns=["station_idx", "org_no", "name", "county_idx", "city_idx", "urban",
                                                  "county_name", "town", "urban_share"])
    orgs_df = pd.DataFrame(orgs, columns=["org_no", "org_name", "p_org_no", "org_type", "admin_code"])
    # customers per station ∝ county weight / stations in county; urban stations denser
    cw = np.array(county_weights)
    st_county = stations_df["county_idx"].to_numpy()
    per_county = np.bincount(st_county, minlength=len(cw))
    st_w = cw[st_county] / per_county[st_county] * np.where(stations_df["urban"], 1.4, 0.8)
    n_cust = scale.customers
    n_areas = max(len(stations_df), n_cust // scale.customers_per_area)
    area_station = rng.choice(len(stations_df), size=n_areas, p=st_w / st_w.sum())
    area_station[: len(stations_df)] = np.arange(len(stations_df))  # every station has an area
    area_station.sort()
    # lines: each station has lines_per_station 10kV feeders; areas spread over them
    lines = []
    for s_idx, st_org in enumerate(stations_df["org_no"]):
        for j in range(scale.lines_per_station):
            lines.append((len(lines), f"XL{st_org[-8:]}{j + 1:02d}",
                          f"10kV{stations_df['town'][s_idx]}{'ⅠⅡⅢⅣⅤⅥⅦⅧ'[j % 8]}线", s_idx))
    lines_df = pd.DataFrame(lines, columns=["line_idx", "line_no", "line_name", "station_idx"])
    area_line = area_station * scale.lines_per_station + rng.integers(0, scale.lines_per_station, n_areas)
    # urban/rural per 台区: a county-seat (城关) station also serves the villages around the town,
    # a district station has some suburban villages; own stream so the other draws do not shift
    urban_draw = day_rng(seed, None, "world-urban").random(n_areas)
    urban = urban_draw < stations_df["urban_share"].to_numpy()[area_station]
    sizes = rng.gamma(4.0, 1.0, n_areas) * np.where(urban, 1.5, 0.7)
    counts = np.maximum(1, np.floor(sizes / sizes.sum() * n_cust)).astype(np.int64)
    counts[: n_cust - counts.sum()] += 1 if n_cust > counts.sum() else 0
    diff = n_cust - counts.sum()
    counts[np.argmax(counts)] += diff
    lo = np.concatenate([[0], np.cumsum(counts)[:-1]])
    per_station = np.zeros(len(stations_df), dtype=int)
    tg_no, tg_name = [], []
    comm = names.COMMUNITY
    vil = names.VILLAGE_HEADS
    for a, s in enumerate(area_station):
        per_station[s] += 1
        k = per_station[s]
        tg_no.append(f"{stations_df['org_no'][s]}{k:04d}")
        place = comm[(a * 7) % len(comm)] + "小区" if urban[a] else vil[(a * 5) % len(vil)] + names.VILLAGE_TAILS[a % 13]
        tg_name.append(f"{place}{k}号台区")
    areas = pd.DataFrame({
        "area_idx": np.arange(n_areas), "tg_no": tg_no, "tg_name": tg_name, "line_idx": area_line,
        "station_idx": area_station, "city_idx": stations_df["city_idx"].to_numpy()[area_station],
        "urban": urban, "cust_lo": lo, "cust_n": counts,
        "tg_cap": rng.choice([200, 315, 400, 500, 630, 800], n_areas),
        # weak areas: old lines/overloaded transformers → frequent outages, low voltage in summer
        "weak": rng.random(n_areas) < np.where(urban, 0.03, 0.08),
        "low_volt": rng.random(n_areas) < np.where(urban, 0.02, 0.07),
    })
    cust_area = np.repeat(np.arange(n_areas), counts).astype(np.int32)
    cu = urban[cust_area]
    u = rng.random(n_cust)
    # elec types: non-residential by share, rest residential (城镇 if urban else 乡村)
    shares = np.array([v[1] for v in ELEC_TYPES.values()])
    cdf = np.cumsum(shares)
    elec = np.searchsorted(cdf, u, side="right")
    res = elec >= len(ELEC_CODES)
    elec[res] = np.where(cu[res], ELEC_CODES.index("202"), ELEC_CODES.index("201"))
    elec = elec.astype(np.int8)
    code_arr = np.array(ELEC_CODES)[elec]
    volt = np.zeros(n_cust, dtype=np.int8)  # 220V
    volt[code_arr == "403"] = np.where(rng.random((code_arr == "403").sum()) < 0.7, 1, 2)
    volt[code_arr == "300"] = 1
    big = code_arr == "100"
    volt[big] = rng.choice([2, 3, 4], big.sum(), p=[0.7, 0.2, 0.1])
    volt[code_arr == "500"] = 4
    volt[code_arr == "900"] = 1
    kwh = np.array([v[2] for v in ELEC_TYPES.values()])[elec] * rng.lognormal(0, 0.45, n_cust)
    build = (date(1996, 1, 1).toordinal() + (rng.beta(2.2, 1.2, n_cust) * (date(2024, 6, 30) - date(1996, 1, 1)).days)
             ).astype(np.int32)
    age_years = (date(2025, 1, 1).toordinal() - build) / 365
    digital = np.clip(rng.beta(2, 2, n_cust) + np.where(cu, 0.15, -0.1) - 0.006 * age_years, 0, 1).astype(np.float32)
    rca = (rng.random(n_cust) < np.where(res, 0.62, 0.2)) & (code_arr != "100")
    status = np.where(rng.random(n_cust) < 0.01, 9, 1).astype(np.int8)
    return World(seed, scale, orgs_df, cities_df, stations_df, lines_df, areas, cust_area, elec, volt, rca,
                 digital, kwh.astype(np.float32), build, status)
