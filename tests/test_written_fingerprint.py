"""A run's fingerprint, taken from the rows as written, equals what the database then holds.

SQLite's tables are fingerprinted from the rows seedkit writes; on PostgreSQL the COPY writer
sends the fingerprint's canonical text and the run hashes what it sent. Every column kind the
fingerprint renders goes in with values chosen to catch a round trip seedkit could get wrong:
type affinity, numeric scale, float text, time zones, JSON's canonical form, NULLs. Where the
database may store something else than was written, the table must be read back, and the report
must say so.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal

import factory
import pytest
from sqlalchemy import (
    CHAR,
    JSON,
    REAL,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    Uuid,
    create_engine,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import seedkit
from seedkit import Recipe

PLUS_FIVE_THIRTY = dt.timezone(dt.timedelta(hours=5, minutes=30))


class Base(DeclarativeBase):
    pass


class Kinds:
    """A column of every kind the fingerprint renders (a mixin: two tables below have them)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    flag = mapped_column(Boolean)
    n = mapped_column(Integer)
    ratio = mapped_column(Float)
    amount = mapped_column(Numeric(10, 2))
    exact = mapped_column(Numeric)
    label = mapped_column(String(50))
    body = mapped_column(Text)
    at = mapped_column(DateTime)
    at_tz = mapped_column(DateTime(timezone=True))
    day = mapped_column(Date)
    doc = mapped_column(JSON)
    token = mapped_column(Uuid)


class Sample(Kinds, Base):
    __tablename__ = "samples"
    blob = mapped_column(LargeBinary)


# Values each column cycles through; the lengths differ so that rows mix them.
VALUES = {
    "flag": [True, False, None],
    "n": [0, -1, 2**31 - 1, None, 42],
    "ratio": [0.1, 2.0, -0.0, 1e-3, 123456.789, 1 / 3, None],
    # 12.345 rounds half away from zero on PostgreSQL; SQLite keeps the float.
    "amount": [Decimal("100.00"), Decimal("0.10"), Decimal("12.345"), Decimal("-0.004"), 7, None],
    "exact": [Decimal("1.50"), Decimal("1E+2"), Decimal("-3.14159"), None],
    "label": ['quote " tab \t newline \n', "", "naïve café ☕", "\\N", "None", "12", None, "x" * 50],
    "body": ["line\r\nbreak", "\x01control", "back\\slash", "😀 astral", None],
    "at": [dt.datetime(2025, 1, 2, 3, 4, 5), dt.datetime(2025, 1, 2, 3, 4, 5, 60), dt.datetime(999, 1, 2), None],
    "at_tz": [
        dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC),
        dt.datetime(2025, 6, 1, 12, 30, 0, 7, tzinfo=PLUS_FIVE_THIRTY),
        None,
    ],
    "day": [dt.date(2024, 2, 29), dt.date(1, 1, 1), None],
    "doc": [
        {"zeta": 1, "a": [1, {"bb": None, "c": "x"}], "mid": True},
        [1, 0.5, "é", {"b": 2, "aa": 1}],
        "just text",
        {},
        {"n": -17, "long": 12345678901234567890},
    ],
    "token": [uuid.UUID(int=12345), uuid.UUID("f" * 32), None],
    "blob": [b"\x00\xff", b"", None],
}


def _factory_of(model: type, values: dict[str, list]) -> type:
    """A factory cycling each column through its values."""
    declarations = {column: factory.Iterator(cycled) for column, cycled in values.items()}
    meta = type("Meta", (), {"model": model})
    return type(f"{model.__name__}Factory", (factory.alchemy.SQLAlchemyModelFactory,), {"Meta": meta, **declarations})


SampleFactory = _factory_of(Sample, VALUES)


def _seed(
    url: str, recipe: Recipe, base: type[DeclarativeBase] = Base, before: str | None = None, workers: int = 1
) -> tuple:
    """Seed ``recipe`` into fresh tables; the run's report and the fingerprint read afterwards."""
    engine = create_engine(url)
    base.metadata.create_all(engine)
    if before is not None:
        with engine.begin() as conn:
            conn.exec_driver_sql(before)
    settings = seedkit.load_settings(database_url=url)
    with engine.begin() as conn:
        report = seedkit.seed_into(conn, recipe, settings=settings, seed=3, workers=workers)
    engine.dispose()
    return report, seedkit.fingerprint(settings)


