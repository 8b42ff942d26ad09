"""SIGTERM to the whole process group (``timeout``, ``docker stop`` through a shell, supervisors)
ends a run within seconds, rolled back, and leaves no child process behind; so does SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import ROOT, Running, fingerprint_of, gone


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_to_the_process_group_ends_the_run_and_its_children(db_url, workers):
    assert fingerprint_of(db_url)["tables"] == {}
    run = Running("run", "tiny", "--scale", "1e6", "--workers", workers, "--database-url", db_url)
    run.wait_for("seeding users")
    children = run.children()
    assert len(children) == (2 if workers == "2" else 0)
    os.killpg(run.proc.pid, signal.SIGTERM)
    code, stderr = run.finish(timeout=30)
    assert code == 130, stderr
    assert "Interrupted" in stderr and "Traceback" not in stderr
    assert all(gone(pid) for pid in children)
    assert all(t["rows"] == 0 for t in fingerprint_of(db_url)["tables"].values())


def test_sigkill_of_the_parent_takes_its_helpers_with_it(db_url):
    assert fingerprint_of(db_url)["tables"] == {}
    run = Running("run", "tiny", "--scale", "1e6", "--workers", "2", "--database-url", db_url)
    run.wait_for("seeding users")
    children = run.children()
    assert len(children) >= 2
    run.proc.kill()
    code, _ = run.finish(timeout=30)
    assert code == -signal.SIGKILL
    assert all(gone(pid) for pid in children), "a helper outlived its parent"
    assert all(t["rows"] == 0 for t in fingerprint_of(db_url)["tables"].values())


def test_ctrl_c_during_start_up_is_a_message_not_a_traceback():
    # Deterministic stand-in for Ctrl-C while modules load: the import of SQLAlchemy raises it.
    program = """
import sys

class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "sqlalchemy":
            raise KeyboardInterrupt

sys.meta_path.insert(0, CtrlC())
sys.argv = ["seedkit", "run", "tiny"]
from seedkit.entry import main
main()
"""
    result = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 130, result.stderr
    assert "Interrupted" in result.stderr and "Traceback" not in result.stderr
