"""A throwaway user project, written into a temporary folder: its own models, factories,
recipes, Alembic migrations and ``[tool.seedkit]`` settings. Nothing in it is seedkit's demo.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

MODELS = """
import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    pen_name: Mapped[str] = mapped_column(String(100), unique=True)
    famous: Mapped[bool] = mapped_column(default=False)
    favorite_book_id: Mapped[int | None] = mapped_column(ForeignKey("books.id", use_alter=True))
    favorite_book: Mapped["Book | None"] = relationship(foreign_keys=[favorite_book_id])


class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    label: Mapped[str] = mapped_column(String(50), unique=True)


class BookTag(Base):
    __tablename__ = "book_tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    tag_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tags.id"))
    tag: Mapped[Tag] = relationship()


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    title: Mapped[str] = mapped_column(String(200))
    pages: Mapped[int]
    author: Mapped[Author] = relationship(foreign_keys=[author_id])
"""

FACTORIES = """
import factory
import factory.fuzzy

from .library_models import Author, Book, BookTag, Tag


class AuthorFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = Author

    pen_name = factory.Faker("name")
    famous = False

    class Params:
        celebrated = factory.Trait(famous=True)


class BookFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = Book

    author = factory.SubFactory(AuthorFactory)
    title = factory.LazyAttribute(lambda o: f"{o.author.pen_name}: {o.subject}")
    pages = factory.fuzzy.FuzzyInteger(80, 900)

    class Params:
        subject = factory.Faker("word")


class TagFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = Tag

    label = factory.Faker("word")


class BookTagFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = BookTag

    tag = factory.SubFactory(TagFactory)
"""

LIBRARY = '''
"""Authors and their books."""
from seedkit import Recipe, between

from .library_factories import AuthorFactory, BookFactory

recipe = Recipe("Authors, a few famous, each with 1-3 books.")
authors = recipe.add(AuthorFactory, 8)
famous = recipe.add(AuthorFactory, 2, traits=["celebrated"], step_name="famous_authors")
books = recipe.add(BookFactory, per=authors, count=between(1, 3))
'''

ENV = """
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config


def run_on(connection):
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as fresh:
        run_on(fresh)
"""

MIGRATION = """
import sqlalchemy as sa
from alembic import op

revision = "a1"
down_revision = None


def upgrade():
    op.create_table(
        "authors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pen_name", sa.String(100), nullable=False, unique=True),
        sa.Column("famous", sa.Boolean, nullable=False),
        sa.Column("favorite_book_id", sa.Integer, nullable=True),
    )
    op.create_table(
        "books",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("authors.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
    )


    op.create_table(
        "tags",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("label", sa.String(50), nullable=False, unique=True),
    )
    op.create_table(
        "book_tags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tag_id", sa.Uuid, sa.ForeignKey("tags.id"), nullable=False),
    )


    # A table the app's migrations own but no model maps: seedkit must leave it be.
    op.create_table("audit_log", sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.Text))


def downgrade():
    op.drop_table("audit_log")
    op.drop_table("book_tags")
    op.drop_table("tags")
    op.drop_table("books")
    op.drop_table("authors")
"""

ALEMBIC_INI = """
[alembic]
script_location = %(here)s/migrations
"""

PYPROJECT = """
[project]
name = "library-app"
version = "1.0"

[tool.seedkit]
recipes = "seeds"
alembic_config = "db/alembic.ini"
"""


def books_with_pages(pages: str, per_author: int = 2) -> str:
    """A recipe module: two authors, ``per_author`` books each, every book's pages set to ``pages``
    (Python source: ``'"lots"'``, ``"True"``)."""
    return f"""
from seedkit import Recipe
from .library_factories import AuthorFactory, BookFactory

recipe = Recipe("books whose pages the recipe fixes")
authors = recipe.add(AuthorFactory, 2)
books = recipe.add(BookFactory, per=authors, count={per_author}, pages={pages})
"""


def write_project(root: Path, extra_recipes: dict[str, str] | None = None) -> Path:
    """Write the project under ``root`` and return it; ``extra_recipes`` adds recipe modules."""
    files = {
        "pyproject.toml": PYPROJECT,
        "seeds/library_models.py": MODELS,
        "seeds/library_factories.py": FACTORIES,
        "seeds/library.py": LIBRARY,
        "db/alembic.ini": ALEMBIC_INI,
        "db/migrations/env.py": ENV,
        "db/migrations/versions/a1_tables.py": MIGRATION,
    }
    for name, body in (extra_recipes or {}).items():
        files[f"seeds/{name}.py"] = body
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body).lstrip())
    return root


def cli_options(project: Path) -> list[str]:
    """The flags that point the CLI at the project from anywhere (no reliance on the cwd)."""
    return ["--recipes", str(project / "seeds"), "--alembic-config", str(project / "db" / "alembic.ini")]
