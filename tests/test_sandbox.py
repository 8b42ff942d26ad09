"""The Docker sandbox, checked without a Docker engine: lint the Dockerfile, validate the compose
file, and run the compose `seed` service's exact command against the local PostgreSQL — twice."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, fingerprint_of, seedkit_process


def _tool(name: str) -> str:
    """A console script installed by the test extras, next to this interpreter or on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed; pip install -e '.[test]' provides it"
    return found


def _compose(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_tool("docker-compose"), "-f", str(ROOT / "docker-compose.yml"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT)},
    )


def test_dockerfile_passes_hadolint():
    result = subprocess.run([_tool("hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_seedkit_as_a_non_root_user():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    assert 'ENTRYPOINT ["seedkit"]' in lines
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert any(line.startswith("FROM python:") and "slim" in line for line in lines)
    for needed in ("recipes", "migrations", "alembic.ini"):
        assert any(line.startswith("COPY") and needed in line for line in lines)


def test_compose_file_is_valid():
    result = _compose("config", "-q")
    assert result.returncode == 0, result.stderr


def _seed_service() -> dict:
    result = _compose("config", "--format", "json")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert "healthcheck" in services["db"]
    assert services["seed"]["depends_on"]["db"]["condition"] == "service_healthy"
    return services["seed"]


def test_compose_seed_command_seeds_once_when_run_twice(pg_url):
    seed = _seed_service()
    command, env = seed["command"], dict(seed["environment"])
    assert command[:2] == ["run", "demo"] and "--seed" in command and "--if-empty" in command
    assert "SEEDKIT_DATABASE_URL" in env
    env["SEEDKIT_DATABASE_URL"] = pg_url  # the sandbox's db service, played by the local server

    first = seedkit_process(*command, env=env)
    assert first.returncode == 0, first.stderr
    assert "users" in first.stdout
    after_first = fingerprint_of(pg_url)

    second = seedkit_process(*command, env=env)
    assert second.returncode == 0, second.stderr
    assert "Skipped" in second.stdout
    assert fingerprint_of(pg_url) == after_first
    assert after_first["tables"]["users"]["rows"] == 58


def test_wait_retries_then_fails_clearly():
    url = "postgresql://seedkit:hunter2secret@127.0.0.1:1/sandbox"
    result = seedkit_process("run", "tiny", "--wait", "2", "--database-url", url, timeout=60)
    assert result.returncode == 1
    attempts = [line for line in result.stderr.splitlines() if line.startswith("waiting for the database")]
    assert len(attempts) >= 2
    assert "Cannot connect" in result.stderr and "attempts" in result.stderr
    assert "hunter2secret" not in result.stderr + result.stdout
