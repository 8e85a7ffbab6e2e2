"""The render phase's batches: every file to render, in order, a bounded batch at a time."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from feedpub.build.render import RENDER_ARTICLES, RENDER_BATCH, _batches, _Job


def _job(n: int, shows: int) -> _Job:
    return (f"f{n}", "feed", None, "", lambda: b"", [f"a{i}" for i in range(shows)])


@given(st.lists(st.integers(0, 1500), max_size=600))
def test_batches_hold_every_job_in_order_and_are_bounded(shown: list[int]) -> None:
    todo = [_job(n, k) for n, k in enumerate(shown)]
    batches = list(_batches(todo))
    assert [j for b in batches for j in b] == todo
    for b in batches:
        assert b, "no empty batch"
        assert len(b) <= RENDER_BATCH
        # (a single document may show more: it is rendered on its own)
        assert len(b) == 1 or sum(len(j[5]) for j in b) <= RENDER_ARTICLES
