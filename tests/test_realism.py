"""Seeded data is as varied as Faker called once per row, time moves, children follow parents."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

import pytest
from faker import Faker
from sqlalchemy import create_engine, text

import seedkit
from seedkit import fakes, generate, parallel, seeding
from seedkit.randomness import DEFAULT_NOW, seeded_world
from tests.conftest import cli, cli_json, demo_recipes
from tests.library_project import cli_options, write_project

COMPOSED = [
    ("name", {}),
    ("first_name", {}),
    ("last_name", {}),
    ("user_name", {}),
    ("email", {}),
    ("free_email", {}),
    ("company_email", {}),
    ("company", {}),
    ("catch_phrase", {}),
    ("bs", {}),
    ("city", {}),
    ("sentence", {"nb_words": 4}),
    ("word", {}),
]


@pytest.mark.parametrize(("provider", "kwargs"), COMPOSED, ids=[p for p, _ in COMPOSED])
def test_a_composed_column_is_as_varied_as_faker_per_row(provider, kwargs):
    n = 6000
    column = fakes.column_for(provider, kwargs, None)
    assert column is not None, f"{provider} should be composed, not called per row"
    composed = column(random.Random(7), n)
    fake = Faker()
    fake.seed_instance(7)
    per_row = [getattr(fake, provider)(**kwargs) for _ in range(n)]
    assert abs(len(set(composed)) - len(set(per_row))) <= 0.03 * len(set(per_row)) + 3
    # The same shape of values: length, and how often digits and spaces appear.
    for measure in (len, lambda v: any(c.isdigit() for c in v), lambda v: " " in v):
        ours, theirs = (sum(map(measure, map(str, values))) / n for values in (composed, per_row))
        assert abs(ours - theirs) <= 0.05 * max(theirs, 1), (measure, ours, theirs)


def test_fakers_weighting_is_kept():
    # Smith is the most common last name in Faker's en_US list (weight 0.0217).
    names = fakes.column_for("last_name", {}, None)(random.Random(3), 40_000)
    most_common, count = Counter(names).most_common(1)[0]
    assert most_common == "Smith" and 0.017 < count / len(names) < 0.027


def test_a_provider_with_no_composer_is_called_per_row_with_full_variety():
    assert fakes.column_for("isbn13", {}, None) is None
    column = fakes.PerRow(Faker(), "isbn13", {}).column
    first = column(random.Random(5), 500)
    assert len(set(first)) == 500 and first == column(random.Random(5), 500)


@pytest.fixture
def small_chunks(monkeypatch):
    def use(size: int) -> None:
        for module in (generate, parallel, seeding):
            monkeypatch.setattr(module, "CHUNK", size)

    return use


def _distinct(url: str, query: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text(query)).scalar_one()
    engine.dispose()
    return found


def test_distinct_counts_do_not_depend_on_the_chunk_size(tmp_path, small_chunks):
    counts = []
    for size in (5000, 333):
        small_chunks(size)
        url = f"sqlite:///{tmp_path / f'chunks-{size}.db'}"
        seedkit.run("demo", settings=seedkit.load_settings(database_url=url), seed=3, scale=60)
        counts.append([_distinct(url, f"SELECT count(DISTINCT {c}) FROM users") for c in ("name", "username")])
    (name_a, user_a), (name_b, user_b) = counts
    assert abs(name_a - name_b) <= 0.02 * name_a and abs(user_a - user_b) <= 0.02 * user_a
    assert name_a >= 0.9 * 58 * 60  # 3,480 users: names barely repeat, as with Faker per row


CLOCKED = """
import time
from datetime import date, datetime

import factory
from seedkit import Recipe
from .library_factories import AuthorFactory, BookFactory

