"""The exceptions seedkit raises on purpose.

Each one carries a message meant for a person and an exit code, so the CLI can turn any of them
into one clear screen instead of a traceback. Anything else that escapes is a bug or a database
failure and is reported as a failed seed (exit 1).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class SeedkitError(Exception):
    """Base class: a failure seedkit understood and can explain in one message."""

    exit_code = 1


class UsageError(SeedkitError):
    """Bad input from the user: an option out of range, a malformed URL, an unknown recipe."""

    exit_code = 2


class RecipeError(UsageError):
    """A recipe that cannot be loaded or is invalid; the message names the file and step."""


class TargetRefused(UsageError):
    """The target database may not be written: protected, not empty, or unconfirmed."""


class TargetUnavailable(SeedkitError):
    """The database could not be reached or opened."""


class LockBusy(SeedkitError):
    """Another seedkit run holds the target's lock and we were told not to wait."""


class MigrationError(SeedkitError):
    """Alembic failed: the migrations folder is missing or broken, or a migration raised."""


class SeedFailed(SeedkitError):
    """Writing the rows failed (a constraint, a factory error); everything was rolled back."""


class CacheSkipped(SeedkitError):
    """A template could not be kept (the run itself succeeded); the message says why."""


def describe_db_error(exc: Any) -> str:
    """One line naming the table and constraint, from the driver's diagnostics when it has them."""
    from seedkit.safety import mask_text

    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    first = text.splitlines()[0] if text else type(orig).__name__
    diag = getattr(orig, "diag", None)
    if diag is not None and (diag.table_name or diag.constraint_name):
        parts = [f"table {diag.table_name}"] if diag.table_name else []
        if diag.constraint_name:
            parts.append(f"constraint {diag.constraint_name}")
        detail = f" ({diag.message_detail})" if diag.message_detail else ""
        return mask_text(f"{first} [{', '.join(parts)}]{detail}")
    return mask_text(first)


@contextmanager
def failing_as(action: str, errors: tuple[type[BaseException], ...]) -> Iterator[None]:
    """Turn a database error (one of the backend's ``errors``) into :class:`SeedFailed` saying
    what failed ("writing books").

    Driver messages do not always name the table (SQLite's rarely do), and a statement run on
    the writer's thread has no step around it to say which one.
    """
    try:
        yield
    except errors as exc:
        raise SeedFailed(f"{action} failed: {describe_db_error(exc)}") from exc
