"""Chinese numerals → Arabic digits, only where they carry a quantity.

Why only quantities: "三个小时" must become "3小时" so durations can be parsed and compared, but
"一直", "一户一表" or "三天两头" are words, not numbers. A numeral is converted only when it is
followed by a unit (time, count, money, energy, length, dates) and is not part of a protected
phrase (idioms in ``lexicons/numeral_idioms.txt`` and every business term containing a numeral).
"""

from __future__ import annotations

import re
from functools import lru_cache

from grid_appeals.text.lexicons import LEXICON_DIR, _data_lines, business_terms

DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "幺": 1,
}
UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
NUMERAL_CHARS = "零〇一二两三四五六七八九十百千万"
_NUMERAL_SET = frozenset(NUMERAL_CHARS + "半")

# units after which a numeral is a quantity. "个" between numeral and an hour unit is dropped
# (三个小时 → 3小时) but kept before 多 (三个多小时 → 3个多小时) and before 月 (三个月 ≠ 3月, March)
_TIME_UNITS = "小时|钟头|分钟|秒钟|秒|天|日|周|星期|礼拜|月|年|分"
_COUNT_UNITS = "次|遍|回|趟|户|家|台|根|处|块|元|角|毛|度|千瓦时|千瓦|米|公里|号|点|岁"
QUANTITY = re.compile(
    rf"(?P<num>[零〇一二两三四五六七八九十百千万]+)(?P<ge>个)?(?P<more>多|半)?(?P<unit>{_TIME_UNITS}|{_COUNT_UNITS})"
)
DECIMAL = re.compile(
    r"(?P<int>[零〇一二两三四五六七八九十百千万]+)点(?P<frac>[零〇一二三四五六七八九]+)(?P<unit>度|千瓦时|元|块|米|公里|万|倍)"
)
HALF_HOUR = re.compile(r"(?<![\d个零〇一二两三四五六七八九十百千万])半个?(小时|钟头)")
_HOUR_UNITS = ("小时", "钟头")
_TIME_OF_DAY = re.compile(r"(上午|下午|晚上|早上|凌晨|中午|傍晚|夜里|半夜|早|晚)$")


@lru_cache(maxsize=1)
def protected_phrases() -> tuple[str, ...]:
    """Idioms and business terms whose numerals must stay Chinese (longest first)."""
    phrases = set(_data_lines(LEXICON_DIR / "numeral_idioms.txt"))
    phrases.update(t.word for t in business_terms() if any(c in NUMERAL_CHARS for c in t.word))
    return tuple(sorted(phrases, key=len, reverse=True))


@lru_cache(maxsize=1)
def _protected_pattern() -> re.Pattern[str]:
    return re.compile("|".join(re.escape(p) for p in protected_phrases()) or r"(?!)")


def chinese_to_int(numeral: str) -> int | None:
    """Value of a Chinese integer numeral (十五, 两千三百, 一二〇 digit-by-digit); None if unparsable."""
    if not numeral:
        return None
    if all(c in DIGITS for c in numeral):  # digit by digit: 一二〇 → 120
        return int("".join(str(DIGITS[c]) for c in numeral)) if len(numeral) > 1 else DIGITS[numeral]
    total, section, current = 0, 0, None
    for char in numeral:
        if char in DIGITS:
            current = DIGITS[char]
        elif char in UNITS:
            unit = UNITS[char]
            if unit == 10000:
                section = (section + (current or 0)) * unit
                total += section
                section, current = 0, None
            else:
                section += (1 if current is None else current) * unit
                current = None
        else:
            return None
    return total + section + (current or 0)


def _format(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _quantity(match: re.Match[str], text: str) -> str:
    """Replacement for one QUANTITY match (``text`` is the span, for time-of-day context)."""
    num, unit, ge, more = match["num"], match["unit"], match["ge"] or "", match["more"] or ""
    whole = match.group(0)
    if all(c in DIGITS for c in num) and len(num) > 1:
        if unit != "年":
            return whole  # 两三天, 三四个小时: a range, not a number
        value: float | None = int("".join(str(DIGITS[c]) for c in num))
    else:
        value = chinese_to_int(num)
    if value is None:
        return whole
    if num == "一" and unit == "点" and not _TIME_OF_DAY.search(text[: match.start()]):
        return whole  # 快一点 / 一点电都没有: "a little", not one o'clock
    if num == "一" and unit in ("度", "回", "块"):
        return whole  # 一度 (at one time), 一回 (once, idiomatic), 一块 (together)
    if more == "半":
        value += 0.5
        more = ""
    if more == "多":
        return f"{_format(value)}{ge}多{unit}"
    if ge and unit not in _HOUR_UNITS:
        return f"{_format(value)}个{unit}"
    return f"{_format(value)}{unit}"


def _decimal(match: re.Match[str]) -> str:
    whole = chinese_to_int(match["int"])
    if whole is None:
        return match.group(0)
    frac = "".join(str(DIGITS[c]) for c in match["frac"])
    return f"{whole}.{frac}{match['unit']}"


def convert_numerals(text: str) -> str:
    """Rewrite quantity numerals as digits, leaving protected phrases untouched."""
    if _NUMERAL_SET.isdisjoint(text):  # set test in C; most clauses have no Chinese numeral
        return text
    pieces: list[str] = []
    last = 0
    for protected in _protected_pattern().finditer(text):
        pieces.append(_convert_span(text[last : protected.start()]))
        pieces.append(protected.group(0))
        last = protected.end()
    pieces.append(_convert_span(text[last:]))
    return "".join(pieces)


def _convert_span(text: str) -> str:
    if not text:
        return text
    if "点" in text:  # (every DECIMAL has 点, every HALF_HOUR 半: skip the scans without them)
        text = DECIMAL.sub(_decimal, text)
    text = QUANTITY.sub(lambda m: _quantity(m, text), text)
    # (a template ``sub`` costs microseconds even without a match: search first)
    return HALF_HOUR.sub(r"0.5\1", text) if "半" in text and HALF_HOUR.search(text) else text