def test_every_kind_is_fingerprinted_as_written_and_as_stored(sqlite_url, pg_url):
    recipe = Recipe("every kind")
    recipe.add(SampleFactory, 300)
    report, stored = _seed(sqlite_url, recipe)
    assert report.tables == {"samples": 300}
    assert report.read_back == {}  # every value's stored text was known before it was sent
    assert report.fingerprint == stored.overall
    on_postgres, stored_there = _seed(pg_url, recipe)
    # Bytes are sent through psycopg, not as text seedkit renders as PostgreSQL prints it.
    assert on_postgres.read_back == {"samples": "seedkit does not render BYTEA values (blob) as PostgreSQL prints them"}
    assert on_postgres.fingerprint == stored_there.overall


class Sent(DeclarativeBase):
    pass


class SentSample(Kinds, Sent):
    """The kinds PostgreSQL's run hashes from the COPY text it sends (bytes are not one)."""

    __tablename__ = "sent"
    unwritten = mapped_column(String(5))  # no declaration: NULL, sent as \N
    spaced = mapped_column("Odd Name", String(10))  # a column name COPY must quote


SENT_VALUES = {
    "flag": VALUES["flag"],
    "n": VALUES["n"],
    "ratio": [0.1, 2.0, -0.0, 1e-3, 123456.789, 1 / 3, 0.0001, 999999999999999.9, None],
    "amount": [Decimal("100.00"), Decimal("0.10"), Decimal("-0.5"), 7, Decimal("7.00"), Decimal("-0.00"), None],
    "exact": VALUES["exact"],
    "label": VALUES["label"],
    "body": VALUES["body"],
    "at": VALUES["at"],
    "at_tz": VALUES["at_tz"],
    "day": VALUES["day"],
    # Equal to Python, not to JSON: each must keep its own text.
    "doc": [*VALUES["doc"], {"f": 1.0, "g": -2.5, "s": 'tab\there \\ "q"'}, None, {"a": 1}, {"a": True}, {"a": 1.0}],
    "token": VALUES["token"],
    "spaced": ["a", "b b", None],
}


def test_what_postgresql_is_sent_is_what_it_holds(pg_url):
    recipe = Recipe("sent")
    recipe.add(_factory_of(SentSample, SENT_VALUES), 300)
    engine = create_engine(pg_url)
    Sent.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("SET TIME ZONE 'Asia/Kolkata'")  # not UTC, so that a zone left changed shows
        report = seedkit.seed_into(conn, recipe, settings=seedkit.load_settings(database_url=pg_url), seed=3)
        assert conn.exec_driver_sql("SHOW TimeZone").scalar() == "Asia/Kolkata"
        instants = (
            conn.exec_driver_sql("SELECT at_tz FROM sent WHERE at_tz IS NOT NULL ORDER BY id LIMIT 2").scalars().all()
        )
    engine.dispose()
    assert instants == VALUES["at_tz"][:2]  # the same instants, whatever the session's zone
    stored = seedkit.fingerprint(seedkit.load_settings(database_url=pg_url))
    assert report.tables == {"sent": 300}
    assert report.read_back == {}  # hashed as sent: no table read back
    assert report.fingerprint == stored.overall
    # The same run read back gives the same fingerprint: the server's canonical text is the payload.
    assert seedkit.fingerprint(seedkit.load_settings(database_url=pg_url)).tables["sent"].rows == 300


