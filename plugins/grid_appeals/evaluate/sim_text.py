"""Breadth of the simulator's appeal text over a window: ``grid-appeals report sim-text``.

Why: models trained on simulated text are judged on independently written appeals, so what matters
is how many different ways the simulator says things, not how many orders it writes. Reported for
the orders created in the window (latest source version of each order):
- distinct-text ratio (distinct 受理内容 / orders) and the same after masking digits, so that a
  text differing only in a phone number or 户号 does not count as new wording;
- vocabulary: distinct jieba tokens (plain ``jieba.lcut``, not our lexicon) and distinct characters;
- phrasings and phrasing families used (from the ground truth), and the agents' mislabel share;
- ``--examples N`` texts sampled evenly over the window, with the agent's business-type code.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date

import jieba

from grid_appeals.config import Settings, settings
from grid_appeals.warehouse.connection import connect

SRC_SQL = """
select distinct on (app_no) app_no, busi_type_code, accept_content
from arc_s_95598_wkst
where handle_time >= %(lo)s and handle_time < %(hi)s + 1
order by app_no, upd_time desc nulls last
"""
TRUTH_SQL = """
select count(distinct phrasing_id), count(distinct phrasing_family), avg(mislabelled::int)
from appeal_truth where created_date between %(lo)s and %(hi)s
"""
DIGITS = re.compile(r"\d+")


@dataclass
class SimTextStats:
    date_from: date
    date_to: date
    texts: int
    distinct_ratio: float
    distinct_ratio_digits_masked: float
    jieba_tokens: int
    characters: int
    phrasings: int
    families: int
    mislabelled_share: float
    examples: list[tuple[str, str]] = field(default_factory=list)

    def render(self) -> str:
        lines = [
            f"Simulated appeal text {self.date_from}..{self.date_to}",
            f"| texts | {self.texts:,} |",
            f"| distinct-text ratio | {self.distinct_ratio:.3f} |",
            f"| distinct-text ratio, digits masked | {self.distinct_ratio_digits_masked:.3f} |",
            f"| distinct jieba tokens (vocabulary) | {self.jieba_tokens:,} |",
            f"| distinct characters | {self.characters:,} |",
            f"| phrasings / families used | {self.phrasings} / {self.families} |",
            f"| agent labels mislabelled | {self.mislabelled_share:.1%} |",
        ]
        for i, (code, text) in enumerate(self.examples, 1):
            lines.append(f"{i}. {code} | {text}")
        return "\n".join(lines)


def sim_text_stats(lo: date, hi: date, *, examples: int = 20, cfg: Settings | None = None) -> SimTextStats:
    """Text breadth of the orders created in [lo, hi] (see module doc)."""
    cfg = cfg or settings()
    with connect("src_95598", cfg=cfg) as conn:
        rows = [r for r in conn.execute(SRC_SQL, {"lo": lo, "hi": hi}).fetchall() if r[2]]
    with connect("sim_truth", cfg=cfg) as conn:
        phrasings, families, mislabelled = conn.execute(TRUTH_SQL, {"lo": lo, "hi": hi}).fetchone()
    if not rows:
        raise ValueError(f"no simulated orders with text created {lo}..{hi}")
    texts = [r[2] for r in rows]
    tokens: set[str] = set()
    for t in set(texts):
        tokens.update(jieba.lcut(t))
    step = max(1, len(rows) // max(examples, 1))
    rnd = random.Random(0)
    picks = [rows[min(len(rows) - 1, i * step + rnd.randrange(step))] for i in range(min(examples, len(rows)))]
    return SimTextStats(
        lo,
        hi,
        texts=len(texts),
        distinct_ratio=len(set(texts)) / len(texts),
        distinct_ratio_digits_masked=len({DIGITS.sub("0", t) for t in texts}) / len(texts),
        jieba_tokens=len(tokens),
        characters=len(set("".join(texts))),
        phrasings=int(phrasings or 0),
        families=int(families or 0),
        mislabelled_share=float(mislabelled or 0.0),
        examples=[(r[1] or "", r[2]) for r in picks],
    )
