from __future__ import annotations

from pathlib import Path

from grid_appeals.text.keywords import IdfModel, textrank_keywords, tfidf_keywords


def test_corpus_idf_downweights_ubiquitous_words(tmp_path: Path) -> None:
    corpus = [["停电", "电表"], ["停电", "抢修"], ["停电", "呼吸机"], ["停电", "电费"]]
    idf = IdfModel.fit(corpus)
    assert idf.idf["停电"] < idf.idf["呼吸机"]
    loaded = IdfModel.load(idf.save(tmp_path / "idf.tsv"))
    assert loaded.n_docs == 4 and loaded.idf["停电"] == round(idf.idf["停电"], 6)
    assert tfidf_keywords(["停电", "呼吸机"], loaded, top_k=1)[0][0] == "呼吸机"
    # unseen words count as rare
    assert tfidf_keywords(["停电", "新词语"], loaded, top_k=1)[0][0] == "新词语"


def test_textrank_prefers_connected_words() -> None:
    tokens = ["变压器", "冒烟", "变压器", "着火", "变压器", "异响", "路灯"]
    assert textrank_keywords(tokens, top_k=1)[0][0] == "变压器"
    assert textrank_keywords([]) == []