# (column type, values) that PostgreSQL keeps in another form than their COPY text, or that
# seedkit sends through psycopg: each table must be read back.
PG_ODD_CASES = [
    (Float, [1e-7, 1.5]),  # printed with an exponent
    (Float, [1e15]),
    (Float, [float("nan")]),
    (REAL, [0.1, 2.0]),  # fewer digits kept
    (Numeric(10, 2), [Decimal("12.345")]),  # rounded half away from zero
    (CHAR(5), ["ab"]),  # padded
    (String(3), ["ab     "]),  # the spaces past 3 characters are cut
    (String(10), [1, 2]),  # numbers, made text
    (JSON, [{"tiny": 1e-7}]),  # jsonb expands the exponent
    (JSON, [{"z": -0.0}]),  # a numeric zero has no sign
    (JSON, [{1: "int key"}]),
    (DateTime, [dt.datetime(2025, 1, 1, 12, tzinfo=PLUS_FIVE_THIRTY)]),  # the zone is dropped
    (LargeBinary, [b"\x00"]),
    (DateTime(timezone=True), [dt.datetime(2025, 1, 1, 12)]),  # naive: the server's zone would decide
]


class PgOdd(DeclarativeBase):
    pass


def test_values_postgresql_keeps_otherwise_are_read_back(pg_url):
    recipe = Recipe("odd on postgres")
    models = []
    for i, (column_type, values) in enumerate(PG_ODD_CASES):
        model = type(
            f"PgOdd{i}",
            (PgOdd,),
            {
                "__tablename__": f"pg_odd_{i}",
                "id": mapped_column(Integer, primary_key=True),
                "v": mapped_column(column_type),
            },
        )
        models.append(model)
        recipe.add(_factory_of(model, {"v": values}), 2)
    report, stored = _seed(pg_url, recipe, PgOdd)
    assert set(report.read_back) == {f"pg_odd_{i}" for i in range(len(PG_ODD_CASES))}, report.read_back
    assert report.fingerprint == stored.overall


class Odd(DeclarativeBase):
    pass


# (column type, values, whether SQLite must read the table back)
ODD_CASES = [
    (Float, [1e-7, 1.5, -0.0, 1e300], False),  # a zero float loses its sign there
    (REAL, [0.1, 2.0], False),
    (Numeric(10, 2), [0.1, 2.25, 1.005], False),  # stored as floats
    (CHAR(5), ["ab", "abcde"], False),
    (JSON, [None, {"a": 1}], False),  # None is JSON null
    (JSON, [{"tiny": 1e-7}, [2.5], {1: "int key"}], True),  # json.dumps makes the key a string
    (JSON, [5, "x", 2.5], True),  # a number's JSON text is a number to a NUMERIC column
    (DateTime(timezone=True), [dt.datetime(2025, 1, 1, 12)], False),
    (DateTime, [dt.datetime(2025, 1, 1, 12, tzinfo=PLUS_FIVE_THIRTY)], False),  # the wall time is kept
    (String(10), [1, 2], True),  # numbers into a TEXT column become text
    (Text, ["12", "1e5", "x"], False),  # TEXT keeps text as it is
]


def _odd_model(i: int, column_type: object) -> type:
    return type(
        f"Odd{i}",
        (Odd,),
        {
            "__tablename__": f"odd_{i}",
            "id": mapped_column(Integer, primary_key=True),
            "v": mapped_column(column_type),
        },
    )


ODD_MODELS = [_odd_model(i, case[0]) for i, case in enumerate(ODD_CASES)]


def test_values_whose_round_trip_differs_are_read_back(sqlite_url):
    recipe = Recipe("odd values")
    for model, (_, values, _) in zip(ODD_MODELS, ODD_CASES, strict=True):
        recipe.add(_factory_of(model, {"v": values}), 4)
    report, stored = _seed(sqlite_url, recipe, Odd)
    expected = {f"odd_{i}" for i, (_, _, read_back) in enumerate(ODD_CASES) if read_back}
    assert set(report.read_back) == expected, report.read_back
    assert report.fingerprint == stored.overall


class Filled(DeclarativeBase):
    pass


class Stamped(Filled):
    __tablename__ = "stamped"
    id: Mapped[int] = mapped_column(primary_key=True)
    name = mapped_column(String(20))
    batch = mapped_column(Integer, server_default=text("7"))


class StampedFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = Stamped

    name = factory.Sequence(lambda n: f"n{n}")


TRIGGERS = {
    "sqlite": "CREATE TRIGGER shout AFTER INSERT ON stamped BEGIN "
    "UPDATE stamped SET name = upper(name) WHERE id = NEW.id; END",
    "postgresql": "CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN NEW.name := upper(NEW.name); RETURN NEW; END $$; "
    "CREATE TRIGGER shout BEFORE INSERT ON stamped FOR EACH ROW EXECUTE FUNCTION shout()",
}


