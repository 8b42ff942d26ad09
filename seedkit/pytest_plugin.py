"""pytest plugin: each test gets a seeded database of its own, cloned from a cached template.

The template for a recipe, seed and scale is seedkit's template cache (:mod:`seedkit.cache`):
built once, the first time a test asks for it (under pytest-xdist once for all workers, behind a
file lock), and kept between sessions for as long as its key holds. Each test then gets a clone
(``CREATE DATABASE … TEMPLATE`` on PostgreSQL, a file copy on SQLite) that is dropped after it,
or kept when it failed and ``--seedkit-keep-failed`` is given.

Loaded through the ``pytest11`` entry point; it imports nothing heavy until a test asks for one
of its fixtures, so it costs other test suites nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session

    from seedkit.config import Settings
    from seedkit.templates import Template, TemplateStore

MARKER = "seedkit(recipe=None, seed=None, scale=None): the seeded data this test's database holds"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("seedkit", "seeded databases from seedkit recipes")
    group.addoption(
        "--seedkit-database-url",
        default=None,
        help="PostgreSQL server for the tests' databases, as a URL to a maintenance database "
        "(default: ini seedkit_database_url, else SQLite files in pytest's temporary folder).",
    )
    group.addoption(
        "--seedkit-keep-failed", action="store_true", help="Keep the database of a failed test (its URL is shown)."
    )
    parser.addini("seedkit_database_url", "PostgreSQL maintenance URL for the tests' databases", default="")
    parser.addini("seedkit_recipe", "recipe the tests' databases are seeded with", default="")
    parser.addini("seedkit_seed", "seed for the tests' databases", default="0")
    parser.addini("seedkit_scale", "scale for the tests' databases", default="1")
    parser.addini("seedkit_recipes", "folder of recipe modules (default: seedkit's, ./recipes)", default="")
    parser.addini("seedkit_alembic_config", "alembic.ini or migrations folder (default: seedkit's)", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A marked test's factories are bound to its session before any other fixture builds rows
    (pytest-factoryboy's model fixtures create them as soon as they are set up)."""
    for item in items:
        names = getattr(item, "fixturenames", None)
        if item.get_closest_marker("seedkit") is not None and names is not None:
            if "seedkit_session" in names:
                names.remove("seedkit_session")
            names.insert(0, "seedkit_session")  # fixtures are set up in this list's order


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


_FAILED = pytest.StashKey[bool]()


@dataclass(frozen=True)
class Data:
    """What a test's database holds: a recipe at a seed and scale."""

    recipe: str
    seed: int
    scale: float


