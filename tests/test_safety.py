"""Nobody loses a database they did not mean to wipe, and no password is ever printed."""

from __future__ import annotations

import pytest

from tests.conftest import cli, cli_json, fingerprint_of, seedkit_process
from tests.library_project import cli_options, write_project


def test_production_environment_is_refused_even_with_yes(db_url, monkeypatch):
    assert cli("run", "tiny", "--database-url", db_url).exit_code == 0
    before = fingerprint_of(db_url)
    monkeypatch.setenv("SEEDKIT_ENV", "production")
    for args in (["run", "tiny", "--append"], ["run", "tiny", "--truncate", "--yes"], ["reset", "tiny", "--yes"]):
        result = cli(*args, "--database-url", db_url)
        assert result.exit_code == 2, args
        assert "SEEDKIT_ENV" in result.stderr and "production" in result.stderr
    monkeypatch.delenv("SEEDKIT_ENV")
    assert fingerprint_of(db_url) == before


@pytest.fixture
def protected_project(tmp_path, monkeypatch):
    project = write_project(tmp_path / "p")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'protected = ["db.prod.internal", "*/billing"]\n')
    monkeypatch.chdir(project)
    return project


def test_protected_host_is_refused_before_connecting(protected_project):
    result = cli("reset", "library", "--yes", "--database-url", "postgresql://app:pw123456@db.prod.internal/app")
    assert result.exit_code == 2
    assert "protected" in result.stderr and "db.prod.internal" in result.stderr
    assert "pw123456" not in result.output


def test_protected_database_name_is_refused(protected_project):
    result = cli("run", "library", "--database-url", "postgresql://app@127.0.0.1:1/billing")
    assert result.exit_code == 2 and "*/billing" in result.stderr


def test_hosts_are_matched_on_the_parsed_url_not_a_substring(protected_project):
    # The protected name appears in the password and the query, not as the host: not protected.
    url = "postgresql://app:db.prod.internal@127.0.0.1:1/app?application_name=db.prod.internal"
    result = cli("run", "library", "--database-url", url)
    assert result.exit_code == 1, result.output  # it tried to connect (and could not)
    assert "protected" not in result.stderr


def test_reset_without_a_terminal_or_yes_refuses(db_url):
    assert cli("run", "tiny", "--database-url", db_url).exit_code == 0
    before = fingerprint_of(db_url)
    result = cli("reset", "tiny", "--seed", "5", "--database-url", db_url)
    assert result.exit_code == 2 and "--yes" in result.stderr
    assert fingerprint_of(db_url) == before


def test_reset_with_yes_rebuilds_to_the_same_data_as_a_fresh_run(db_url, tmp_path):
    assert cli("run", "demo", "--seed", "1", "--database-url", db_url).exit_code == 0
    assert cli("reset", "tiny", "--seed", "5", "--yes", "--database-url", db_url).exit_code == 0
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert cli("run", "tiny", "--seed", "5", "--database-url", fresh).exit_code == 0
    assert fingerprint_of(db_url) == fingerprint_of(fresh)


FAILS = """
import factory
from seedkit import Recipe
from .library_factories import AuthorFactory, BookFactory

def boom():
    raise RuntimeError("recipe failed halfway")

recipe = Recipe("fails after authors were written")
authors = recipe.add(AuthorFactory, 20)
books = recipe.add(BookFactory, per=authors, count=1, pages=factory.LazyFunction(boom))
"""


def test_a_reset_that_fails_halfway_leaves_the_old_data(tmp_path, db_url):
    project = write_project(tmp_path / "p", {"fails": FAILS})
    opts = cli_options(project)
    assert cli("run", "library", "--seed", "3", "--database-url", db_url, *opts).exit_code == 0
    before = fingerprint_of(db_url)
    result = cli("reset", "fails", "--yes", "--database-url", db_url, *opts)
    assert result.exit_code == 1
    assert "recipe failed halfway" in result.stderr and "rolled back" in result.stderr
    assert fingerprint_of(db_url) == before


def test_passwords_are_masked_in_reports_and_errors(pg_url):
    with_password = pg_url.replace("postgres@", "postgres:Sup3rSecretPw@", 1)
    assert "Sup3rSecretPw" in with_password
    report = cli_json("run", "tiny", "--database-url", with_password)  # trust auth ignores it
    assert "Sup3rSecretPw" not in str(report) and "***" in report["target"]
    text = cli("run", "tiny", "--append", "--database-url", with_password)
    assert text.exit_code == 0 and "Sup3rSecretPw" not in text.output
    refused = cli("run", "tiny", "--debug", "--database-url", with_password)
    assert refused.exit_code == 2 and "Sup3rSecretPw" not in refused.output
    status = seedkit_process("status", "--json", "--database-url", with_password)
    assert status.returncode == 0 and "Sup3rSecretPw" not in status.stdout + status.stderr


def test_wrong_credentials_are_reported_without_the_password():
    url = "postgresql://no_such_role:An0therSecret@127.0.0.1:5432/postgres"
    result = cli("run", "tiny", "--debug", "--database-url", url)
    assert result.exit_code == 1
    assert "no_such_role" in result.stderr
    assert "An0therSecret" not in result.output


@pytest.mark.parametrize(
    ("url", "message"),
    [("not a url at all", "Malformed"), ("mysql://root@127.0.0.1:3306/test", "Unsupported")],
)
def test_bad_urls_are_usage_errors(url, message):
    result = cli("run", "tiny", "--database-url", url)
    assert result.exit_code == 2
    assert message in result.stderr


def test_sqlite_file_in_a_missing_folder(tmp_path):
    result = cli("run", "tiny", "--database-url", f"sqlite:///{tmp_path / 'absent' / 'x.db'}")
    assert result.exit_code == 1 and "does not exist" in result.stderr


def test_read_only_sqlite_database_is_left_unchanged(tmp_path):
    path = tmp_path / "ro.db"
    assert cli("run", "tiny", "--database-url", f"sqlite:///{path}").exit_code == 0
    before = path.read_bytes()
    result = cli("run", "tiny", "--append", "--database-url", f"sqlite:///file:{path}?mode=ro&uri=true")
    assert result.exit_code == 1
    assert "readonly" in result.stderr.replace("-", "").replace(" ", "").lower()
    assert path.read_bytes() == before
