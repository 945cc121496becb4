"""Fusion rules on hand-worked examples."""

from __future__ import annotations

import pytest

from qa.fusion import convex_fuse, rrf_fuse


def test_rrf_equal_weights_k60():
    fused = rrf_fuse([("a", "b"), ("b", "c")], weights=(1.0, 1.0), k=60)
    # a: 1/61; b: 1/62 + 1/61; c: 1/62
    assert [key for key, _ in fused] == ["b", "a", "c"]
    assert dict(fused) == pytest.approx({"a": 1 / 61, "b": 1 / 62 + 1 / 61, "c": 1 / 62})
    assert fused[0][1] == pytest.approx(0.03252247488101534)


def test_rrf_weights_and_small_k():
    fused = rrf_fuse([["x", "y"], ["y", "z", "x"]], weights=(0.35, 0.65), k=1)
    # x: .35/2 + .65/4 = .3375; y: .35/3 + .65/2 = .441667; z: .65/3 = .216667
    assert [key for key, _ in fused] == ["y", "x", "z"]
    assert dict(fused) == pytest.approx({"x": 0.3375, "y": 0.35 / 3 + 0.325, "z": 0.65 / 3})


def test_rrf_a_zero_weight_ranking_changes_nothing_and_empty_input_is_empty():
    fused = rrf_fuse([["p", "q"], ["q", "p", "r"]], weights=(1.0, 0.0), k=60)
    assert [key for key, _ in fused][:2] == ["p", "q"]
    assert dict(fused)["r"] == 0.0
    assert rrf_fuse([[], []], weights=(1.0, 1.0)) == []


def test_convex_min_max_normalises_each_list_then_weighs():
    dense = [("a", 0.9), ("b", 0.5), ("c", 0.1)]  # normalised: a 1, b .5, c 0
    bm25 = [("b", 10.0), ("d", 5.0), ("a", 0.0)]  # normalised: b 1, d .5, a 0
    fused = convex_fuse([dense, bm25], weights=(0.35, 0.65))
    # a: .35; b: .175 + .65 = .825; c: 0; d: .325
    assert [key for key, _ in fused] == ["b", "a", "d", "c"]
    assert dict(fused) == pytest.approx({"a": 0.35, "b": 0.825, "c": 0.0, "d": 0.325})


def test_convex_equal_scores_and_single_items_count_fully_and_empty_lists_are_skipped():
    fused = convex_fuse([[("a", 2.0), ("b", 2.0)], [("c", 7.5)]], weights=(0.4, 0.6))
    assert dict(fused) == pytest.approx({"a": 0.4, "b": 0.4, "c": 0.6})
    assert fused[0][0] == "c"
    assert convex_fuse([[], [("z", 3.0)]], weights=(0.35, 0.65)) == [("z", 0.65)]
    assert convex_fuse([[], []], weights=(0.5, 0.5)) == []


def test_convex_is_scale_invariant_per_list():
    dense = [("a", 0.8), ("b", 0.6), ("c", 0.2)]
    bm25 = [("c", 3.0), ("a", 2.0), ("b", 1.0)]
    scaled = [(k, 100 * s + 7) for k, s in bm25]
    plain, rescaled = convex_fuse([dense, bm25], (0.5, 0.5)), convex_fuse([dense, scaled], (0.5, 0.5))
    assert [k for k, _ in plain] == [k for k, _ in rescaled] == ["a", "c", "b"]
    assert dict(plain) == pytest.approx(dict(rescaled))
    assert dict(plain) == pytest.approx({"a": 0.75, "c": 0.5, "b": 0.5 * 2 / 3})