class Databases:
    """The session's templates and the databases cloned from them."""

    def __init__(self, config: pytest.Config, folder: Path, locks: Path) -> None:
        self.config, self.folder, self.locks = config, folder, locks
        self.server = config.getoption("--seedkit-database-url") or config.getini("seedkit_database_url") or None
        self.keep_failed = bool(config.getoption("--seedkit-keep-failed"))
        self._templates: dict[Data, Template] = {}
        self._base: Settings | None = None
        self._templates_store: TemplateStore | None = None

    def data_for(self, node: pytest.Item) -> Data:
        marker = node.get_closest_marker("seedkit")
        given = dict(marker.kwargs) if marker is not None else {}
        recipe = given.get("recipe") or self.config.getini("seedkit_recipe")
        if not recipe:
            pytest.fail("seedkit: no recipe: set ini seedkit_recipe, or mark the test @pytest.mark.seedkit(recipe=...)")
        seed = given.get("seed")
        scale = given.get("scale")
        return Data(
            recipe=recipe,
            seed=int(self.config.getini("seedkit_seed") if seed is None else seed),
            scale=float(self.config.getini("seedkit_scale") if scale is None else scale),
        )

    def _url(self, name: str) -> str:
        if self.server is None:
            return f"sqlite:///{self.folder / f'{name}.db'}"
        from sqlalchemy.engine import make_url

        return make_url(self.server).set(database=name).render_as_string(hide_password=False)

    def _settings(self, url: str) -> Settings:
        """The project's settings (read once a session), aimed at ``url``."""
        if self._base is None:
            from seedkit.config import load_settings

            ini = self.config.getini
            root = self.config.rootpath
            self._base = load_settings(
                recipes_dir=root / ini("seedkit_recipes") if ini("seedkit_recipes") else None,
                alembic_config=root / ini("seedkit_alembic_config") if ini("seedkit_alembic_config") else None,
                root=root,
            )
        return dataclasses.replace(self._base, database_url=url)

    def _store(self) -> TemplateStore:
        """Where the session's templates are (one backend a session: the server's, or SQLite's)."""
        if self._templates_store is None:
            from seedkit.database import backend_of, parse_url

            settings = self._settings(self._url("seedkit_templates"))
            url = parse_url(settings.database_url)
            self._templates_store = backend_of(url).templates(url, settings.cache_dir)
        return self._templates_store

    def template(self, data: Data) -> Template:
        """The template for ``data``, seeded first if no test session has kept one yet."""
        if data in self._templates:
            return self._templates[data]
        from seedkit.cache import template_for
        from seedkit.clock import parse_now

        build = self._url(f"seedkit_build_{secrets.token_hex(6)}")
        settings = self._settings(build)
        clock = parse_now(None)
        with self._lock(data):
            found = template_for(data.recipe, settings, seed=data.seed, scale=data.scale, clock=clock)
            if found is None:
                found = self._build(data, settings)
        self._templates[data] = found
        return found

    @contextlib.contextmanager
    def _lock(self, data: Data) -> Iterator[None]:
        """One builder per template across xdist workers (and concurrent sessions)."""
        name = hashlib.sha256(repr((data, self.server)).encode()).hexdigest()[:16]
        with open(self.locks / f"seedkit-{name}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _build(self, data: Data, settings: Settings) -> Template:
        import seedkit
        from seedkit.database import parse_url

        store = self._store()
        url = parse_url(settings.database_url)
        if self.server is not None:
            self._create(url.database or "")
        try:
            report = seedkit.run(data.recipe, settings=settings, seed=data.seed, scale=data.scale, cache=True)
        finally:
            store.discard(url)
        if report.cache is None or not report.cache.kept:
            note = report.cache.note if report.cache else "the cache was not used"
            pytest.fail(f"seedkit: could not keep a template of {data}: {note}")
        found = store.find(report.cache.key)
        assert found is not None
        return found

    def _create(self, database: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        engine = create_engine(self.server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
        finally:
            engine.dispose()

    def clone(self, data: Data) -> str:
        """A new database holding ``data``: its URL, password included (the test connects)."""
        from seedkit.database import parse_url

        template = self.template(data)
        database = parse_url(self._url(f"seedkit_test_{secrets.token_hex(6)}")).database or ""
        return self._store().copy(template, database).render_as_string(hide_password=False)

    def discard(self, url: str) -> None:
        from seedkit.database import parse_url

        self._store().discard(parse_url(url))

    def close(self) -> None:
        if self._templates_store is not None:
            self._templates_store.close()


@pytest.fixture(scope="session")
def seedkit_databases(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    """The session's templates and clones (one object per xdist worker)."""
    databases = Databases(pytestconfig, tmp_path_factory.mktemp("seedkit"), tmp_path_factory.getbasetemp().parent)
    yield databases
    databases.close()


@pytest.fixture
def seedkit_url(request: pytest.FixtureRequest, seedkit_databases: Databases) -> Iterator[str]:
    """A database of this test's own, holding the recipe's data (ini ``seedkit_recipe``, or the
    test's ``@pytest.mark.seedkit``); dropped after the test."""
    url = seedkit_databases.clone(seedkit_databases.data_for(request.node))
    yield url
    if seedkit_databases.keep_failed and request.node.stash.get(_FAILED, False):
        from seedkit.safety import mask_url

        request.node.add_report_section("teardown", "seedkit", f"kept the failed test's database: {mask_url(url)}")
        return
    seedkit_databases.discard(url)


@pytest.fixture
def seedkit_engine(seedkit_url: str) -> Iterator[Engine]:
    from sqlalchemy import create_engine

    engine = create_engine(seedkit_url)
    yield engine
    engine.dispose()


@pytest.fixture
def seedkit_connection(seedkit_engine: Engine) -> Iterator[Connection]:
    with seedkit_engine.connect() as connection:
        yield connection


@pytest.fixture
def seedkit_session(seedkit_engine: Engine) -> Iterator[Session]:
    """A SQLAlchemy ``Session`` on this test's database; every factory-boy SQLAlchemy factory
    creates its rows through it while the test runs (pytest-factoryboy's fixtures included)."""
    from sqlalchemy.orm import Session

    with Session(seedkit_engine) as session, _factories_bound_to(session):
        yield session


@contextlib.contextmanager
def _factories_bound_to(session: Session) -> Iterator[None]:
    from factory.alchemy import SQLAlchemyModelFactory

    found, queue = [], list(SQLAlchemyModelFactory.__subclasses__())
    while queue:
        cls = queue.pop()
        found.append(cls)
        queue += cls.__subclasses__()
    saved = [(cls, cls._meta.sqlalchemy_session, cls._meta.sqlalchemy_session_factory) for cls in found]
    for cls in found:
        cls._meta.sqlalchemy_session, cls._meta.sqlalchemy_session_factory = session, None
    try:
        yield
    finally:
        for cls, bound, factory in saved:
            cls._meta.sqlalchemy_session, cls._meta.sqlalchemy_session_factory = bound, factory


def _async_url(url: str) -> str:
    """The same database through an asyncio driver: aiosqlite, or psycopg's own async mode."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    driver = "sqlite+aiosqlite" if parsed.get_backend_name() == "sqlite" else "postgresql+psycopg"
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - the [pytest] extra installs it

    @pytest.fixture
    def seedkit_async_session() -> None:
        pytest.fail("seedkit_async_session needs pytest-asyncio: pip install 'seedkit[pytest]'")

else:

    @pytest_asyncio.fixture
    async def seedkit_async_session(seedkit_url: str) -> Any:
        """An ``AsyncSession`` on this test's database (psycopg's async mode, or aiosqlite)."""
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

        engine = create_async_engine(_async_url(seedkit_url))
        async with AsyncSession(engine, expire_on_commit=False) as session:
            yield session
        await engine.dispose()
