"""Two seedkit runs at once against one database: one waits for the other; data never doubles."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, Running, fingerprint_of


def test_simultaneous_runs_seed_once(db_url):
    runs = [Running("run", "demo", "--scale", "100", "--seed", "1", "-q", "--database-url", db_url) for _ in range(2)]
    outcomes = sorted(run.finish(timeout=300) for run in runs)
    assert [code for code, _ in outcomes] == [0, 2], outcomes
    assert "already holds rows" in outcomes[1][1]
    assert fingerprint_of(db_url)["tables"]["users"]["rows"] == 58 * 100


def test_no_wait_lock_fails_at_once_while_another_run_holds_the_target(db_url):
    holder = Running("run", "demo", "--scale", "1500", "--seed", "1", "--database-url", db_url)
    try:
        holder.wait_for("seeding")  # it holds the lock from before its first row
        began = time.monotonic()
        second = subprocess.run(
            [sys.executable, "-m", "seedkit", "run", "tiny", "--no-wait-lock", "--append", "--database-url", db_url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        waited = time.monotonic() - began
        assert second.returncode == 1, second.stderr
        assert "lock" in second.stderr and "--no-wait-lock" in second.stderr
        assert holder.proc.poll() is None, f"the second run waited {waited:.1f}s for the first to finish"
    finally:
        os.killpg(holder.proc.pid, signal.SIGTERM)  # its rows are not the point: end it, rolled back
        code, stderr = holder.finish(timeout=120)
    assert code == 130 and "rolled back" in stderr, stderr
    if db_url.startswith("sqlite"):  # the file the interrupted run created is gone again
        assert not Path(db_url.removeprefix("sqlite:///")).exists()
