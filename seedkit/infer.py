"""Factories inferred from a model: a declaration per column, from its name and its type.

``recipe.add(Account, 10)`` with a mapped class needs no hand-written factory: each column gets
an ordinary factory-boy declaration — Faker where the name says what the column holds (``email``,
``first_name``, ``city``, ``created_at``…), a value of the right type and size otherwise — and
the factory built from them is a plain ``SQLAlchemyModelFactory`` that compiles like any other.
Keys seedkit numbers, foreign keys (filled through ``per=``/``refs=``) and columns with a default
(the database's or SQLAlchemy's) are left out.
"""

from __future__ import annotations

import datetime
import random
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import factory
import factory.fuzzy
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    Interval,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Table,
    Time,
    Uuid,
)

from seedkit.checks import Allowed, allowed, column_checks
from seedkit.errors import RecipeError
from seedkit.schema import table_info

# Name tokens -> the Faker provider (and arguments) a column so named holds. The first rule whose
# tokens are all in the column's name wins, so longer rules come first.
_BY_NAME: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
    (("first", "name"), "first_name", {}),
    (("last", "name"), "last_name", {}),
    (("full", "name"), "name", {}),
    (("user", "name"), "user_name", {}),
    (("email",), "email", {}),
    (("username",), "user_name", {}),
    (("login",), "user_name", {}),
    (("surname",), "last_name", {}),
    (("firstname",), "first_name", {}),
    (("lastname",), "last_name", {}),
    (("phone",), "phone_number", {}),
    (("city",), "city", {}),
    (("country",), "country", {}),
    (("state",), "state", {}),
    (("zip",), "postcode", {}),
    (("postcode",), "postcode", {}),
    (("postal",), "postcode", {}),
    (("street",), "street_address", {}),
    (("address",), "street_address", {}),
    (("url",), "url", {}),
    (("website",), "url", {}),
    (("company",), "company", {}),
    (("job",), "job", {}),
    (("title",), "sentence", {"nb_words": 4}),
    (("description",), "sentence", {"nb_words": 12}),
    (("summary",), "sentence", {"nb_words": 12}),
    (("bio",), "sentence", {"nb_words": 12}),
    (("notes",), "sentence", {"nb_words": 12}),
    (("comment",), "sentence", {"nb_words": 12}),
    (("slug",), "slug", {}),
    (("color",), "color_name", {}),
    (("colour",), "color_name", {}),
    (("currency",), "currency_code", {}),
    (("ip",), "ipv4", {}),
    (("name",), "name", {}),
]
_MOMENTS = {"created", "updated", "deleted", "modified", "published", "joined", "signed"}
_MONEY = {"price", "amount", "cost", "total", "balance", "fee"}
_BIRTHS = {"birth", "birthday", "birthdate", "born", "dob"}
_COUNTS = {"quantity", "qty", "count"}


