"""Run folders: two runs compared (flipped questions, metric deltas), a folder that holds none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_evaluation import _questions, _script, fake_answer_fn

from rag.answering.engine import Done, Event
from rag.errors import RagError
from rag.evaluation import run_eval
from rag.report import render_compare
from rag.runs import compare_runs


def test_compare_lists_flipped_questions(tmp_path: Path) -> None:
    def flipped(question: str, history: list[dict], date: str = "") -> Iterator[Event]:
        yield Done(_script(question, flipped=True))

    a = run_eval(_questions(), fake_answer_fn, tmp_path / "a", name="base", settings_summary={})
    b = run_eval(_questions(), flipped, tmp_path / "b", name="new", settings_summary={})
    cmp = compare_runs(a, b)
    assert cmp["basis"] == "accuracy"
    assert [i["id"] for i in cmp["right_to_wrong"]] == ["q1"]
    assert [i["id"] for i in cmp["wrong_to_right"]] == ["q2"]
    acc = next(m for m in cmp["metrics"] if m["metric"] == "accuracy")
    assert acc == {"metric": "accuracy", "a": 0.5, "b": 0.5, "delta": 0.0}
    text = render_compare(cmp)
    assert "right → wrong (1" in text and "q1: How many workers" in text
    html_fragment = render_compare(cmp, "html")
    assert "<table>" in html_fragment and "Gabriel&#x27;s" in html_fragment
    assert cmp["only_in_a"] == [] and cmp["only_in_b"] == []


def test_compare_of_a_folder_without_a_run_says_so(tmp_path: Path) -> None:
    a = run_eval(_questions(), fake_answer_fn, tmp_path / "a", name="base", settings_summary={})
    with pytest.raises(RagError, match="holds no evaluation run"):
        compare_runs(a, tmp_path / "runs" / "seed-off*")
    assert not (tmp_path / "runs").exists()  # nothing written where no run is