def test_a_column_the_database_fills_is_read_back(sqlite_url):
    recipe = Recipe("stamped")
    recipe.add(StampedFactory, 5)
    report, stored = _seed(sqlite_url, recipe, Filled)
    assert report.read_back == {"stamped": "the database fills its column batch"}
    assert report.fingerprint == stored.overall


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_table_with_a_trigger_is_read_back(backend, request):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    recipe = Recipe("shouted")
    recipe.add(StampedFactory, 5, batch=1)
    report, stored = _seed(url, recipe, Filled, before=TRIGGERS[backend])
    if backend == "sqlite":
        assert report.read_back == {"stamped": "a trigger or rule (on stamped) may change any table"}
    assert report.fingerprint == stored.overall
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM stamped ORDER BY id")).scalars().first() == "N0"
    engine.dispose()


def test_rows_already_there_are_read_back(sqlite_url):
    recipe = Recipe("twice")
    recipe.add(StampedFactory, 3, batch=1)
    _seed(sqlite_url, recipe, Filled)
    settings = seedkit.load_settings(database_url=sqlite_url)
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        report = seedkit.seed_into(conn, recipe, settings=settings, seed=4)
    engine.dispose()
    assert report.read_back == {"stamped": "it held rows before this run"}
    assert report.fingerprint == seedkit.fingerprint(settings).overall


class Late(DeclarativeBase):
    pass


class LateOdd(Late):
    __tablename__ = "late_odd"
    id: Mapped[int] = mapped_column(primary_key=True)
    v = mapped_column(Float)


class LateOddFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = LateOdd

    # Plain floats for the first chunk, then one PostgreSQL prints with an exponent.
    v = factory.Sequence(lambda n: 1.5 if n < 5000 else 1e-7)


@pytest.mark.parametrize("workers", [1, 2], ids=["one process", "two workers"])
def test_a_table_sent_as_text_then_not_is_read_back_whole(pg_url, workers):
    # With two workers, one renders the first chunk as text and the other finds it cannot.
    recipe = Recipe("late")
    recipe.add(LateOddFactory, 6000)
    report, stored = _seed(pg_url, recipe, Late, workers=workers)
    assert report.read_back == {"late_odd": "v holds floats PostgreSQL prints in another form (an exponent, NaN)"}
    assert report.tables == {"late_odd": 6000}
    assert report.fingerprint == stored.overall
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), count(*) FILTER (WHERE v = 1e-7) FROM late_odd")).one() == (
            6000,
            1000,
        )
    engine.dispose()


class Status(enum.Enum):
    ACTIVE = "active"
    GONE = "gone"


class Enums(DeclarativeBase):
    pass


class Account(Enums):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    status = mapped_column(Enum(Status))  # PostgreSQL: a native enum type
    kept_as_text = mapped_column(Enum(Status, native_enum=False))


AccountFactory = _factory_of(Account, {"status": [Status.GONE, Status.ACTIVE], "kept_as_text": [Status.ACTIVE, None]})


@pytest.mark.parametrize("rows_before", [False, True], ids=["sent as text", "sent through psycopg"])
def test_python_enums_are_stored_by_name(db_url, rows_before):
    """str() of a member is "Status.GONE": what goes in is the name SQLAlchemy stores."""
    recipe = Recipe("enums")
    recipe.add(AccountFactory, 6)
    before = "INSERT INTO accounts (id, status, kept_as_text) VALUES (100, 'GONE', 'GONE')" if rows_before else None
    report, stored = _seed(db_url, recipe, Enums, before=before)
    assert report.fingerprint == stored.overall
    if not rows_before:
        assert report.read_back == {}
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT CAST(status AS VARCHAR(10)), kept_as_text FROM accounts WHERE id <> 100 ORDER BY id")
        ).all()
    engine.dispose()
    assert len(rows) == 6
    assert {status for status, _ in rows} == {"GONE", "ACTIVE"}
    assert {kept for _, kept in rows} == {"ACTIVE", None}