def tokens(name: str) -> list[str]:
    """``resolvingLoans`` and ``resolving_loans`` alike: ``["resolving", "loans"]``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


@dataclass(frozen=True)
class Declared:
    """One column's declaration as the code a person would write. Inference evaluates this code
    and ``seedkit scaffold`` writes it out, so the two cannot disagree."""

    call: str  # e.g. "factory.Faker"
    arguments: tuple[str, ...]  # e.g. ("'email'",)
    imports: tuple[str, ...] = ("import factory",)
    names: tuple[tuple[str, Any], ...] = ()  # objects the source names beyond its imports (enum classes)

    @property
    def source(self) -> str:
        return f"{self.call}({', '.join(self.arguments)})"

    def build(self) -> Any:
        namespace: dict[str, Any] = {
            "factory": factory,
            "uuid": uuid,
            "Decimal": Decimal,
            "datetime": datetime,
            "random": random,
            **dict(self.names),
        }
        return eval(self.source, namespace)  # noqa: S307 - our own generated source, never input


def choice_of(values: list[Any]) -> Declared:
    """A column drawing from ``values`` (what its CHECK lets through), written out literally."""
    return Declared("factory.fuzzy.FuzzyChoice", (repr(values),), ("import factory.fuzzy", *_literal_imports(values)))


def cycle_of(values: list[Any]) -> Declared:
    """A column taking ``values`` in turn, row by row: columns cycled through lists of one
    length keep their values together (combinations a CHECK across them accepted)."""
    return Declared("factory.Iterator", (repr(values),), tuple(_literal_imports(values)))


def _literal_imports(values: list[Any]) -> list[str]:
    """What the ``repr`` of ``values`` names."""
    imports = ["import factory"]
    if any(isinstance(v, Decimal) for v in values):
        imports.append("from decimal import Decimal")
    if any(isinstance(v, datetime.date) for v in values):
        imports.append("import datetime")
    return imports


def after(earlier: Column, later: Column, *, strict: bool) -> Declared:
    """``later`` drawn after ``earlier`` in the same row (a CHECK ``later > earlier``): a random
    step of the column's kind, from the seeded ``random``; NULL where ``earlier`` is."""
    kind = underlying(later.type)
    low = 1 if strict else 0
    if isinstance(kind, (DateTime, Date)):
        unit = "hours=random.randint({}, 24 * 30)" if isinstance(kind, DateTime) else "days=random.randint({}, 30)"
        step = f"datetime.timedelta({unit.format(low)})"
        imports = ("import datetime", "import random", "import factory")
    elif isinstance(kind, (Integer, Numeric)):
        step, imports = f"random.randint({low}, 100)", ("import random", "import factory")
    else:
        raise CannotFill(later)
    first = earlier.key
    source = f"lambda o: None if o.{first} is None else o.{first} + {step}"
    return Declared("factory.LazyAttribute", (source,), imports)


def _faker(provider: str, **kwargs: Any) -> Declared:
    return Declared("factory.Faker", (repr(provider), *(f"{k}={v!r}" for k, v in kwargs.items())))


def _fuzzy(call: str, *arguments: str, names: tuple[tuple[str, Any], ...] = ()) -> Declared:
    return Declared(f"factory.fuzzy.{call}", arguments, ("import factory", "import factory.fuzzy"), names)


def declaration_for(column: Column) -> Declared:
    """A factory-boy declaration for one column: by its name where that says what it holds,
    else by its type; values always fit the column (lengths, precision, widths) and what its
    CHECK constraints allow (lists, bounds, lengths; see :mod:`seedkit.checks`)."""
    words = tokens(column.name)
    kind = underlying(column.type)
    limits = allowed(column_checks(column.table, column), column.name) if isinstance(column.table, Table) else Allowed()
    if limits.values is not None:
        return choice_of(list(limits.values))
    if limits.bounded or limits.min_length is not None or limits.max_length is not None:
        limited = _within(kind, limits)
        if limited is not None:
            return limited
    by_name = _by_name(words, kind)
    if by_name is not None:
        return _fitting(by_name, kind, column.name)
    return _by_type(column, kind)


def underlying(kind: Any) -> Any:
    """A PostgreSQL DOMAIN's own type (its CHECK is read with the column's)."""
    return getattr(kind, "data_type", None) or kind


def _within(kind: Any, limits: Allowed) -> Declared | None:
    """A declaration drawing only values inside ``limits``' bounds or lengths."""
    if isinstance(kind, Integer):
        low = int(limits.low) if limits.low is not None else min(0, int(limits.high or 0) - 1000)
        high = int(limits.high) if limits.high is not None else low + 100_000
        return _fuzzy("FuzzyInteger", str(low), str(high))
    if isinstance(kind, Numeric) and not isinstance(kind, Float):
        precision, scale = kind.precision or 10, kind.scale or 0
        largest = Decimal(10) ** (precision - scale) - 1
        low = max(limits.low if limits.low is not None else Decimal(0), -largest)
        high = min(limits.high if limits.high is not None else low + 1000, largest)
        low_int, high_int = int(low.to_integral_value(rounding="ROUND_CEILING")), int(high)
        return _faker(
            "pydecimal", left_digits=precision - scale, right_digits=scale, min_value=low_int, max_value=high_int
        )
    if isinstance(kind, Float):
        low = float(limits.low) if limits.low is not None else 0.0
        high = float(limits.high) if limits.high is not None else low + 1000
        return _faker("pyfloat", min_value=low, max_value=high, right_digits=2)
    if isinstance(kind, String):
        longest = min(x for x in (limits.max_length, kind.length, 40) if x is not None)
        shortest = min(limits.min_length or 1, longest)
        return _faker("pystr", min_chars=shortest, max_chars=longest)
    return None


