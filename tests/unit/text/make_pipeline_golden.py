"""Write ``data/pipeline_golden.json.gz``: inputs and outputs of the text pipeline, for regression tests.

Why: the pipeline is optimised for throughput (issue 5) and every optimisation must leave its
output unchanged. The fixture was first written by the unoptimised code (commit 68e89b1) and is
only regenerated on purpose, for a behaviour change (e.g. a PII masking fix), with the diff
reviewed. History: outputs recomputed on the same stored inputs after the room-number masking
fix (…单元2214 → …单元*): 68 of 514 records changed, all in ``accept_text`` only. Channel heads (网上国网APP渠道： …) added to
``boilerplate.txt``: fingerprint only, 0 of 514 outputs changed (no stored input has one). It stores the inputs (so changes to the seed corpus or the simulator do not move it),
the IDF table and the lexicon fingerprint (``test_pipeline_golden`` fails with a message naming this
script when the lexicon files changed, since then the expected outputs are stale).

Usage: ``.venv/bin/python tests/unit/text/make_pipeline_golden.py`` (not collected by pytest).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).resolve().parent / "data" / "pipeline_golden.json.gz"
N_RECORDS = 500
EXTRA_TEXTS = [  # shapes the generator rarely produces: tricky normalisation and PII cases
    "",
    "   ",
    "停电\t了\r\n又停",
    "客户[手机号]来电，电表号12345678A反映 AB-12 跳闸!!",
    "😀来电😀",
    "㐀㐁停电",
    "3.5度电，1,000元，12:30到13:00",
    "a+b#c&d_e%f-g",
    "\ufeff零 〇 一二〇",
    "【停电报修】客戶李建國來電，電話１３８ １２３４ ５６７８，停電三個多小時",
    "电表职示灯常亮。联系店话：13826687718户号：6100000001。",
    "身份证610102199001011234，银行卡6222 0212 3456 7890 123，座机(029)88886666。",
    "西安市雁塔区长安南路123号3栋2单元502室停电两个半小时，请供电所及时处理并回复客户。",
    "客户王建国先生第三次来电……停了一天一夜!!!电费一千二百元，用电三百五十度。",
]


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_text", ROOT / "bench" / "bench_text.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def build() -> dict:
    from grid_appeals.text.features import Doc, doc_pinyin
    from grid_appeals.text.keywords import IdfModel
    from grid_appeals.text.lexicons import lexicon_fingerprint
    from grid_appeals.text.pipeline import process_batch
    from grid_appeals.text.segmenter import tokenize

    records = _bench().make_records(N_RECORDS, seed=11, source="mix")
    records += [
        {"app_no": f"X{i:03d}", "accept_content": t, "handle_opinion": t[::-1]}
        for i, t in enumerate(EXTRA_TEXTS)
    ]
    idf = IdfModel.fit(tokenize(r["accept_content"]) for r in records[::2])
    outputs = process_batch(records, idf)
    pinyin = [doc_pinyin(Doc(o["accept_text"], tuple(o["tokens"]))) for o in outputs]
    return {
        "lexicon_fingerprint": lexicon_fingerprint(),
        "idf": {"idf": idf.idf, "n_docs": idf.n_docs, "default_idf": idf.default_idf},
        "records": records,
        "outputs": outputs,
        "pinyin": pinyin,
    }


def main() -> None:
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(build(), ensure_ascii=False, sort_keys=True)
    with gzip.open(GOLDEN, "wt", encoding="utf-8", compresslevel=9) as handle:
        handle.write(payload)
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
