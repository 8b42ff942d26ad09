"""The cycle collector is tuned only for the length of a seed, and put back even when it fails;
the console script pauses it for start-up and leaves its last collection to the process's exit."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from seedkit.collector import YOUNG_THRESHOLD, collecting_rarely
from tests.conftest import ROOT


def test_collector_is_restored_after_a_failing_seed():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collecting_rarely():
        assert gc.get_threshold()[0] >= YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 0  # what existed before the seed is left out of collections
        raise RuntimeError("the recipe failed")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_paused_collector_runs_during_the_seed_and_is_paused_again():
    """The console script pauses it for start-up; factory-boy's sessions make cycles in a seed."""
    gc.disable()
    try:
        with collecting_rarely():
            assert gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


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


def test_the_console_script_leaves_what_a_command_made_to_the_exit():
    """The last collection before exit would walk everything a seed left: the script freezes it.
    Start-up, which makes no garbage, runs with the collector paused."""
    script = (
        "import gc, sys\n"
        "sys.argv = ['seedkit', '--version']\n"
        "from seedkit.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('enabled', gc.isenabled(), 'frozen', gc.get_freeze_count())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert int(done.stdout.split("frozen ")[1]) > 0
    assert "enabled False" in done.stdout
