"""Masking of personal data in appeal text, applied before text leaves the raw layer.

Design choices (kept conservative: a missed phone number is a data leak, a masked amount is only
a lost feature, but amounts/durations/dates/kWh are what the analysis needs, so they are guarded):

- numbers are found as digit runs that may contain single spaces or dashes ("138 1234 5678",
  "029-8888 6666", "+86 138…") and then classified by length, prefix, checksum and the words just
  before them (表号/工单号 → not personal; 户号/卡号/电话 → personal);
- a unit right after a number (元, 度, kWh, 米, 次 …) or a date shape keeps it;
- names after 客户/户主/联系人 … and before 先生/女士/师傅 keep the surname and become 张某;
- in addresses the street/community stays and 号/栋/单元/室 numbers (and a bare room number
  after 单元) become ``*``;
- shapes that leaked past the marts gate's phone / ID regexes are closed: a number of 11+ digits
  is never a quantity (610102199001011234户号…), two personal numbers typed without a gap are
  split (手机号+户号 → [手机号][户号]), 3-4-4 / 6-8-4 groups with 、，. separators, misspelt cues
  (联系店话), a stray X, mixed Chinese/Arabic digits, and order/meter cues (工单号, 表号) no longer
  hide a phone- or ID-shaped number (it becomes [号码]).

Masks are bracketed labels (``[手机号]``) so a reader still sees what was there.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

_FULLWIDTH_DIGITS = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)}
_FULLWIDTH_DIGITS.update(
    {
        0xFF0B: ord("+"),
        0xFF0D: ord("-"),
        0xFF08: ord("("),
        0xFF09: ord(")"),
        0x3000: 0x20,
        0xFF38: ord("X"),
        0xFF58: ord("x"),
    }
)

# the same characters as one class: most texts have none, and a regex scan for them is several
# times cheaper than str.translate with a dict table (a Python-level lookup per character)
_HAS_FULLWIDTH = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_FULLWIDTH_DIGITS)) + "]")

MASKS = {
    "mobile": "[手机号]",
    "landline": "[电话]",
    "id_card": "[身份证号]",
    "bank_card": "[银行卡号]",
    "account": "[户号]",
    "number": "[号码]",
}

_DATE = r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
_RUN = r"(?:(?:\+|00)?86[ -]?)?(?:\(0\d{2,3}\)[ -]?)?\d(?:[ -]?\d){5,}(?:[Xx](?![A-WYZa-wyz]))?"
NUMBER_RUN = re.compile(rf"(?<![\d.])(?:(?P<date>{_DATE})|(?P<run>{_RUN}))(?!\.?\d)")
_NOT_PERSONAL_CUE = re.compile(
    r"(表号|电表号|表计号|表计编号|电能表号|电能表编号|资产号|资产编号|条码号?|条形码|工单号?|工单编号|单号|流水号|订单号|编号|线路|台区)[是为:：]?\s*$"
)
_ACCOUNT_CUE = re.compile(r"(户号|用户编号|客户编号|用户号|缴费号)[是为:：]?\s*$")
_CARD_CUE = re.compile(r"(卡号|银行卡|储蓄卡|信用卡|账号|帐号)[是为:：]?\s*$")
# 电话/手机/座机 also in the homophone typos fast IME typing produces (联系店话, 手鸡, 坐机)
_PHONE_CUE = re.compile(
    r"(电话|手机|座机|固话|号码|联系方式|拨打|致电|打|[电店点殿垫惦淀][话化画划]|[手首守收][机鸡基击]|[座坐作做]机)"
    r"[是为:：]?\s*$"
)
_UNIT_AFTER = re.compile(
    r"^\s*(元|块|万|度|千瓦|kW|KW|kw|瓦|W|伏|V|安|A|米|公里|m|次|户|人|天|小时|分钟|年|月|日|号|%)"
)
# a unit after a number only makes it a quantity for plausible quantities: no one counts
# 610102199001011234 户 (the ID card glued to a following 户号 that leaked past the marts gate)
_MAX_QUANTITY_DIGITS = 10
_MOBILE = re.compile(r"1[3-9]\d{9}")
# six digits, each pair at most one space or dash apart: what every NUMBER_RUN "run" contains
_SIX_DIGITS = re.compile(r"\d(?:[ -]?\d){5}")
_CN_DIGIT_RUN = re.compile(r"[零〇一二三四五六七八九幺]{7,}")
# one number typed in Chinese and Arabic digits mixed (一三八1234五六七八): at least 10 characters
# with at least _MIXED_MIN of each kind, so a date or count followed by 一直/一天 is not one
_MIXED_DIGIT_RUN = re.compile(r"[\d零〇一二三四五六七八九幺]{10,}")
_MIXED_MIN = 3
_CN_DIGIT_VALUE = str.maketrans("零〇一二三四五六七八九幺", "001234567891")
# a mobile written 3-4-4 or an ID card 6-8-4 with the same separator twice, where the separator is
# not one NUMBER_RUN bridges (138、1234、5678, 139,4965,4541, 198.6404.8363)
_GROUP_SEP = r"[、，,.。/_~*\\|]"
_GROUPED_HINT = re.compile(rf"\d{{3}}{_GROUP_SEP}\d{{4}}")
_GROUPED = re.compile(
    rf"(?<!\d)(?:(?P<mobile>1[3-9]\d(?P<s1>{_GROUP_SEP})\d{{4}}(?P=s1)\d{{4}})"
    rf"|(?P<id>\d{{6}}(?P<s2>{_GROUP_SEP})(?P<birth>\d{{8}})(?P=s2)\d{{3}}[\dXx]))(?![\d])"
)

# common surnames (single and compound); deliberately excludes characters that are mostly
# function words in agent text (于, 和, 向, 从, 要, 多, 时, 常, 万, 么)
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐韩曹许邓萧冯曾程蔡彭潘袁董余苏叶吕魏蒋田"
    "杜丁沈姜范江傅钟卢汪戴崔任陆廖姚方金邱夏谭韦贾邹石熊孟秦阎薛侯雷白龙段郝孔邵史毛万顾赖武康"
    "贺严尹钱施牛洪龚汤陶黎温莫易樊乔殷齐庞颜文倪岳葛柴申耿焦左涂关祁谷鲁俞翟芦房裴覃景辛宁党强"
    "雒屈寇仝拓"
)
_COMPOUND_SURNAMES = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|令狐|宇文|长孙|西门"
_SURNAME = rf"(?:{_COMPOUND_SURNAMES}|[{_SURNAMES}])"
_GIVEN_STOP = set("来反称表要投报咨家的先女师多再又一已在说对电某姓")
_NAME_AFTER_ROLE = re.compile(
    rf"(?P<role>客户|用户|户主|联系人|报修人|投诉人|举报人|业主|来电人|姓名|房东|租户)[:：]?"
    rf"(?P<sur>{_SURNAME})(?P<given>[\u4e00-\u9fff]{{1,2}}?)"
    r"(?=来电|反映|反应|称|表示|要求|投诉|报修|咨询|家|的|第|多次|再次|又|于|在|今天|昨天|打|说|来|到|，|。|：|、|\s|$|先生|女士|师傅|电话|手机|联系|住)"
)
_TITLES = "先生|女士|师傅|阿姨|老师|大爷"
_NAME_BEFORE_TITLE = re.compile(rf"(?P<sur>{_SURNAME})(?P<given>[\u4e00-\u9fff]{{1,2}})(?={_TITLES})")
# cheap exact guards (C scans) for the scans below, which have no literal prefix to skip by: a
# name before a title needs the title; a house number needs an ASCII letter or a digit; a run of
# Chinese or mixed digits needs seven digit characters in a row
_HAS_TITLE = re.compile(_TITLES)
_HAS_ALNUM = re.compile(r"[\dA-Za-z]")
_HAS_DIGIT_RUN = re.compile(r"[\d零〇一二三四五六七八九幺]{7}")

_ADDR_HEAD = (
    r"(?:路|街|大街|巷|弄|道|村|小区|苑|园|庄|院|城|公寓|花园|家园|大厦|社区|新村|家属院|广场|楼盘|区)"
)
_ADDR_NUM = r"[0-9A-Za-z]+(?:-[0-9A-Za-z]+){0,3}"
# 单元 also as typed with homophone IME typos (掸元, 单援, 淡元: the room number after it leaked)
_UNIT_WORD = "[单丹担耽郸胆掸旦但诞弹蛋淡氮][元园原员圆援源缘远院愿苑]"
_ADDR_UNIT = rf"(?:号楼|号院|号|栋|幢|座|{_UNIT_WORD}|层|楼|室|户|门)"
# a bare room number after 单元/楼/层 (…3单元2214。) is masked too, as _HOUSE_CHAIN does, unless a
# quantity unit follows it (2单元3户停电 is a count, 1单元2小时 a duration)
_ROOM_AFTER_UNIT = (
    rf"(?:(?:(?<={_UNIT_WORD})|(?<=[楼层]))\d+(?![\d.]|小时|分钟|天|年|个|次|元|度|点|月|日|人|户|号|室))?"
)
_HOUSE_AFTER_HEAD = re.compile(
    rf"(?P<head>{_ADDR_HEAD})(?P<tail>(?:{_ADDR_NUM}{_ADDR_UNIT})+{_ROOM_AFTER_UNIT}|\d+(?:-\d+){{1,3}}(?!\d))"
)
_HOUSE_CHAIN = re.compile(rf"(?P<tail>\d+(?:号楼|栋|幢|号院)\d+(?:{_UNIT_WORD}|层|楼)(?:\d+(?:室|号|户)?)?)")
_DIGITS_OR_CODE = re.compile(r"[0-9A-Za-z]+")


@dataclass
class MaskResult:
    text: str
    counts: Counter[str] = field(default_factory=Counter)


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year <= 2100


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _is_id_card(body: str) -> bool:
    """18-digit resident ID (valid birth date, or the X check digit) or a 15-digit old-style one."""
    if len(body) == 18 and body[:17].isdigit() and (body[17].isdigit() or body[17] == "X"):
        return _valid_date(int(body[6:10]), int(body[10:12]), int(body[12:14])) or body.endswith("X")
    return (
        len(body) == 15
        and body.isdigit()
        and _valid_date(1900 + int(body[6:8]), int(body[8:10]), int(body[10:12]))
    )


def _strict_kind(body: str) -> str | None:
    """Kind of a number whose shape alone identifies it as personal (used to split glued runs)."""
    if _MOBILE.fullmatch(body):
        return "mobile"
    if _is_id_card(body):
        return "id_card"
    if re.fullmatch(r"0\d{9,11}", body):
        return "landline"
    if re.fullmatch(r"[1-9]\d{9}", body):
        return "account"
    return None


def split_glued(body: str) -> list[str] | None:
    """Kinds of two personal numbers typed without a gap (手机号+户号, 身份证号+手机号), or None.

    The first split where both halves have a personal shape wins; common lengths are tried first.
    """
    if re.match(r"(?:0086|86)1[3-9]", body):  # +86 mobile first: drop the country code
        body = body[body.index("86") + 2 :]
    lengths = (11, 18, 10, 15, 12)
    for cut in (*lengths, *(len(body) - n for n in lengths)):
        if 10 <= cut <= len(body) - 10:
            left, right = _strict_kind(body[:cut]), _strict_kind(body[cut:])
            if left and right:
                return [left, right]
    return None


def classify_number(digits: str, before: str, after: str) -> str | None:
    """Kind of personal number for a separator-free digit string, or None to keep it.

    ``before``/``after`` are the characters around the number. For a run of two glued numbers
    the kinds are joined with "+" ("mobile+account"); see ``split_glued``.
    """
    body = digits.upper()
    if body.endswith("X") and len(body) != 18:
        body = body[:-1]  # X is only an ID card's check digit; elsewhere it is a stray letter
    if _ACCOUNT_CUE.search(before):  # before the not-personal cues: 用户编号 ends in 编号
        return "account"
    core = body
    for prefix in ("0086", "86"):
        if core.startswith(prefix) and len(core) == 11 + len(prefix) and core[len(prefix)] == "1":
            core = core[len(prefix) :]
    if _NOT_PERSONAL_CUE.search(before):
        # a meter / order number stays, unless it is shaped exactly like a phone or an ID card
        # (the cue may belong to another number): then it is masked, as a neutral [号码]; a long
        # run that is a phone or ID card glued to another number is split as without the cue
        if _MOBILE.fullmatch(core) or _is_id_card(body):
            return "number"
        # (only into phones, ID cards and 户号: a meter number's leading zeros look like a landline)
        glued = split_glued(body) if len(body) >= 20 else None
        personal = glued and "landline" not in glued and {"mobile", "id_card"} & set(glued)
        return "+".join(glued) if personal else None  # type: ignore[arg-type]
    if _CARD_CUE.search(before) and len(body) >= 12:
        return "bank_card"
    # a mobile-shaped number is personal whatever follows it (no one counts 13,826,687,718 户):
    # checked before the unit rule, so a misspelt cue (联系店话) or a glued 户号 cannot hide it
    if _MOBILE.fullmatch(core):
        return "mobile"
    if len(body) <= _MAX_QUANTITY_DIGITS and _UNIT_AFTER.match(after) and not _PHONE_CUE.search(before):
        return None
    if _is_id_card(body):
        return "id_card"
    if re.fullmatch(r"\d{17}[\dX]", body):
        return "bank_card"
    if re.fullmatch(r"\d{16,19}", body):
        return "bank_card"
    if re.fullmatch(r"0\d{9,11}", body):
        return "landline"
    if re.fullmatch(r"[1-9]\d{9}", body):
        return "account"
    if re.fullmatch(r"\d{7,8}", body):
        if len(body) == 8 and _valid_date(int(body[:4]), int(body[4:6]), int(body[6:8])):
            return None
        return "landline" if _PHONE_CUE.search(before) else None
    if len(body) >= 20:
        # without a meter/order cue a 20+ digit run is numbers typed together: split it into its
        # personal parts if it is two of them, else mask it whole
        glued = split_glued(body)
        return "+".join(glued) if glued else "number"
    if len(body) >= 11:
        return "number"
    return None


def _mask(kind: str, counts: Counter[str]) -> str:
    """Mask text for ``kind`` (or "kind+kind" for glued numbers), counted per personal number."""
    parts = kind.split("+")
    counts.update(parts)
    return "".join(MASKS[part] for part in parts)


def _mask_grouped(text: str, counts: Counter[str]) -> str:
    """Mobiles 3-4-4 and ID cards 6-8-4 written with separators the digit-run scan does not bridge."""

    def replace(match: re.Match[str]) -> str:
        if match["mobile"]:
            return _mask("mobile", counts)
        birth = match["birth"]
        if _valid_date(int(birth[:4]), int(birth[4:6]), int(birth[6:])) or match.group(0)[-1] in "Xx":
            return _mask("id_card", counts)
        return match.group(0)

    if not _GROUPED_HINT.search(text):  # C scan; the full pattern has no literal prefix to skip by
        return text
    return _GROUPED.sub(replace, text)


def _mask_numbers(text: str, counts: Counter[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match["date"]:
            return match.group(0)
        run = match["run"]
        before = text[max(0, match.start() - 12) : match.start()]
        after = text[match.end() : match.end() + 4]
        kind = classify_number(re.sub(r"[^\dXx]", "", run), before, after)
        if kind is None and re.search(r"[ -]", run):
            # a run glued from separate numbers ("2024 13812345678"): judge each piece
            pieces = re.split(r"([ -])", run)
            out = []
            for piece in pieces:
                sub_kind = classify_number(piece, before, after) if piece.strip(" -") else None
                out.append(_mask(sub_kind, counts) if sub_kind else piece)
            return "".join(out)
        if kind is None:
            return run
        return _mask(kind, counts)

    if not _SIX_DIGITS.search(text):  # every run has 6+ digits; a C scan rules most texts out
        return text
    return NUMBER_RUN.sub(replace, text)


def _mask_chinese_digits(text: str, counts: Counter[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        run = match.group(0)
        kind = "mobile" if len(run) == 11 and run[0] in "一幺" else "number"
        counts[kind] += 1
        return MASKS[kind]

    def replace_mixed(match: re.Match[str]) -> str:
        run = match.group(0)
        arabic = sum(c.isdigit() for c in run)
        if arabic < _MIXED_MIN or len(run) - arabic < _MIXED_MIN:
            return run
        digits = run.translate(_CN_DIGIT_VALUE)
        before = text[max(0, match.start() - 12) : match.start()]
        return _mask(classify_number(digits, before, "") or "number", counts)

    if not _HAS_DIGIT_RUN.search(text):
        return text
    text = _CN_DIGIT_RUN.sub(replace, text)
    return _MIXED_DIGIT_RUN.sub(replace_mixed, text)


def _given_ok(given: str) -> bool:
    return bool(given) and not (set(given) & _GIVEN_STOP)


def _mask_names(text: str, counts: Counter[str]) -> str:
    def after_role(match: re.Match[str]) -> str:
        if not _given_ok(match["given"]):
            return match.group(0)
        counts["name"] += 1
        return f"{match['role']}{match['sur']}某"

    def before_title(match: re.Match[str]) -> str:
        if not _given_ok(match["given"]) or match["given"] == "某":
            return match.group(0)
        counts["name"] += 1
        return f"{match['sur']}某"

    text = _NAME_AFTER_ROLE.sub(after_role, text)
    return _NAME_BEFORE_TITLE.sub(before_title, text) if _HAS_TITLE.search(text) else text


def _mask_house_numbers(text: str, counts: Counter[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        counts["house_number"] += 1
        head = match.groupdict().get("head") or ""
        return head + _DIGITS_OR_CODE.sub("*", match["tail"])

    if not _HAS_ALNUM.search(text):
        return text
    text = _HOUSE_AFTER_HEAD.sub(replace, text)
    return _HOUSE_CHAIN.sub(replace, text)


def mask_pii(text: str) -> MaskResult:
    """Mask personal data; full-width digits are folded first so they cannot slip through."""
    counts: Counter[str] = Counter()
    if _HAS_FULLWIDTH.search(text):
        text = text.translate(_FULLWIDTH_DIGITS)
    text = _mask_grouped(text, counts)
    text = _mask_numbers(text, counts)
    text = _mask_chinese_digits(text, counts)
    text = _mask_house_numbers(text, counts)
    text = _mask_names(text, counts)
    return MaskResult(text, counts)
