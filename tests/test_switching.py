"""The GIL's switch interval is shortened only for the length of a seed, and put back after."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy import create_engine, text

from seedkit.switching import SWITCH_INTERVAL, switching_often
from tests.conftest import cli
from tests.library_project import cli_options, write_project


@pytest.fixture
def interval():
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


def test_the_interval_is_restored_after_a_failing_seed(interval):
    sys.setswitchinterval(0.005)
    with pytest.raises(RuntimeError), switching_often():
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL, rel=0.05)
        raise RuntimeError("the recipe failed")
    assert sys.getswitchinterval() == pytest.approx(0.005, rel=0.05)


def test_an_applications_shorter_interval_is_kept(interval):
    sys.setswitchinterval(SWITCH_INTERVAL / 5)
    with switching_often():
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL / 5, rel=0.05)
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL / 5, rel=0.05)


RECORDS_INTERVAL = """
import sys

import factory
from seedkit import Recipe
from .library_factories import AuthorFactory, BookFactory

recipe = Recipe("books whose page count is the switch interval in microseconds while they were made")
authors = recipe.add(AuthorFactory, 2)
books = recipe.add(
    BookFactory, per=authors, count=2, pages=factory.LazyFunction(lambda: round(sys.getswitchinterval() * 1e6))
)
"""


def test_a_seed_runs_with_the_short_interval_and_gives_it_back(tmp_path, sqlite_url, interval):
    sys.setswitchinterval(0.005)
    opts = cli_options(write_project(tmp_path / "p", {"records_interval": RECORDS_INTERVAL}))
    assert cli("run", "records_interval", "--database-url", sqlite_url, *opts).exit_code == 0
    engine = create_engine(sqlite_url)
    with engine.connect() as conn:
        pages = conn.execute(text("SELECT DISTINCT pages FROM books")).scalars().all()
    engine.dispose()
    assert pages == [round(SWITCH_INTERVAL * 1e6)]
    assert sys.getswitchinterval() == pytest.approx(0.005, rel=0.05)
