"""Complaint class and second level are combined and kept consistent (second level implies class)."""

from __future__ import annotations

import numpy as np

from grid_appeals.text.classifier import COMPLAINT_CLASSES, SECOND_LEVELS, consistent_hierarchy


def test_taxonomy_covers_every_class() -> None:
    assert set(SECOND_LEVELS.values()) == set(COMPLAINT_CLASSES)
    assert len(SECOND_LEVELS) == 17


def test_second_level_votes_for_its_class_and_stays_inside_it() -> None:
    classes = ["服务投诉", "营业投诉"]
    subs = ["服务态度", "营业时间", "电费电价"]
    p_class = np.array([[0.6, 0.4], [0.9, 0.1]])
    p_sub = np.array([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]])
    combined, joint = consistent_hierarchy(p_class, classes, p_sub, subs, weight=0.5)
    np.testing.assert_allclose(combined, [[0.45, 0.55], [0.75, 0.25]])
    # row 0: class flips to 营业投诉 and the second level is its only sub, with the joint confidence
    assert joint[0].argmax() == 2 and np.isclose(joint[0, 2], 0.55)
    # row 1: class stays 服务投诉, so 电费电价 (营业投诉) cannot win despite being the most likely sub
    assert subs[int(joint[1].argmax())] in ("服务态度", "营业时间")
    assert joint[1, 2] == 0


def test_unknown_labels_leave_models_alone() -> None:
    p_class = np.array([[0.7, 0.3]])
    p_sub = np.array([[0.2, 0.8]])
    combined, sub = consistent_hierarchy(p_class, ["A", "B"], p_sub, ["x", "y"])
    assert combined is p_class and sub is p_sub
