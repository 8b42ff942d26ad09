"""Models as steps: a factory inferred from a model's columns, by name and by type."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

from seedkit.infer import tokens
from seedkit.randomness import DEFAULT_NOW
from tests.conftest import cli, cli_json, demo_recipes

MODELS_ONLY = """
from seedkit import Recipe, between
from .models import Order, OrderItem, Product, Project, Task, User

recipe = Recipe("the demo schema from its models alone")
users = recipe.add(User, 60)
products = recipe.add(Product, 20)
orders = recipe.add(Order, per=users, count=between(0, 3))
items = recipe.add(OrderItem, per=orders, count=(1, 2))  # each item's product: picked, as it must have one
projects = recipe.add(Project, 5)
tasks = recipe.add(Task, per=projects, count=4)
"""


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("resolving_loans", ["resolving", "loans"]),
        ("resolvingLoans", ["resolving", "loans"]),
        ("zipCode", ["zip", "code"]),
    ],
)
def test_names_are_split_into_words(name, words):
    assert tokens(name) == words


def test_the_demo_models_alone_give_plausible_values(tmp_path, db_url):
    folder = demo_recipes(tmp_path, models_only=MODELS_ONLY)
    report = cli_json("run", "models_only", "--recipes", folder, "--database-url", db_url)
    assert report["tables"]["users"] == 60 and report["orm_reasons"] == {}
    engine = create_engine(db_url)
    with engine.connect() as conn:
        users = conn.execute(text("SELECT email, username, name, created_at FROM users")).all()
        products = conn.execute(text("SELECT sku, price FROM products")).all()
        items = conn.execute(text("SELECT quantity, product_id FROM order_items")).all()
        product_ids = set(conn.execute(text("SELECT id FROM products")).scalars())
    engine.dispose()
    run_clock = DEFAULT_NOW.replace(tzinfo=None)
    assert len({u.email for u in users}) == 60 and all("@" in u.email for u in users)
    assert all(u.username == u.username.lower() and " " not in u.username for u in users)
    assert sum(" " in u.name for u in users) >= 55  # person names, as Faker writes them
    created = [
        u.created_at if isinstance(u.created_at, dt.datetime) else dt.datetime.fromisoformat(u.created_at)
        for u in users
    ]
    assert all(run_clock - dt.timedelta(days=731) <= c <= run_clock for c in created)
    assert all(len(p.sku) <= 32 for p in products) and len({p.sku for p in products}) == 20
    assert all(Decimal(0) <= Decimal(str(p.price)) <= Decimal(1000) for p in products)
    assert items and all(1 <= i.quantity <= 10 and i.product_id in product_ids for i in items)


def test_a_model_whose_required_parent_no_step_seeds_is_named(tmp_path, sqlite_url):
    orphans = "from seedkit import Recipe\nfrom .models import Order\n\nrecipe = Recipe('no users')\n"
    folder = demo_recipes(tmp_path, orphans=orphans + "orders = recipe.add(Order, 5)\n")
    result = cli("plan", "orphans", "--recipes", folder)
    assert result.exit_code == 2 and "refers to model User, which no step of this recipe seeds" in result.stderr


@pytest.mark.parametrize(("name", "provider"), [("date_of_birth", "date_of_birth"), ("born", "date_of_birth"),
                                                ("dob", "date_of_birth"), ("hired_on", "date_between")])  # fmt: skip
def test_birth_dates_are_dates_of_birth(name, provider):
    from sqlalchemy import Column, Date, Integer, MetaData, Table

    from seedkit.infer import declaration_for

    table = Table("people", MetaData(), Column("id", Integer, primary_key=True), Column(name, Date))
    declared = declaration_for(table.c[name])
    assert declared.call == "factory.Faker" and declared.arguments[0] == repr(provider)
