"""GX 1.x returns results grouped by metric, not in suite order: outcomes must still be paired
with the expectation that produced them (a null check must not be blamed for a regex failure)."""

import pandas as pd

from grid_appeals.quality.gx_engine import GxSession


def test_outcomes_follow_suite_order() -> None:
    frame = pd.DataFrame({"a": [1, None, None, 4], "b": ["x", "y", "13826687718", "z"]})
    expectations = [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
        {
            "type": "expect_column_values_to_not_match_regex",
            "kwargs": {"column": "b", "regex": "1[3-9][0-9]{9}"},
        },
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a", "mostly": 0.99}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "b"}},
    ]
    got = [
        (o.expectation_type, o.kwargs.get("column"), o.success, o.unexpected_count)
        for o in GxSession(None).validate("alignment", expectations, frame, {})
    ]
    assert got == [
        ("expect_table_row_count_to_be_between", None, True, 0),
        ("expect_column_values_to_not_match_regex", "b", False, 1),
        ("expect_column_values_to_not_be_null", "a", False, 2),
        ("expect_column_values_to_not_be_null", "b", True, 0),
    ]
