"""The cycle collector is tuned only for the length of a seed, and put back even when it fails."""

from __future__ import annotations

import gc

import pytest

from seedkit.collector import YOUNG_THRESHOLD, collecting_rarely


def test_collector_is_restored_after_a_failing_seed():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collecting_rarely():
        assert gc.get_threshold()[0] >= YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 0  # what existed before the seed is left out of collections
        raise RuntimeError("the recipe failed")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_an_applications_own_freeze_is_kept():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collecting_rarely():
            pass
        # Unfrozen it would be 0; it drifts by the few frozen objects other threads (xdist's) free or add.
        assert gc.get_freeze_count() > frozen - 1000
    finally:
        gc.unfreeze()
