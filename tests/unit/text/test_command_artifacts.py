"""CLI actions, artifact locations and the pipeline's output contract."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from grid_appeals.text import artifacts, command
from grid_appeals.text.pipeline import OUTPUT_FIELDS, process_batch, process_parallel

APPEAL = "【停电报修】客户张建国来电反映家里停电三个多小时，家中老人用呼吸机，电话13812345678，要求尽快处理。"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers(dest="command", required=True))
    return parser


def test_text_segment_prints_the_pipeline_view(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(artifacts, "models_dir", lambda cfg=None: tmp_path)  # no deployed model or IDF
    args = _parser().parse_args(["text", "segment", APPEAL, "--opinion", "已联系客户13912345678"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert "13812345678" not in out["accept_text"] and "[手机号]" in out["opinion_text"]
    assert "呼吸机" in out["tokens"] and out["keywords"]["tfidf"]
    assert out["sentiment_level"] == "high" and out["model_file"] is None
    assert any(e["kind"] == "duration" and e["value"]["minutes"] == 180 for e in out["entities"])


def test_reload_check_reports_counts_and_problems(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(["text", "reload-check", "--json"])
    assert args.func(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["business_terms"] > 500 and report["counts"]["topic_rules"] >= 10
    assert report["errors"] == []
    assert all(isinstance(w, str) for w in report["warnings"])


def test_reload_check_flags_bad_synonyms(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from grid_appeals.text import lexicons

    synonyms = tmp_path / "synonyms.tsv"
    synonyms.write_text("电彪\t电表\n电彪\t电表\n甲乙丙\t丁戊己庚\n", encoding="utf-8")
    monkeypatch.setattr(lexicons, "SYNONYMS", synonyms)
    try:
        report = command.lexicon_report()
    finally:
        monkeypatch.undo()
        lexicons.reload_lexicons()
    text = "\n".join(report["warnings"])
    assert "'电彪' listed 2 times" in text and "'丁戊己庚' is neither" in text


def test_artifact_locations(tmp_path: Path) -> None:
    assert artifacts.models_dir().name == "models"
    assert artifacts.model_path("v1", tmp_path) == tmp_path / "appeal_classifier-v1.joblib"
    assert artifacts.current_model_path(tmp_path) is None and artifacts.current_idf_path(tmp_path) is None
    assert artifacts.models_dir(type("Cfg", (), {"deploy_dir": tmp_path})()) == tmp_path / "models"
    artifacts.model_path("v1", tmp_path).write_bytes(b"x")
    artifacts.model_path("v2", tmp_path).write_bytes(b"x")
    artifacts.set_current_model("v1", tmp_path)
    assert artifacts.current_model_path(tmp_path) == artifacts.model_path("v1", tmp_path)


def test_output_has_every_field_for_the_appeal_text_table() -> None:
    [out] = process_batch(
        [{"app_no": "A9", "accept_content": APPEAL, "handle_opinion": "回访客户王小明，电话13912345678"}]
    )
    assert set(OUTPUT_FIELDS) <= set(out)
    assert out["app_no"] == "A9" and "王小明" not in out["opinion_text"] and "[手机号]" in out["opinion_text"]
    assert out["pii_masked"]["mobile"] == 2 and out["pii_masked"]["name"] == 2
    assert all({"start", "end"} <= set(e) for e in out["entities"])
    assert all(out["accept_text"][c["start"] : c["end"]] == c["text"] for c in out["sentiment_cues"])
    assert all(out["accept_text"][h["start"] : h["end"]] == h["cue"] for h in out["topic_hits"])
    assert (
        "手机号" not in out["keywords"]["tfidf"] + out["keywords"]["textrank"]
    )  # mask labels are no keywords


def test_parallel_reports_cache_statistics() -> None:
    records = [
        {"app_no": str(i), "accept_content": f"客户来电反映停电{i % 7 + 1}小时，要求尽快处理。"}
        for i in range(40)
    ]
    stats: dict[str, float] = {}
    assert process_parallel(records, processes=2, chunk_size=10, stats=stats) == process_batch(records)
    assert stats["chunks"] >= 2 and stats["clause_cache_hits"] > stats["clause_cache_misses"]
