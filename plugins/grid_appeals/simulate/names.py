"""Name, phone and address pieces for customers and staff (synthetic, realistic-looking).

Strings are derived from an integer index by hashing, so the 10 M-customer world never has to keep
10 M names in memory: any row's name/phone/address can be recomputed from (seed, index).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from grid_appeals.simulate.rng import hash_uniform

SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文")
SURNAME_W = np.array([7.2, 7.0, 6.8, 5.4, 4.5, 3.1, 2.3, 2.1, 1.9, 1.8, 1.7, 1.5, 1.3, 1.3, 1.2, 1.1, 1.0, 1.0, 1.0,
                      0.9] + [0.5] * (len(SURNAMES) - 20))
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建军志强小红晓东海燕丹玲红梅文博浩宇欣怡子涵梓轩雨萱鹏飞俊杰亚楠春花秋菊振华淑珍玉兰桂芳凤英永刚卫东建平")
MOBILE_PREFIX = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
                 "156", "157", "158", "159", "166", "170", "173", "176", "177", "180", "181", "182", "183", "185",
                 "186", "187", "188", "189", "191", "195", "198", "199"]
STREET_HEADS = ["人民", "解放", "建设", "和平", "长安", "未央", "朱雀", "含光", "太白", "友谊", "文化", "新华", "东风", "北大",
                "西大", "南大", "环城", "劳动", "幸福", "团结", "光明", "红旗", "育才", "振兴", "兴庆", "凤城", "渭滨", "秦岭",
                "汉江", "延河", "宝塔", "金台", "高新", "科技", "丈八", "纬二", "经九"]
STREET_TAILS = ["路", "街", "大道", "东路", "西路", "南路", "北路", "巷"]
COMMUNITY = ["锦绣", "阳光", "金色", "绿地", "万科", "碧桂园", "曲江", "紫薇", "枫林", "雅苑", "华府", "世纪", "御景",
             "天朗", "龙湖", "融创", "盛世", "丽都", "东方", "书香", "星河", "翡翠", "铂悦", "凯旋", "怡园", "和苑"]
COMMUNITY_TAILS = ["小区", "花园", "家园", "苑", "公寓", "新村", "城", "府", "佳苑"]
VILLAGE_HEADS = ["王家", "李家", "张家", "杨家", "马家", "刘家", "高", "柳", "石", "沙", "河", "东", "西", "南", "北",
                 "桥", "庙", "槐", "杏", "枣", "梁", "塬", "沟", "坡", "川", "湾", "堡", "寨"]
VILLAGE_TAILS = ["庄", "村", "坡", "沟", "湾", "堡", "寨", "塬", "河", "峪", "营", "店", "铺"]
TOWN_HEADS = ["城关", "东关", "西关", "新街", "马嵬", "杨凌", "五泉", "大王", "三桥", "草滩", "斗门", "细柳", "韦曲",
              "引镇", "杜曲", "王曲", "鄠邑", "余下", "阿房", "蔡家坡", "虢镇", "彪角", "庄里", "流曲", "官道", "孝义",
              "瓜坡", "杏林", "金堆", "槐树", "双石铺", "青木川", "石泉", "池河", "迎丰", "高家堡", "鱼河", "镇川"]


def _pick(keys: np.ndarray, seed: int, salt: int, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    u = hash_uniform(keys, seed, salt)
    if weights is None:
        return np.minimum((u * n).astype(np.int64), n - 1)
    cdf = np.cumsum(weights) / weights.sum()
    return np.minimum(np.searchsorted(cdf, u, side="right"), n - 1)


def person_names(keys: np.ndarray, seed: int, salt: int = 0) -> np.ndarray:
    keys = np.asarray(keys, dtype=np.int64)
    sur = np.array(SURNAMES, dtype=object)[_pick(keys, seed, 101 + salt, len(SURNAMES), SURNAME_W)]
    g = np.array(GIVEN, dtype=object)
    g1 = g[_pick(keys, seed, 102 + salt, len(GIVEN))]
    g2 = g[_pick(keys, seed, 103 + salt, len(GIVEN))]
    two = hash_uniform(keys, seed, 104 + salt) < 0.72
    return np.where(two, sur + g1 + g2, sur + g1)


def surnames(keys: np.ndarray, seed: int) -> np.ndarray:
    return np.array(SURNAMES, dtype=object)[_pick(np.asarray(keys, dtype=np.int64), seed, 101, len(SURNAMES), SURNAME_W)]


def mobiles(keys: np.ndarray, seed: int, salt: int = 0) -> pd.api.extensions.ExtensionArray:
    """11-digit mobile numbers (Arrow string kernels; returns a pandas ``str`` array)."""
    keys = np.asarray(keys, dtype=np.int64)
    pre = pa.array(MOBILE_PREFIX, pa.string()).take(pa.array(_pick(keys, seed, 201 + salt, len(MOBILE_PREFIX))))
    num = (hash_uniform(keys, seed, 202 + salt) * 1e8).astype(np.int64)
    digits = pc.utf8_lpad(pc.cast(pa.array(num), pa.string()), 8, "0")
    return pc.binary_join_element_wise(pre, digits, "").to_pandas().array


def _num_str(keys: np.ndarray, seed: int, lo: int, hi: int, salt: int) -> pa.Array:
    return pc.cast(pa.array(lo + (hash_uniform(keys, seed, salt) * (hi - lo)).astype(np.int64)), pa.string())


def addresses(keys: np.ndarray, seed: int, city, county, town, urban: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Urban: street + number + community/building/unit/room; rural: town + village + group.

    ``city``/``county``/``town`` are per-row strings (arrays or Arrow arrays). Joined with Arrow's
    vectorised string kernels, each form only for its own rows: object-array concatenation made
    writing the 10 M-customer province world take minutes. Returns a pandas ``str`` array.
    """
    keys = np.asarray(keys, dtype=np.int64)
    urban = np.asarray(urban, dtype=bool)
    city_a, county_a, town_a = (x if isinstance(x, pa.Array) else pa.array(np.asarray(x, dtype=object), pa.string())
                                for x in (city, county, town))

    def p(k: np.ndarray, lst: list[str], salt: int) -> pa.Array:
        return pa.array(lst, pa.string()).take(pa.array(_pick(k, seed, salt, len(lst))))

    def lit(x: str) -> pa.Scalar:
        return pa.scalar(x, pa.string())

    iu, ir = np.flatnonzero(urban), np.flatnonzero(~urban)
    ku, kr = keys[iu], keys[ir]
    tu, tr = pa.array(iu), pa.array(ir)
    urban_addr = pc.binary_join_element_wise(
        city_a.take(tu), county_a.take(tu), p(ku, STREET_HEADS, 301), p(ku, STREET_TAILS, 302),
        _num_str(ku, seed, 1, 400, 303), lit("号"), p(ku, COMMUNITY, 304), p(ku, COMMUNITY_TAILS, 305),
        _num_str(ku, seed, 1, 36, 306), lit("号楼"), _num_str(ku, seed, 1, 7, 307), lit("单元"),
        _num_str(ku, seed, 1, 33, 308), lit("0"), _num_str(ku, seed, 1, 5, 309), lit("室"), lit(""))
    rural_addr = pc.binary_join_element_wise(
        city_a.take(tr), county_a.take(tr), town_a.take(tr), lit("镇"), p(kr, VILLAGE_HEADS, 310),
        p(kr, VILLAGE_TAILS, 311), lit("村"), _num_str(kr, seed, 1, 12, 312), lit("组"),
        _num_str(kr, seed, 1, 90, 313), lit("号"), lit(""))
    pos = np.empty(len(keys), dtype=np.int64)
    pos[iu] = np.arange(len(iu))
    pos[ir] = len(iu) + np.arange(len(ir))
    out = pa.concat_arrays([urban_addr, rural_addr]).take(pa.array(pos))
    return out.to_pandas().array