_RECENT = {"start_date": "-2y", "end_date": "now"}


def _by_name(words: list[str], kind: Any) -> Declared | None:
    if isinstance(kind, Date) and not isinstance(kind, DateTime) and set(words) & _BIRTHS:
        return _faker("date_of_birth", minimum_age=18, maximum_age=90)
    if isinstance(kind, DateTime) and (set(words) & _MOMENTS or "at" in words):
        return _faker("date_time_between", **_RECENT)
    if isinstance(kind, Numeric) and not isinstance(kind, Float) and set(words) & _MONEY:
        return _decimal(kind, high=Decimal(1000))
    if isinstance(kind, Integer) and set(words) & _COUNTS:
        return _fuzzy("FuzzyInteger", "1", "10")
    if not isinstance(kind, String):
        return None
    for needed, provider, kwargs in _BY_NAME:
        if all(t in words for t in needed):
            return _faker(provider, **kwargs)
    return None


def _by_type(column: Column, kind: Any) -> Declared:
    if isinstance(kind, Enum):  # the enum's members where it has a class, else its values
        if kind.enum_class is not None:
            cls = kind.enum_class
            return _fuzzy("FuzzyChoice", f"list({cls.__name__})", names=((cls.__name__, cls),))
        return _fuzzy("FuzzyChoice", repr(list(kind.enums)))
    if isinstance(kind, Boolean):
        return _fuzzy("FuzzyChoice", "[True, False]")
    if isinstance(kind, SmallInteger):
        return _fuzzy("FuzzyInteger", "0", "1_000")
    if isinstance(kind, (BigInteger, Integer)):
        return _fuzzy("FuzzyInteger", "0", "100_000")
    if isinstance(kind, Float):
        return _faker("pyfloat", min_value=0, max_value=1000, right_digits=2)
    if isinstance(kind, Numeric):
        return _decimal(kind, high=None)
    if isinstance(kind, DateTime):
        return _faker("date_time_between", **_RECENT)
    if isinstance(kind, Date):
        return _faker("date_between", start_date="-2y", end_date="today")
    if isinstance(kind, Uuid):  # seeded while seedkit runs
        return Declared("factory.LazyFunction", ("uuid.uuid4",), ("import uuid", "import factory"))
    if isinstance(kind, JSON):
        return Declared("factory.LazyFunction", ("dict",))
    if isinstance(kind, ARRAY):
        return _array(column, underlying(kind.item_type))
    if isinstance(kind, LargeBinary):
        return _faker("binary", length=16)
    if isinstance(kind, Interval) or type(kind).__name__ == "INTERVAL":  # PostgreSQL's is not an Interval
        return _faker("time_delta", end_datetime="+30d")
    if isinstance(kind, Time):
        return _faker("time_object")
    network = _NETWORK.get(type(kind).__name__)
    if network is not None:
        return _faker(*network[:1], **network[1])
    if isinstance(kind, String):
        length = kind.length
        if length is None or length >= 40:
            return _faker("sentence", nb_words=3)
        return _sequence(column.name, length)
    raise CannotFill(column)


# PostgreSQL's network types, by name: what Faker provider holds them.
_NETWORK: dict[str, tuple[str, dict[str, Any]]] = {
    "INET": ("ipv4", {}),
    "CIDR": ("ipv4", {"network": True}),
    "MACADDR": ("mac_address", {}),
    "MACADDR8": ("mac_address", {}),
}
# Types the database fills (a tsvector a trigger maintains): left out, like a default.
DATABASE_FILLED = {"TSVECTOR"}


