"""Writers never change the data: every path gives the same fingerprint; the report names each."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text

from tests.conftest import cli, cli_json, fingerprint_of, schema_of
from tests.library_project import books_with_pages, cli_options, write_project


def test_every_writer_gives_the_same_fingerprint_on_postgres(pg_url, another_db):
    results = {}
    for writer in ("copy", "executemany", "orm"):
        url = another_db(pg_url)
        report = cli_json("run", "demo", "--seed", "8", "--writer", writer, "--database-url", url)
        assert set(report["paths"].values()) == {writer}
        results[writer] = fingerprint_of(url)
    assert results["copy"] == results["executemany"] == results["orm"]


def test_sqlite_writers_agree(tmp_path):
    fast = cli_json("run", "demo", "--seed", "8", "--database-url", f"sqlite:///{tmp_path / 'a.db'}")
    orm = cli_json("run", "demo", "--seed", "8", "--writer", "orm", "--database-url", f"sqlite:///{tmp_path / 'b.db'}")
    assert set(fast["paths"].values()) == {"executemany"}
    assert fast["fingerprint"] == orm["fingerprint"]
    assert fast["read_back"] == {}  # taken from the rows written
    assert set(orm["read_back"]) == set(orm["tables"])  # model instances may add defaults: read back


def test_copy_needs_postgres(sqlite_url):
    result = cli("run", "tiny", "--writer", "copy", "--database-url", sqlite_url)
    assert result.exit_code == 2 and "PostgreSQL" in result.stderr


PLAIN_SUBFACTORY = """
from seedkit import Recipe
from .library_factories import BookFactory

recipe = Recipe("books whose authors come from a plain SubFactory")
books = recipe.add(BookFactory, 4)
"""


def test_a_plain_subfactory_takes_the_orm_path(tmp_path, db_url):
    project = write_project(tmp_path / "p", {"plain": PLAIN_SUBFACTORY})
    opts = cli_options(project)
    report = cli_json("run", "plain", "--seed", "2", "--database-url", db_url, *opts)
    assert report["tables"] == {"authors": 4, "books": 4}
    assert report["paths"]["books"] == "orm"
    assert "SubFactory" in report["orm_reasons"]["books"]
    assert set(report["read_back"]) == {"authors", "books"} and "factory-boy" in report["read_back"]["books"]
    again = tmp_path / "again.db"
    other = cli_json("run", "plain", "--seed", "2", "--database-url", f"sqlite:///{again}", *opts)
    assert other["fingerprint"] == report["fingerprint"]


AWKWARD_TEXT = r"""
import factory
from seedkit import Recipe
from .library_factories import AuthorFactory, BookFactory

recipe = Recipe("text that COPY must escape")
authors = recipe.add(
    AuthorFactory, 6, pen_name=factory.Sequence(lambda n: f"tab\t{n} newline\n back\\slash \\N \"q\" ☕ \r end")
)
# Text that looks like COPY's NULL or like Python's None must arrive as written.
TITLES = ["None", "\\N", "", "\\", "\\\\", "a\tb"]
books = recipe.add(BookFactory, per=authors, count=1, title=factory.Sequence(lambda n: TITLES[n % 6]))
"""


def test_copy_escapes_text_exactly_like_the_other_writers(pg_url, tmp_path):
    project = write_project(tmp_path / "p", {"awkward": AWKWARD_TEXT})
    opts = cli_options(project)
    copied = cli_json("run", "awkward", "--writer", "copy", "--database-url", pg_url, *opts)
    plain = cli_json(
        "run", "awkward", "--writer", "executemany", "--database-url", f"sqlite:///{tmp_path / 'x.db'}", *opts
    )
    assert copied["paths"]["authors"] == "copy"
    assert copied["fingerprint"] == plain["fingerprint"]


def test_workers_give_the_same_fingerprint(db_url, tmp_path):
    one = cli_json("run", "demo", "--seed", "6", "--scale", "40", "--database-url", f"sqlite:///{tmp_path / 'one.db'}")
    two = cli_json("run", "demo", "--seed", "6", "--scale", "40", "--workers", "2", "--database-url", db_url)
    assert one["tables"]["order_items"] > 10_000  # several chunks, so the workers really split the work
    assert two["fingerprint"] == one["fingerprint"]
    assert fingerprint_of(db_url)["overall"] == one["fingerprint"]
    # The workers' chunks were hashed as written (on PostgreSQL, as the text they rendered).
    assert two["read_back"] == {}


def test_by_default_workers_make_the_steps_they_can_finish(pg_url):
    from seedkit.generate import CHUNK

    report = cli_json("run", "demo", "--seed", "6", "--scale", "40", "--database-url", pg_url)
    chunks = -(-report["tables"]["order_items"] // CHUNK)  # order items: sent as text by workers
    assert chunks > 1 and report["workers"] == min(os.cpu_count() or 1, chunks)
    assert report["read_back"] == {}
    tiny = cli_json("run", "tiny", "--append", "--database-url", pg_url)
    assert tiny["workers"] == 1  # one chunk per step: nothing to fork for


def test_workers_must_be_positive(sqlite_url):
    result = cli("run", "tiny", "--workers", "0", "--database-url", sqlite_url)
    assert result.exit_code == 2 and "--workers" in result.stderr


UUID_KEYS = """
from seedkit import Recipe
from .library_factories import BookTagFactory, TagFactory

