"""COPY text encoding: the fast path must never take a NULL, a "None" or an escape for plain text."""

from __future__ import annotations

import datetime as dt
import decimal

from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, Numeric, String

from seedkit.writers.copy_text import NULL, TextEncoder


def _encoder(*types) -> TextEncoder:
    encoder = TextEncoder.for_columns([Column(f"c{i}", t) for i, t in enumerate(types)])
    assert encoder is not None
    return encoder


def test_plain_rows_are_formatted_as_postgres_reads_them():
    encoder = _encoder(Integer(), String(), Boolean(), Numeric(), DateTime())
    rows = [(1, "ann", True, decimal.Decimal("1.50"), dt.datetime(2026, 1, 1, 12, 0))]
    assert encoder.encode(rows) == b"1\tann\tTrue\t1.50\t2026-01-01 12:00:00\n"


def test_null_and_the_text_none_stay_apart():
    encoder = _encoder(Integer(), String())
    assert encoder.encode([(1, None), (2, "None")]) == b"1\t\\N\n2\tNone\n"


def test_a_null_in_a_not_null_column_is_still_sent_as_null():
    # The server must reject it, as every other writer's insert would; never the text "None".
    encoder = TextEncoder.for_columns([Column("title", String(), nullable=False)])
    assert encoder.encode([(None,)]) == b"\\N\n"


def test_escapes_in_any_chunk_after_plain_ones():
    encoder = _encoder(Integer(), String())
    assert encoder.encode([(1, "plain")]) == b"1\tplain\n"
    assert encoder.encode([(2, "a\tb\\c\nd\re")]) == b"2\ta\\tb\\\\c\\nd\\re\n"
    assert encoder.encode([(3, "\\N")]) == b"3\t\\\\N\n"


def test_json_is_serialised_and_escaped():
    encoder = _encoder(Integer(), JSON())
    assert encoder.encode([(1, {"a": "x\ty"})]) == b'1\t{"a": "x\\\\ty"}\n'
    assert encoder.encode([(2, {"b": [1]}), (3, None)]) == b'2\t{"b": [1]}\n3\t\\N\n'


def test_remembered_timestamps_encode_as_str_does_with_nulls_between():
    pool = [dt.datetime(2026, 1, 1, 12, 0, 0, 5), dt.datetime(2025, 6, 30, 23, 59, 59), dt.date(2024, 2, 29)]
    encoder = _encoder(Integer(), DateTime(), DateTime())
    for chunk in range(3):
        rows = [(i, pool[(i + chunk) % 3], None if i % 4 == 0 else pool[i % 3]) for i in range(50)]
        expected = "".join(f"{i}\t{a}\t{NULL if b is None else b}\n" for i, a, b in rows).encode()
        assert encoder.encode(rows) == expected


def test_a_column_of_distinct_timestamps_stops_remembering():
    encoder = _encoder(DateTime())
    start = dt.datetime(2026, 1, 1)
    for chunk in range(3):
        rows = [(start + dt.timedelta(seconds=chunk * 1000 + i),) for i in range(1000)]
        assert encoder.encode(rows) == "".join(f"{r[0]}\n" for r in rows).encode()
    assert encoder._remembered[0].convert is None  # its memory is let go, not grown per row
