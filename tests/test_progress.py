"""Progress bars show while a seed runs on a terminal, and never in pipes or with -q."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys

from tests.conftest import ROOT, seedkit_process


def _in_a_terminal(command: list[str]) -> str:
    """Run under `script`, which gives the command a pseudo-terminal, and return what it drew."""
    script = shutil.which("script")
    assert script, "util-linux `script` is needed to give the CLI a terminal"
    result = subprocess.run(
        [script, "-qec", shlex.join(command), "/dev/null"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_progress_bars_on_a_terminal(tmp_path):
    url = f"sqlite:///{tmp_path / 'tty.db'}"
    drawn = _in_a_terminal([sys.executable, "-m", "seedkit", "run", "demo", "--scale", "100", "--database-url", url])
    assert drawn.count("rows/s") > 3, "expected progress lines with a rate while seeding"
    assert "order_items" in drawn


def test_no_progress_bars_in_a_pipe_or_quiet(tmp_path):
    piped = seedkit_process("run", "demo", "--scale", "100", "--database-url", f"sqlite:///{tmp_path / 'a.db'}")
    assert piped.returncode == 0
    assert piped.stdout.count("rows/s") == 1  # the summary line only
    assert "rows/s" not in piped.stderr
    url = f"sqlite:///{tmp_path / 'b.db'}"
    quiet = _in_a_terminal(
        [sys.executable, "-m", "seedkit", "run", "demo", "--scale", "100", "-q", "--database-url", url]
    )
    assert "rows/s" not in quiet
