"""Keeping secrets out of output and writes away from databases that must not be touched."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from seedkit.errors import TargetRefused

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from seedkit.backends import Target

_PASSWORD_IN_TEXT = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)(?=@)")
# libpq takes a password as a query parameter or a conninfo keyword too (``?password=``,
# ``password=secret``, ``password='a b'``); drivers echo conninfo strings in their errors.
SECRET_PARAMETERS = ("password", "sslpassword")
_PARAMETER_IN_TEXT = re.compile(
    r"(?P<head>\b(?:" + "|".join(SECRET_PARAMETERS) + r")\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|[^&\s'\"]+)", re.IGNORECASE
)


def mask_url(url: str | URL) -> str:
    """Render a database URL with every password it carries replaced by ``***``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except (ArgumentError, ValueError):
        return mask_text(str(url))
    return mask_text(parsed.render_as_string(hide_password=True))


def passwords_in(raw: str | None) -> tuple[str, ...]:
    """Every password a URL carries, in its userinfo or its query, to scrub from free text."""
    if not raw:
        return ()
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        return ()
    found = [url.password] if url.password else []
    for key, value in url.query.items():
        if key.lower() in SECRET_PARAMETERS:
            found += [value] if isinstance(value, str) else list(value)
    return tuple(str(p) for p in found)


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove passwords from free text: URLs with credentials, and any known secret values.

    Database drivers quote the URL or the password back in their errors, so every message that
    leaves seedkit goes through here.
    """
    masked = _PASSWORD_IN_TEXT.sub(lambda m: m.group("head") + "***", text)
    masked = _PARAMETER_IN_TEXT.sub(lambda m: m.group("head") + "***", masked)
    for secret in secrets:
        if secret and len(secret) >= 3:
            masked = masked.replace(secret, "***")
    return masked


def check_writable(target: Target, protected: Iterable[str]) -> None:
    """Refuse any write to a production environment or a target matching a protected pattern.

    Patterns are shell-style globs matched against where the driver really connects (each
    host, the database, and ``host/database``), as the backend resolved it from the URL, its
    query and the environment, never against the raw string: a password or an unrelated query
    parameter that holds a protected word does not count, and ``?dbname=prod`` cannot hide one
    that does.
    """
    if os.environ.get("SEEDKIT_ENV", "").strip().lower() == "production":
        raise TargetRefused(
            f"Refusing to write to {target.display}: SEEDKIT_ENV is 'production'. "
            "seedkit never writes to production; unset SEEDKIT_ENV to seed a non-production target."
        )
    names = target.names()
    for pattern in protected:
        for name in sorted(names):
            if fnmatch.fnmatchcase(name, pattern.lower()):
                raise TargetRefused(
                    f"Refusing to write to {target.display}: it matches the protected pattern "
                    f"{pattern!r} in [tool.seedkit] protected. Protected targets are never "
                    "written, with or without --yes."
                )
