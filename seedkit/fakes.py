"""Faker, a column at a time: Faker's own formats and element lists, composed from seeded choices.

Calling Faker once per row is realistic but slow (a weighted ``name()`` costs ~70 µs); sampling a
small pool of its values is fast but visibly repetitive. Most providers are formats over element
lists — a name is ``{{first_name}} {{last_name}}`` (weighted, with rarer prefixed and suffixed
formats), an email is a user name and a domain, a sentence is words from a list — so a column of
``n`` values can be built the way Faker builds one value, for all rows at once: one weighted
``choices`` call per format and per list, then joins. The space is Faker's (millions of names, not
2,000), and so are the weights, so common first names stay common.

The composers mirror the provider code of the pinned Faker release, read from the locale's own
provider objects (``fake.name.__self__.formats``); a provider they do not cover is called once per
row by a Faker seeded per chunk (:class:`PerRow`). Every draw goes through ``Random.random()``
(``choices`` and arithmetic on it), the one method Python keeps stable across versions.
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from itertools import accumulate, repeat, starmap
from typing import Any

from faker import Faker
from faker.decode import unidecode
from faker.utils.text import slugify

from seedkit.randomness import run_now

Column = Callable[[random.Random, int], list]  # (seeded rng, n) -> n values

_TOKEN = re.compile(r"\{\{\s*(\w+)(:\s*\w+?)?\s*\}\}")  # faker.generator's _re_token
_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_BETWEEN = {"start_date", "end_date", "tzinfo"}  # date_time_between's arguments


class Weighted:
    """An element list as Faker's ``random_element`` reads it: an OrderedDict's values are
    weights; any other sequence is uniform."""

    def __init__(self, elements: Any) -> None:
        if hasattr(elements, "items"):
            self.values = list(elements.keys())
            self.cum: list[float] | None = list(accumulate(elements.values()))
        else:
            self.values = list(elements)
            self.cum = None

    def draw(self, rng: random.Random, n: int) -> list:
        if self.cum is None:
            return rng.choices(self.values, k=n)
        return rng.choices(self.values, cum_weights=self.cum, k=n)


_PLACEHOLDERS = (("#", string.digits, 0), ("%", string.digits, 1), ("?", string.ascii_letters, 0))


def _numerify(texts: list[str], rng: random.Random) -> list[str]:
    """Faker's ``bothify``: ``#`` a digit, ``%`` a digit from 1, then ``?`` a letter, in the order
    Faker replaces them, on every string that has placeholders."""
    rand = rng.random
    out = []
    for text in texts:
        for mark, alphabet, low in _PLACEHOLDERS:
            if mark in text:
                parts = text.split(mark)
                span = len(alphabet) - low
                pieces = [parts[0]]
                for part in parts[1:]:
                    pieces += (alphabet[low + int(rand() * span)], part)
                text = "".join(pieces)
        out.append(text)
    return out


def _ascii(texts: list[str], replacements: Sequence[tuple[str, str]]) -> list[str]:
    """Faker's ``_to_ascii``: the locale's replacements, then unidecode."""
    out = []
    for text in texts:
        for search, replace in replacements:
            text = text.replace(search, replace)
        out.append(text if text.isascii() else unidecode(text))
    return out


_NOT_SLUG = re.compile(r"[^\w\s-]")


def _slug(text: str) -> str:
    """Faker's ``slugify(text, allow_unicode=True)``; ASCII without spaces (the usual user name or
    domain word) needs only its punctuation removed."""
    if text.isascii() and " " not in text:
        return _NOT_SLUG.sub("", text).lower()
    return slugify(text, allow_unicode=True)


def _lower(texts: list[str]) -> list[str]:
    """Each text lower-cased, the column at once (no text holds a newline: Faker's words do not)."""
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1:
        return [t.lower() for t in texts]
    return joined.lower().split("\n") if texts else []


def _join(*columns: list[str], sep: str = "") -> list[str]:
    return [sep.join(parts) for parts in zip(*columns, strict=True)]


class Composer:
    """Column functions for one locale's providers; ``None`` where a provider is not composable."""

    def __init__(self, locale: str | None) -> None:
        self.fake = Faker(locale)
        self._columns: dict[str, Column | None] = {}

    def _provider(self, name: str) -> Any:
        method = getattr(self.fake, name, None)
        return getattr(method, "__self__", None)

    def token(self, name: str) -> Column:
        """A column for a ``{{token}}`` inside a format: composed, or Faker per row."""
        column = self.plain(name)
        return column if column is not None else PerRow(self.fake, name, {}).column

    def plain(self, name: str) -> Column | None:
        """A column for a provider called without arguments."""
        if name not in self._columns:
            self._columns[name] = self._compose(name)
        return self._columns[name]

    # -- building blocks ------------------------------------------------------------------------

    def _element(self, provider: Any, attribute: str) -> Column | None:
        elements = getattr(provider, attribute, None)
        if not elements:
            return None
        weighted = Weighted(elements)
        return weighted.draw

    def _formats(self, provider: Any, attribute: str) -> Column | None:
        """``pattern = random_element(formats); return generator.parse(pattern)``, column-wise."""
        formats = getattr(provider, attribute, None)
        if not formats:
            return None
        chosen = Weighted(formats)
        parsed = {f: self._parse(f) for f in chosen.values}

        def column(rng: random.Random, n: int) -> list:
            picks = chosen.draw(rng, n)
            counts = Counter(picks)
            # Each format's values are drawn in a fixed order of formats, whatever order the rows
            # chose them in, then dealt to the rows that chose it, in row order.
            values = {p: iter(parsed[p](rng, counts[p])) for p in chosen.values if counts[p]}
            return list(map(next, map(values.__getitem__, picks)))

        return column

    def _parse(self, pattern: str) -> Column:
        """A format string's values: its literal text around a column per ``{{token}}``."""
        pieces: list[str | Column] = []
        position = 0
        for match in _TOKEN.finditer(pattern):
            pieces.append(pattern[position : match.start()])
            pieces.append(self.token(match.group(1)))
            position = match.end()
        pieces.append(pattern[position:])
        literal = all(isinstance(p, str) for p in pieces)

        def column(rng: random.Random, n: int) -> list[str]:
            if literal:
                return [pattern] * n
            parts = [[p] * n if isinstance(p, str) else p(rng, n) for p in pieces]
            try:
                return list(map("".join, zip(*parts, strict=True)))
            except TypeError:  # a token's values that are not text (a number)
                return ["".join(map(str, row)) for row in zip(*parts, strict=True)]

        return column

    # -- providers ------------------------------------------------------------------------------

    def _compose(self, name: str) -> Column | None:
        special = _SPECIAL.get(name)
        if special is not None:
            return special(self)
        provider = self._provider(name)
        if provider is None:
            return None
        attribute = _ELEMENTS.get(name)
        if attribute is not None:
            return self._element(provider, attribute)
        attribute = _FORMATS.get(name)
        if attribute is not None:
            return self._formats(provider, attribute)
        return None

    def user_name(self) -> Column | None:
        provider = self._provider("user_name")
        formats = self._formats(provider, "user_name_formats")
        if formats is None:
            return None
        replacements = getattr(provider, "replacements", ())
        # A replacement that could match ASCII text would change names the fast path leaves be.
        ascii_safe = not any(search.isascii() for search, _ in replacements)

        def column(rng: random.Random, n: int) -> list[str]:
            # bothify, lower, _to_ascii, @slugify_unicode. ASCII names without spaces (nearly all,
            # in most locales) need only the slug's punctuation removed: done to the whole column
            # at once, newlines between names (\s, which the slug keeps).
            names = _numerify(formats(rng, n), rng)
            joined = "\n".join(names).lower()
            if joined.isascii() and " " not in joined and ascii_safe:
                return _NOT_SLUG.sub("", joined).split("\n") if names else []
            out = []
            for name in names:
                name = name.lower()
                if not (name.isascii() and name.isalnum()):
                    name = _slug(_ascii([name], replacements)[0])
                out.append(name)
            return out

        return column

    def domain_word(self) -> Column | None:
        provider = self._provider("domain_word")
        company = self.plain("company")
        if company is None:
            return None
        replacements = getattr(provider, "replacements", ())

        def column(rng: random.Random, n: int) -> list[str]:  # @lowercase @slugify_unicode
            words = _ascii([c.split(" ")[0] for c in company(rng, n)], replacements)
            return [_slug(w).lower() for w in words]

        return column

    def _at(self, domain: str) -> Column | None:
        """``user_name() + "@" + <domain>()``, lower-cased (Faker's ``@lowercase``)."""
        user, host = self.plain("user_name"), self.token(domain)
        if user is None:
            return None
        return lambda rng, n: _lower(_join(user(rng, n), ["@"] * n, host(rng, n)))

    def domain_name(self) -> Column | None:
        word, tld = self.plain("domain_word"), self.token("tld")
        if word is None:
            return None
        return lambda rng, n: _lower(_join(word(rng, n), ["."] * n, tld(rng, n)))

    def _word_lists(self, name: str, attribute: str) -> Column | None:
        """``" ".join(random_element(words) for words in <lists>)``: catch_phrase, bs."""
        lists = getattr(self._provider(name), attribute, None)
        if not lists:
            return None
        columns = [Weighted(words).draw for words in lists]
        return lambda rng, n: _join(*(c(rng, n) for c in columns), sep=" ")


def _same_as(other: str) -> Callable[[Composer], Column | None]:
    return lambda composer: composer.plain(other)


# Providers that return ``random_element(<attribute>)`` of their provider object.
_ELEMENTS = {
    "first_name": "first_names",
    "last_name": "last_names",
    "first_name_male": "first_names_male",
    "first_name_female": "first_names_female",
    "first_name_nonbinary": "first_names_nonbinary",
    "last_name_male": "last_names_male",
    "last_name_female": "last_names_female",
    "last_name_nonbinary": "last_names_nonbinary",
    "prefix_male": "prefixes_male",
    "prefix_female": "prefixes_female",
    "prefix_nonbinary": "prefixes_nonbinary",
    "suffix_male": "suffixes_male",
    "suffix_female": "suffixes_female",
    "suffix_nonbinary": "suffixes_nonbinary",
    "free_email_domain": "free_email_domains",
    "safe_domain_name": "safe_domain_names",
    "tld": "tlds",
    "company_suffix": "company_suffixes",
    "city_prefix": "city_prefixes",
    "city_suffix": "city_suffixes",
    "street_suffix": "street_suffixes",
    "state": "states",
    "state_abbr": "states_abbr",
    "country": "countries",
    "job": "jobs",
}
# Providers that return ``generator.parse(random_element(<attribute>))``.
_FORMATS = {
    "name": "formats",
    "name_male": "formats_male",
    "name_female": "formats_female",
    "name_nonbinary": "formats_nonbinary",
    "company": "formats",
    "city": "city_formats",
    "street_name": "street_name_formats",
}
_SPECIAL: dict[str, Callable[[Composer], Column | None]] = {
    "user_name": Composer.user_name,
    "domain_word": Composer.domain_word,
    "domain_name": Composer.domain_name,
    "email": lambda c: c._at("safe_domain_name"),
    "safe_email": lambda c: c._at("safe_domain_name"),
    "free_email": lambda c: c._at("free_email_domain"),
    "company_email": lambda c: c._at("domain_name"),
    "catch_phrase": lambda c: c._word_lists("catch_phrase", "catch_phrase_words"),
    "bs": lambda c: c._word_lists("bs", "bsWords"),
}


# -- providers with arguments -----------------------------------------------------------------


def _words_column(composer: Composer, kwargs: dict[str, Any]) -> tuple[Weighted, Any] | None:
    provider = composer._provider("words")
    if provider is None or set(kwargs) - {"nb_words", "variable_nb_words", "ext_word_list", "nb"}:
        return None
    words = kwargs.get("ext_word_list") or provider.get_words_list()
    return Weighted(words), provider


def sentence(composer: Composer, kwargs: dict[str, Any]) -> Column | None:
    """Faker's ``sentence``: ±40% words (at least one), the first title-cased, a full stop."""
    found = _words_column(composer, kwargs)
    if found is None:
        return None
    words, provider = found
    nb_words = kwargs.get("nb_words", 6)
    variable = kwargs.get("variable_nb_words", True)
    connector, stop = provider.word_connector, provider.sentence_punctuation

    def column(rng: random.Random, n: int) -> list[str]:
        if nb_words <= 0:
            return [""] * n
        rand = rng.random
        if variable:
            counts = [max(1, int(nb_words * (60 + int(rand() * 81)) / 100)) for _ in range(n)]
        else:
            counts = [nb_words] * n
        drawn = words.draw(rng, sum(counts))  # one draw for the chunk's words, then cut
        out = []
        start = 0
        for count in counts:
            chosen = drawn[start : start + count]
            start += count
            chosen[0] = chosen[0].title()
            out.append(connector.join(chosen) + stop)
        return out

    return column


def word(composer: Composer, kwargs: dict[str, Any]) -> Column | None:
    found = _words_column(composer, kwargs)
    return found[0].draw if found is not None else None


def _timestamp(value: Any, now: datetime) -> float:
    """Faker's ``_parse_date_time`` with ``now`` given (the run clock as the column reads it)."""
    if isinstance(value, datetime):  # naive: UTC, as Faker reads it
        return value.timestamp() if value.tzinfo else (value - _EPOCH) / _SECOND
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    if isinstance(value, timedelta):
        return (now + value).timestamp()
    if isinstance(value, int):
        return float(value)
    if value == "now":
        return now.timestamp()
    from faker.providers.date_time import Provider as DateTimes

    return (now + timedelta(**DateTimes._parse_date_string(value))).timestamp()


def date_time_between(composer: Composer, kwargs: dict[str, Any]) -> Column | None:
    """Faker's ``date_time_between``: uniform seconds between two moments (naive UTC by default)."""
    if set(kwargs) - _BETWEEN:
        return None
    start_spec, end_spec = kwargs.get("start_date", "-30y"), kwargs.get("end_date", "now")
    tzinfo = kwargs.get("tzinfo")

    def column(rng: random.Random, n: int) -> list[datetime]:
        now = run_now().astimezone(tzinfo or UTC)
        start, end = _timestamp(start_spec, now), _timestamp(end_spec, now)
        if start > end:
            raise ValueError("empty range for date_time_between: start must be before end")
        span = end - start
        # start + span * random(), per row, at C speed
        return _moments(list(map(start.__add__, map(span.__mul__, starmap(rng.random, repeat((), n))))), tzinfo)

    return column


def _moments(seconds: list[float], tzinfo: Any) -> list[datetime]:
    """Seconds since the epoch as Faker returns them: naive UTC, or in ``tzinfo``."""
    if tzinfo is None:
        return [_EPOCH + timedelta(seconds=s) for s in seconds]
    return [(_EPOCH_UTC + timedelta(seconds=s)).astimezone(tzinfo) for s in seconds]


def _this(unit: str) -> Callable[[Composer, dict[str, Any]], Column | None]:
    """``date_time_this_year`` and friends: from the unit's start to now (their defaults)."""

    def compose(composer: Composer, kwargs: dict[str, Any]) -> Column | None:
        if set(kwargs) - {"tzinfo"}:
            return None
        tzinfo = kwargs.get("tzinfo")

        def column(rng: random.Random, n: int) -> list[datetime]:
            now = run_now().astimezone(tzinfo or UTC)
            start = _start_of(now, unit)
            between = date_time_between(composer, {"start_date": start, "end_date": now, "tzinfo": tzinfo})
            assert between is not None
            return between(rng, n)

        return column

    return compose


def _start_of(now: datetime, unit: str) -> datetime:
    if unit == "month":
        return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "year":
        return now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    year = now.year - now.year % (10 if unit == "decade" else 100)
    return now.replace(year=year, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)


def random_int(composer: Composer, kwargs: dict[str, Any]) -> Column | None:
    """``random_int(min=0, max=9999, step=1)``: uniform over the range, bounds included."""
    if set(kwargs) - {"min", "max", "step"}:
        return None
    values = range(kwargs.get("min", 0), kwargs.get("max", 9999) + 1, kwargs.get("step", 1))
    return lambda rng, n: rng.choices(values, k=n)


def pyint(composer: Composer, kwargs: dict[str, Any]) -> Column | None:
    if set(kwargs) - {"min_value", "max_value", "step"}:
        return None
    return random_int(
        composer,
        {"min": kwargs.get("min_value", 0), "max": kwargs.get("max_value", 9999), "step": kwargs.get("step", 1)},
    )


def pybool(composer: Composer, kwargs: dict[str, Any]) -> Column | None:
    if set(kwargs) - {"truth_probability"}:
        return None
    chance = kwargs.get("truth_probability", 50) / 100
    return lambda rng, n: [rng.random() < chance for _ in range(n)]


def pydecimal(composer: Composer, kwargs: dict[str, Any]) -> Column | None:
    """A bounded ``pydecimal`` (``min_value`` and ``max_value`` given, as in price columns): uniform
    over the range at ``right_digits`` places. Other argument sets are called per row."""
    if set(kwargs) - {"left_digits", "right_digits", "positive", "min_value", "max_value"}:
        return None
    low, high, places = kwargs.get("min_value"), kwargs.get("max_value"), kwargs.get("right_digits")
    if low is None or high is None or places is None:
        return None
    scale = 10**places
    lo, hi = round(Decimal(str(low)) * scale), round(Decimal(str(high)) * scale)
    if lo > hi:
        return None
    units = range(lo, hi + 1)
    exponent = Decimal(1).scaleb(-places)
    return lambda rng, n: [(Decimal(u) / scale).quantize(exponent) for u in rng.choices(units, k=n)]


_WITH_ARGUMENTS: dict[str, Callable[[Composer, dict[str, Any]], Column | None]] = {
    "sentence": sentence,
    "word": word,
    "date_time_between": date_time_between,
    "date_time_this_year": _this("year"),
    "date_time_this_month": _this("month"),
    "date_time_this_decade": _this("decade"),
    "date_time_this_century": _this("century"),
    "random_int": random_int,
    "pyint": pyint,
    "pybool": pybool,
    "pydecimal": pydecimal,
}


@cache
def composer_for(locale: str | None) -> Composer:
    return Composer(locale)


def column_for(provider: str, kwargs: dict[str, Any], locale: str | None) -> Column | None:
    """A column function for ``factory.Faker(provider, **kwargs)``, or None: call it per row."""
    composer = composer_for(locale)
    with_arguments = _WITH_ARGUMENTS.get(provider)
    if with_arguments is not None:
        return with_arguments(composer, kwargs)
    if kwargs:
        return None
    return composer.plain(provider)


def varying_column_for(
    provider: str, fixed: dict[str, Any], varying: set[str], locale: str | None
) -> Callable[[random.Random, int, dict[str, list]], list]:
    """A column for ``factory.Faker(provider, **fixed, **varying)`` whose ``varying`` arguments
    differ per row (``start_date=factory.SelfAttribute("..user.created_at")``)."""
    if provider == "date_time_between" and varying | set(fixed) <= _BETWEEN and "tzinfo" not in varying:
        return _date_time_between_rows(fixed)
    per_row = PerRow(composer_for(locale).fake, provider, fixed)
    return per_row.column_with


def _timestamps(values: list, now: datetime) -> list[float]:
    """:func:`_timestamp` of each value; naive datetimes (a parent's ``created_at``, the usual
    bound) without a call per value."""
    if set(map(type, values)) == {datetime} and not any(v.tzinfo for v in values):
        return [(v - _EPOCH) / _SECOND for v in values]
    return list(map(_timestamp, values, repeat(now)))


def _date_time_between_rows(fixed: dict[str, Any]) -> Callable[[random.Random, int, dict[str, list]], list]:
    """``date_time_between`` with per-row bounds: Faker's uniform seconds, row by row."""
    tzinfo = fixed.get("tzinfo")

    def column(rng: random.Random, n: int, varying: dict[str, list]) -> list[datetime]:
        now = run_now().astimezone(tzinfo or UTC)
        bounds = []
        for key, default in (("start_date", "-30y"), ("end_date", "now")):
            if key in varying:
                bounds.append(_timestamps(varying[key], now))
            else:
                bounds.append(repeat(_timestamp(fixed.get(key, default), now), n))
        rand = rng.random
        seconds = [start + max(end - start, 0.0) * rand() for start, end in zip(*bounds, strict=True)]
        return _moments(seconds, tzinfo)

    return column


class PerRow:
    """Faker called once per row, seeded from the column's RNG: full variety for any provider,
    at Faker's own cost (used where no composer exists)."""

    def __init__(self, fake: Faker, provider: str, kwargs: dict[str, Any]) -> None:
        self._fake = Faker(fake.locales[0] if fake.locales else None)
        self._draw = self._fake.get_formatter(provider)
        self._kwargs = kwargs

    def column(self, rng: random.Random, n: int) -> list:
        self._fake.seed_instance(int(rng.random() * 2**53))
        draw, kwargs = self._draw, self._kwargs
        return [draw(**kwargs) for _ in range(n)]

    def column_with(self, rng: random.Random, n: int, varying: dict[str, list]) -> list:
        """Faker once per row, with that row's values for the ``varying`` arguments."""
        self._fake.seed_instance(int(rng.random() * 2**53))
        draw, kwargs, keys = self._draw, self._kwargs, list(varying)
        return [
            draw(**kwargs, **dict(zip(keys, values, strict=True))) for values in zip(*varying.values(), strict=True)
        ]
