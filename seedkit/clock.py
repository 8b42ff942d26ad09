"""The run clock: what ``--now`` means, read without importing what seeding needs.

Every verb parses ``--now`` first (a cached run needs nothing else from seeding), so this module
imports nothing but the standard library.
"""

from __future__ import annotations

from datetime import UTC, datetime

from seedkit.errors import UsageError

# Mid-month in mid-year: Faker's relative windows (this_year, this_month, -90d) all span weeks
# or months before it, never hours.
DEFAULT_NOW = datetime(2026, 6, 15, 12, 0, 0, tzinfo=UTC)
EARLIEST_NOW = datetime(1980, 1, 1, tzinfo=UTC)
LATEST_NOW = datetime(9000, 1, 1, tzinfo=UTC)


def parse_now(value: str | datetime | None) -> datetime:
    """The run clock: ``--now`` as ISO 8601 (UTC when no offset is given), or the fixed default.

    Seeded values reach back years before the clock and ``time.time()`` must stay positive, so
    the clock lies between 1980 and 9000.
    """
    if value is None:
        return DEFAULT_NOW
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise UsageError(
                f"now must be an ISO 8601 date and time such as 2026-06-15T12:00:00Z, got {value!r}"
            ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
        in_range = EARLIEST_NOW <= value <= LATEST_NOW
    except OverflowError:  # an offset that pushes it past year 1 or 9999
        in_range = False
    if not in_range:
        raise UsageError(f"now must lie between {EARLIEST_NOW:%Y-%m-%d} and {LATEST_NOW:%Y-%m-%d}, got {value}")
    return value