recipe = Recipe("tags keyed by uuid4 defaults, and rows pointing at them")
tags = recipe.add(TagFactory, 30)
book_tags = recipe.add(BookTagFactory, per=tags, count=2)
"""


def test_uuid_primary_keys_from_column_defaults(tmp_path, db_url):
    project = write_project(tmp_path / "p", {"uuid_keys": UUID_KEYS})
    opts = cli_options(project)
    report = cli_json("run", "uuid_keys", "--seed", "5", "--database-url", db_url, *opts)
    assert report["tables"] == {"tags": 30, "book_tags": 60}
    again = cli_json("run", "uuid_keys", "--seed", "5", "--database-url", f"sqlite:///{tmp_path / 'again.db'}", *opts)
    assert again["fingerprint"] == report["fingerprint"]  # uuid4 defaults are seeded too


MIXED_PATHS = """
from seedkit import Recipe
from .library_factories import AuthorFactory, BookFactory, BookTagFactory

recipe = Recipe("COPY, then the ORM path (whose SubFactory adds tags), then COPY again")
authors = recipe.add(AuthorFactory, 20)
book_tags = recipe.add(BookTagFactory, 5)
books = recipe.add(BookFactory, per=authors, count=2)
"""


def test_copy_and_orm_steps_mix_in_one_run(tmp_path, pg_url, another_db):
    project = write_project(tmp_path / "p", {"mixed": MIXED_PATHS})
    opts = cli_options(project)
    report = cli_json("run", "mixed", "--seed", "4", "--database-url", pg_url, *opts)
    assert report["paths"] == {"authors": "copy", "tags": "orm", "book_tags": "orm", "books": "copy"}
    assert report["fingerprint"] == fingerprint_of(pg_url)["overall"]
    on_sqlite = cli_json("run", "mixed", "--seed", "4", "--database-url", f"sqlite:///{tmp_path / 'm.db'}", *opts)
    assert on_sqlite["fingerprint"] == report["fingerprint"]
    pristine = another_db(pg_url)
    assert cli("migrate", "--database-url", pristine, *opts[2:]).exit_code == 0
    assert schema_of(pg_url) == schema_of(pristine)


FAME = """
CREATE FUNCTION fame() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE authors SET famous = true WHERE id = NEW.author_id; RETURN NEW; END $$;
CREATE TRIGGER fame AFTER INSERT ON books FOR EACH ROW EXECUTE FUNCTION fame();
"""


def test_a_trigger_that_changes_written_tables_is_in_the_recorded_fingerprint(tmp_path, pg_url):
    # The server hashes a table once its last step is written, unless a trigger could change it later.
    opts = cli_options(write_project(tmp_path / "p", {}))
    assert cli("migrate", "--database-url", pg_url, *opts[2:]).exit_code == 0
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(FAME)
    report = cli_json("run", "library", "--seed", "3", "--database-url", pg_url, *opts)
    with engine.connect() as conn:
        famous = conn.execute(text("SELECT count(*) FROM authors WHERE famous")).scalar_one()
    engine.dispose()
    assert famous == report["tables"]["authors"]  # every author has a book: the trigger ran for each
    assert report["fingerprint"] == fingerprint_of(pg_url)["overall"]


SAME_PAGES = """
from seedkit import Recipe
from .library_factories import AuthorFactory, BookFactory

