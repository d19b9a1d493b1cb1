"""The build cache's file format: data only. Reading a hostile file can fail, never run code.

Values are turned into a tree of plain types (None, bool, int, float, str, bytes, tuple,
list, dict, set, frozenset) and written with `marshal`, which holds exactly those (and
keeps a tuple a tuple). The few richer types the memos hold are written as tagged
tuples, `(..., NAME, *parts)` (Ellipsis first: no value from a site can be one), and read
back only when NAME is in the whitelist below:

- records: the frozen dataclasses in RECORDS, field by field (no __init__ is called;
  their fields are checked like everything else);
- a str subclass (markupsafe's Markup) as its plain text;
- datetime, date (with their time zone: UTC, a fixed offset or an IANA zone name), Path,
  read-only mappings (Post.params), Counter and StrEnum members (Kind).

Anything else in a file (a code object, which marshal could hold, or an unknown tag) makes
`decode` raise ValueError: the cache file is ignored with a warning.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import marshal
from collections import Counter
from enum import Enum
from pathlib import Path, PurePath
from types import MappingProxyType
from zoneinfo import ZoneInfo

TAG = ...  # first element of a tagged tuple
MARSHAL_VERSION = 4

# Every record type a cache may hold: name -> "module:class". Nothing else is ever built.
RECORDS = {
    "Post": "quire.model:Post",
    "StoreLink": "quire.model:StoreLink",
    "Product": "quire.model:Product",
    "RenderedBody": "quire.model:RenderedBody",
    "Link": "quire.model:Link",
    "Feed": "quire.model:Feed",
    "Shortcode": "quire.model:Shortcode",
    "BodyOutcome": "quire.render.bodies:BodyOutcome",
    "Problem": "quire.problems:Problem",
    "SourceInfo": "quire.images.encode:SourceInfo",
}
ENUMS = {"Kind": "quire.model:Kind"}

_classes: dict[str, type] = {}  # name -> class, imported on first use
_names: dict[type, str] = {}  # class -> name
_fields: dict[type, tuple[str, ...]] = {}


def _load(table: dict[str, str], name: str) -> type:
    cls = _classes.get(name)
    if cls is None:
        if name not in table:
            raise ValueError(f"not a cache type: {name!r}")
        module, _, attr = table[name].partition(":")
        cls = getattr(importlib.import_module(module), attr)
        _classes[name] = cls
        _names[cls] = name
    return cls


def _name_of(cls: type) -> str:
    name = _names.get(cls)
    if name is None:
        where = f"{cls.__module__}:{cls.__qualname__}"
        for table in (RECORDS, ENUMS):
            for key, value in table.items():
                if value == where:
                    _load(table, key)
                    return key
        raise TypeError(f"{where} cannot be stored in the build cache (not in codec.RECORDS)")
    return name


def _field_names(cls: type) -> tuple[str, ...]:
    names = _fields.get(cls)
    if names is None:
        names = _fields[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


# ---------------------------------------------------------------- encode


def dumps(value: object) -> bytes:
    return marshal.dumps(encode(value), MARSHAL_VERSION)


def encode(value: object) -> object:
    kind = type(value)
    if kind in _PLAIN:
        return value
    container = _CONTAINERS.get(kind)
    if container is not None:
        return container(value)
    special = _SPECIAL.get(kind)
    if special is not None:
        return special(value)
    return _encode_record(kind, value)


def _item(v: object) -> object:
    return v if type(v) in _PLAIN else encode(v)


_CONTAINERS = {
    tuple: lambda value: tuple([_item(v) for v in value]),
    list: lambda value: [_item(v) for v in value],
    dict: lambda value: {_item(k): _item(v) for k, v in value.items()},
    set: lambda value: {encode(v) for v in value},
    frozenset: lambda value: frozenset(encode(v) for v in value),
}


def _encode_record(kind: type, value: object) -> object:
    """A dataclass, an enum member or a path, as a tagged tuple decode() rebuilds."""
    if dataclasses.is_dataclass(value):
        parts = [getattr(value, f) for f in _field_names(kind)]
        return (TAG, _name_of(kind), *[_item(v) for v in parts])
    if isinstance(value, Enum):
        return (TAG, "enum", _name_of(kind), value.value)
    if isinstance(value, PurePath):
        return (TAG, "path", str(value))
    if isinstance(value, str):  # markupsafe's Markup (a rewritten body): kept as its text
        return str(value)
    raise TypeError(f"{kind.__module__}.{kind.__qualname__} cannot be stored in the build cache")


def _tz(tz: dt.tzinfo | None) -> object:
    if tz is None:
        return None
    if tz is dt.UTC:
        return "UTC"
    if isinstance(tz, ZoneInfo):
        return ("zone", tz.key)
    if isinstance(tz, dt.timezone):
        offset = tz.utcoffset(None)
        return ("offset", offset.days, offset.seconds, offset.microseconds, tz.tzname(None))
    raise TypeError(f"time zone {tz!r} cannot be stored in the build cache")


def _datetime(v: dt.datetime) -> tuple:
    parts = (v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)
    return (TAG, "datetime", parts, _tz(v.tzinfo), v.fold)


_PLAIN = {str, bytes, int, float, bool, type(None)}
_SPECIAL = {
    dt.datetime: _datetime,
    dt.date: lambda v: (TAG, "date", v.year, v.month, v.day),
    MappingProxyType: lambda v: (TAG, "mappingproxy", encode(dict(v))),
    Counter: lambda v: (TAG, "counter", encode(dict(v))),
}


# ---------------------------------------------------------------- decode


def loads(data: bytes | memoryview) -> object:
    """The value in `data`; ValueError when it holds anything outside the whitelist."""
    try:
        tree = marshal.loads(data)
    except (EOFError, TypeError) as err:
        raise ValueError(f"not a cache file: {err}") from None
    return decode(tree)


def decode(tree: object) -> object:
    kind = type(tree)
    if kind in _PLAIN:
        return tree
    # leaves are checked inline: a call per string or int would double the cost
    if kind is tuple:
        if tree and tree[0] is TAG:
            return _tagged(tree)
        return tuple([v if type(v) in _PLAIN else decode(v) for v in tree])
    if kind is list:
        return [v if type(v) in _PLAIN else decode(v) for v in tree]
    if kind is dict:
        return {
            (k if type(k) in _PLAIN else decode(k)): (v if type(v) in _PLAIN else decode(v))
            for k, v in tree.items()
        }
    if kind in (set, frozenset):
        return kind(decode(v) for v in tree)
    raise ValueError(f"not a cache type: {kind.__name__}")  # a code object, Ellipsis...


def _tagged(tree: tuple) -> object:
    if len(tree) < 2 or type(tree[1]) is not str:
        raise ValueError("bad tag")
    name = tree[1]
    reader = _READERS.get(name)
    if reader is not None:
        try:
            return reader(*tree[2:])
        except (TypeError, ValueError, KeyError, OverflowError) as err:
            raise ValueError(f"bad {name}: {err}") from None
    cls = _load(RECORDS, name)
    names = _field_names(cls)
    if len(tree) != len(names) + 2:
        raise ValueError(f"bad {name}: {len(tree) - 2} fields, not {len(names)}")
    record = object.__new__(cls)
    setattr_ = object.__setattr__
    for field_name, part in zip(names, tree[2:], strict=True):
        setattr_(record, field_name, part if type(part) in _PLAIN else decode(part))
    return record


def _read_tz(tree: object) -> dt.tzinfo | None:
    if tree is None:
        return None
    if tree == "UTC":
        return dt.UTC
    if type(tree) is tuple and tree[:1] == ("zone",) and type(tree[1]) is str:
        return ZoneInfo(tree[1])
    if type(tree) is tuple and tree[:1] == ("offset",):
        _, days, seconds, micros, name = tree
        offset = dt.timedelta(days=days, seconds=seconds, microseconds=micros)
        return dt.timezone(offset, name)
    raise ValueError("bad time zone")


def _read_datetime(parts: tuple, tz: object, fold: int) -> dt.datetime:
    if type(parts) is not tuple or not all(type(p) is int for p in parts):
        raise ValueError("bad datetime")
    return dt.datetime(*parts, tzinfo=_read_tz(tz), fold=fold)


def _read_enum(name: str, value: object) -> Enum:
    return _load(ENUMS, name)(value)


def _read_path(text: str) -> Path:
    if type(text) is not str:
        raise ValueError("bad path")
    return Path(text)


def _read_mapping(tree: object) -> MappingProxyType:
    if type(tree) is not dict:
        raise ValueError("bad mapping")
    return MappingProxyType(decode(tree))


def _read_counter(tree: object) -> Counter:
    if type(tree) is not dict:
        raise ValueError("bad counter")
    return Counter(decode(tree))


def _read_date(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, day)


_READERS = {
    "datetime": _read_datetime,
    "date": _read_date,
    "enum": _read_enum,
    "path": _read_path,
    "mappingproxy": _read_mapping,
    "counter": _read_counter,
}