class CannotFill(ValueError):
    """No declaration fits this column's type."""

    def __init__(self, column: Column) -> None:
        self.column = column
        super().__init__(f"{column.table.name}.{column.name}: no declaration for {column.type!r}")


def _array(column: Column, item: Any) -> Declared:
    """Three values of the array's item type, for the item types arrays mostly hold."""
    if isinstance(item, String):
        return _faker("words", nb=3)
    if isinstance(item, Integer):
        return _faker("pylist", nb_elements=3, variable_nb_elements=True, value_types=["int"])
    raise CannotFill(column)


def _fitting(declaration: Declared, kind: Any, name: str) -> Declared:
    """A Faker string declaration, or a numbered value where its output could overflow the column."""
    length = getattr(kind, "length", None)
    if declaration.call == "factory.Faker" and length is not None and length < 40:
        return _sequence(name, length)
    return declaration


def _sequence(name: str, length: int) -> Declared:
    prefix = name[: max(0, length - 8)]
    return Declared("factory.Sequence", (f'lambda n: f"{prefix}{{n}}"[-{length}:]',))


def _decimal(kind: Numeric, high: Decimal | None) -> Declared:
    precision, scale = kind.precision or 10, kind.scale or 0
    largest = Decimal(10) ** (precision - scale) - 1
    high = min(high, largest) if high is not None else min(Decimal(100_000), largest)
    return _faker("pydecimal", left_digits=precision - scale, right_digits=scale, min_value=0, max_value=int(high))


def inferred_columns(model: type) -> dict[str, Declared]:
    """The declaration of each column a factory for ``model`` should fill: keys seedkit numbers,
    foreign keys, defaults and generated columns are left out."""
    info = table_info(model)
    linked = {attr for link in info.links.values() for attr in link.local}
    # Declarations found on the server (values a CHECK of another shape lets through).
    evaluated: dict[str, Declared] = getattr(model, "__seedkit_declared__", {})
    declarations = {}
    for attr, column in zip(info.attrs, info.columns, strict=True):
        if attr == info.pk or attr in linked:
            continue
        if isinstance(column.type, Integer) and column.primary_key and _referenced(column):
            # A key children point at that seedkit does not number (part of a composite key):
            # numbered here, so that the children know it, not left to the database's default.
            declarations[attr] = Declared("factory.Sequence", ("lambda n: n + 1",))
            continue
        if attr in info.defaults or column.server_default is not None:
            continue
        if column.computed is not None or column.identity is not None:
            continue
        if type(column.type).__name__ in DATABASE_FILLED:
            continue
        if attr in evaluated:
            declarations[attr] = evaluated[attr]
            continue
        try:
            declarations[attr] = declaration_for(column)
        except CannotFill:
            if column.nullable:
                continue  # left NULL
            raise RecipeError(
                f"Cannot infer {column.table.name}.{column.name} ({column.type!r}, NOT NULL): pass a declaration for "
                f"it, e.g. recipe.add({model.__name__}, ..., {attr}=factory.LazyFunction(...))."
            ) from None
    return declarations


def _referenced(column: Column) -> bool:
    """Whether a foreign key of any table in ``column``'s metadata points at it."""
    tables = column.table.metadata.tables.values() if isinstance(column.table, Table) else []
    return any(e.column is column for t in tables for fk in t.foreign_key_constraints for e in fk.elements)


def inferred_factory(model: type) -> type[SQLAlchemyModelFactory]:
    """A factory-boy factory for ``model`` with a declaration per column it should fill."""
    declarations = {attr: declared.build() for attr, declared in inferred_columns(model).items()}
    meta = type("Meta", (), {"model": model})
    return type(f"{model.__name__}Factory", (SQLAlchemyModelFactory,), {"Meta": meta, **declarations})