recipe = Recipe("two books of 100 pages")
authors = recipe.add(AuthorFactory, 1)
books = recipe.add(BookFactory, per=authors, count=2, pages=100)
"""


def _sqlite_indexes(url: str) -> list[tuple[str, str]]:
    with create_engine(url).connect() as conn:
        return conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")).all()


def test_sqlite_indexes_are_built_again_after_the_rows(tmp_path, sqlite_url):
    # The user's own indexes, dropped while an empty table loads: all back, and consistent.
    opts = cli_options(write_project(tmp_path / "p"))
    assert cli("migrate", "--database-url", sqlite_url, *opts[2:]).exit_code == 0  # no --recipes
    with create_engine(sqlite_url).begin() as conn:
        conn.execute(text("CREATE INDEX ix_books_author ON books (author_id, title)"))
        conn.execute(text("CREATE UNIQUE INDEX uq_authors_pen_name_lower ON authors (lower(pen_name))"))
    before = _sqlite_indexes(sqlite_url)
    report = cli_json("run", "library", "--seed", "3", "--database-url", sqlite_url, *opts)
    assert report["tables"]["books"] > 0 and report["paths"]["books"] == "executemany"
    assert _sqlite_indexes(sqlite_url) == before
    with create_engine(sqlite_url).connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        used = conn.execute(text("EXPLAIN QUERY PLAN SELECT id FROM books WHERE author_id = 1 AND title = 'x'")).all()
        assert "ix_books_author" in str(used)


def test_a_duplicate_in_a_dropped_sqlite_unique_index_fails_before_commit(tmp_path, sqlite_url):
    opts = cli_options(write_project(tmp_path / "p", {"same_pages": SAME_PAGES}))
    assert cli("migrate", "--database-url", sqlite_url, *opts[2:]).exit_code == 0  # no --recipes
    with create_engine(sqlite_url).begin() as conn:
        conn.execute(text("CREATE UNIQUE INDEX uq_books_pages ON books (pages)"))
    before = _sqlite_indexes(sqlite_url)
    result = cli("run", "same_pages", "--database-url", sqlite_url, *opts)
    assert result.exit_code == 1
    assert "checking books failed" in result.stderr and "UNIQUE" in result.stderr and "rolled back" in result.stderr
    assert _sqlite_indexes(sqlite_url) == before
    with create_engine(sqlite_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM books")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM authors")).scalar() == 0


def test_workers_auto_reports_its_choice(sqlite_url):
    report = cli_json("run", "tiny", "--workers", "auto", "--database-url", sqlite_url)
    assert report["workers"] >= 1 and report["tables"]["users"] == 3
    bad = cli("run", "tiny", "--workers", "many", "--database-url", sqlite_url)
    assert bad.exit_code == 2 and "--workers" in bad.output


def test_workers_check_values_before_encoding_them(tmp_path, pg_url):
    # On PostgreSQL, workers send books as COPY text: the value check runs there, and still names
    # step, column and value.
    # 8,000 books: more than one chunk, so workers make them.
    project = write_project(tmp_path / "p", {"misfit": books_with_pages('"lots"', per_author=4000)})
    result = cli("run", "misfit", "--workers", "2", "--database-url", pg_url, *cli_options(project))
    assert result.exit_code == 1
    assert "step 'books': column books.pages (int) cannot hold 'lots' (str)" in result.stderr
