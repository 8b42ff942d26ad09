"""Libraries load without the extras they import just in case (pytest, Pygments), and those
extras still import normally afterwards."""

from __future__ import annotations

import subprocess
import sys

import pytest

from seedkit.imports import without
from tests.conftest import ROOT


def test_commands_load_time_machine_and_alembic_without_pytest_or_pygments():
    script = (
        "import sys, time\n"
        "from seedkit import migrations\n"
        "from seedkit.randomness import time_machine\n"
        "print('pytest' in sys.modules, 'pygments' in sys.modules)\n"
        "with time_machine.travel(0, tick=False):\n"
        "    print(time.time())\n"
        "import pygments\n"
        "print(pygments.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False", "0.0", "pygments"]


def test_a_module_already_imported_is_left_alone():
    with without("pytest", "a_module_that_is_not_there"):
        import pytest as again

        with pytest.raises(ImportError):
            import a_module_that_is_not_there  # noqa: F401
    assert again is pytest
    assert "a_module_that_is_not_there" not in sys.modules
