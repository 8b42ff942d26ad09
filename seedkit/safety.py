"""Keeping secrets out of output and writes away from databases that must not be touched."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from seedkit.errors import TargetRefused

_PASSWORD_IN_TEXT = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)(?=@)")


def mask_url(url: str | URL) -> str:
    """Render a database URL with its password replaced by ``***``."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return mask_text(str(url))
    return parsed.render_as_string(hide_password=True)


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove passwords from free text: URLs with credentials, and any known secret values.

    Database drivers quote the URL or the password back in their errors, so every message that
    leaves seedkit goes through here.
    """
    masked = _PASSWORD_IN_TEXT.sub(lambda m: m.group("head") + "***", text)
    for secret in secrets:
        if secret and len(secret) >= 3:
            masked = masked.replace(secret, "***")
    return masked


def check_writable(url: URL, protected: Iterable[str]) -> None:
    """Refuse any write to a production environment or a target matching a protected pattern.

    Patterns are shell-style globs matched against the parsed URL's parts (host, database, or
    ``host/database``), never against the raw string, so a password or query parameter that
    happens to contain a protected word does not count, and ``prod-db`` does not match ``db``.
    """
    if os.environ.get("SEEDKIT_ENV", "").strip().lower() == "production":
        raise TargetRefused(
            f"Refusing to write to {mask_url(url)}: SEEDKIT_ENV is 'production'. "
            "seedkit never writes to production; unset SEEDKIT_ENV to seed a non-production target."
        )
    host = (url.host or "").lower()
    database = url.database or ""
    candidates = {host, database.lower(), f"{host}/{database.lower()}"} - {"", "/"}
    for pattern in protected:
        for candidate in candidates:
            if fnmatch.fnmatchcase(candidate, pattern.lower()):
                raise TargetRefused(
                    f"Refusing to write to {mask_url(url)}: it matches the protected pattern "
                    f"{pattern!r} in [tool.seedkit] protected. Protected targets are never "
                    "written, with or without --yes."
                )
