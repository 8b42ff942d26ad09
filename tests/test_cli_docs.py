"""The docs cannot drift from the CLI: every command has help and a place in the README."""

from __future__ import annotations

import ast
import re

import pytest

from seedkit.cli import app
from tests.conftest import ROOT, cli

COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)


def test_the_commands_are_the_documented_ones():
    assert COMMANDS == ["fingerprint", "init", "list", "migrate", "plan", "reset", "run", "scaffold", "status"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_is_in_the_readme(command):
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert len(result.stdout.strip().splitlines()) > 3
    readme = (ROOT / "README.md").read_text()
    assert f"seedkit {command}" in readme, f"README.md does not document `seedkit {command}`"


@pytest.mark.parametrize("command", ["list", "clear"])
def test_cache_commands_have_help_and_are_in_the_readme(command):
    result = cli("cache", command, "--help")
    assert result.exit_code == 0 and len(result.stdout.strip().splitlines()) > 3
    assert f"seedkit cache {command}" in (ROOT / "README.md").read_text()


def test_readme_quick_start_commands_are_there():
    readme = (ROOT / "README.md").read_text()
    assert "seedkit run demo --seed 42" in readme
    assert 'pip install -e ".[test]"' in readme and "pytest" in readme


def test_readme_shows_the_demo_recipe_as_it_is():
    readme = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "recipe = Recipe(" in b)
    shown = ast.parse(block).body
    actual = [
        node for node in ast.parse((ROOT / "recipes" / "demo.py").read_text()).body if not isinstance(node, ast.Expr)
    ]
    assert [ast.dump(n) for n in shown] == [ast.dump(n) for n in actual]