recipe = Recipe("timestamps from the clock user code reads")
authors = recipe.add(AuthorFactory, 5000, pen_name=factory.Sequence(lambda n: f"author {n}"))
books = recipe.add(
    BookFactory,
    per=authors,
    count=1,
    title=factory.LazyFunction(lambda: f"{datetime.utcnow().isoformat()}|{date.today()}|{time.time()}"),
)
"""


def test_the_clock_user_code_reads_moves_and_stays_before_the_run_clock(tmp_path, sqlite_url):
    project = write_project(tmp_path / "p", {"clocked": CLOCKED})
    report = cli_json("run", "clocked", "--database-url", sqlite_url, *cli_options(project))
    assert report["nondeterministic"] == {}
    engine = create_engine(sqlite_url)
    with engine.connect() as conn:
        titles = conn.execute(text("SELECT title FROM books")).scalars().all()
    engine.dispose()
    moments = [datetime.fromisoformat(t.split("|")[0]) for t in titles]
    assert len(set(moments)) >= 0.95 * len(moments)
    run_clock = DEFAULT_NOW.replace(tzinfo=None)
    assert all(run_clock - timedelta(days=1) <= m <= run_clock for m in moments)
    again = f"sqlite:///{tmp_path / 'again.db'}"
    assert (
        cli_json("run", "clocked", "--database-url", again, *cli_options(project))["fingerprint"]
        == report["fingerprint"]
    )


def test_relative_faker_windows_span_months_under_the_default_clock():
    column = fakes.column_for("date_time_this_year", {}, None)
    with seeded_world(DEFAULT_NOW):
        moments = column(random.Random(1), 2000)
    assert max(moments) - min(moments) > timedelta(days=120)
    assert max(moments) <= DEFAULT_NOW.replace(tzinfo=None)


def test_orders_follow_their_user_and_suspensions_follow_sign_up(db_url):
    # factory.Faker("date_time_between", start_date=factory.SelfAttribute("..user.created_at")),
    # compiled column-wise: no step leaves the fast path for it.
    report = cli_json("run", "demo", "--seed", "5", "--scale", "5", "--database-url", db_url)
    assert report["orm_reasons"] == {} and report["nondeterministic"] == {}
    engine = create_engine(db_url)
    with engine.connect() as conn:
        early_orders = conn.execute(
            text("SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id WHERE o.created_at < u.created_at")
        ).scalar_one()
        early_suspensions = conn.execute(
            text("SELECT count(*) FROM users WHERE suspended_at < created_at")
        ).scalar_one()
        suspended = conn.execute(text("SELECT count(*) FROM users WHERE suspended_at IS NOT NULL")).scalar_one()
    engine.dispose()
    assert early_orders == 0 and early_suspensions == 0 and suspended == 15


SKU_TOO_LONG = """
import factory
from seedkit import Recipe
from .factories import ProductFactory

recipe = Recipe("SKUs that repeat and fill their column")
products = recipe.add(ProductFactory, 3, sku=factory.Iterator(["X" * 32, "Y" * 32]))
"""

FIXED_EMAIL = """
from seedkit import Recipe
from .factories import UserFactory

recipe = Recipe("one email for three users")
users = recipe.add(UserFactory, 3, email="same@example.org")
"""


def test_a_tag_that_would_not_fit_fails_with_one_message(tmp_path, db_url):
    folder = demo_recipes(tmp_path, sku_too_long=SKU_TOO_LONG)
    result = cli("run", "sku_too_long", "--recipes", folder, "--database-url", db_url)
    assert result.exit_code == 1, result.output
    assert "products.sku is unique" in result.stderr and "would not fit the column (32 characters)" in result.stderr


def test_a_fixed_value_in_a_unique_column_is_a_recipe_error(tmp_path, db_url):
    folder = demo_recipes(tmp_path, fixed_email=FIXED_EMAIL)
    result = cli("run", "fixed_email", "--recipes", folder, "--database-url", db_url)
    assert result.exit_code == 2, result.output
    assert "step 'users'" in result.stderr and "users.email is unique" in result.stderr
    assert "'same@example.org'" in result.stderr


def test_emails_are_tagged_only_where_faker_would_collide(sqlite_url):
    assert cli("run", "demo", "--seed", "8", "--scale", "50", "--database-url", sqlite_url).exit_code == 0
    tagged = _distinct(sqlite_url, "SELECT count(*) FROM users WHERE email LIKE '%+%@%'")
    assert tagged <= 0.04 * 58 * 50  # per-row Faker collides on ~2.2% of 11,600 emails
