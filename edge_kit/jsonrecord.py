"""A dataclass stored as one JSON object: typed fields, the exact keys of the file kept on a round trip.

Manifests (edge_kit.manifest.Manifest) and bench records (edge_kit.bench.record.BenchRecord) are written
to disk and read back by every later run, including records committed years of runs ago. So:

* every declared field is an attribute (`rec.status`, not `rec.get("status")`); a key the file lacks reads
  as None, never as a KeyError;
* keys the class does not declare (format-specific additions, a newer writer's field) are kept in `extra`
  and written back unchanged;
* a field is written when it is not None, or when it is one of the keys the class always writes
  (`ALWAYS`, e.g. a bench record's `"measurement": null` of a failed cell), or when the loaded file had it
  as null. `to_dict(from_dict(d)) == d` for every committed file (tests/test_records.py).

Code written before the types existed reads and updates them like the dicts they were (`m["status"]`,
`m.get("parity", {})`, `m["parity"] = ...`); new code uses the attributes.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Iterator


_NAMES: dict[type, tuple[str, ...]] = {}


@dataclass(eq=False)   # subclasses too: equal = writes the same JSON (also compares with a plain dict)
class JsonRecord:
    # keys this file or builder writes even when their value is None (None: the class's ALWAYS)
    nulls: frozenset | None = field(default=None, kw_only=True, repr=False, compare=False)
    extra: dict = field(default_factory=dict, kw_only=True, repr=False)
    # the key order of the file it was loaded from, kept when written back or printed (`inspect --json`)
    _order: tuple = field(default=(), init=False, repr=False, compare=False)

    ALWAYS: ClassVar[frozenset] = frozenset()

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The declared keys, in declaration order."""
        found = _NAMES.get(cls)
        if found is None:
            found = _NAMES[cls] = tuple(f.name for f in fields(cls) if f.name not in ("nulls", "extra", "_order"))
        return found

    @classmethod
    def from_dict(cls, d: dict):
        names = set(cls.names())
        if not isinstance(d, dict):
            raise TypeError(f"{cls.__name__}: a JSON object was expected, got {type(d).__name__}")
        rec = cls(**{k: v for k, v in d.items() if k in names},
                  extra={k: v for k, v in d.items() if k not in names},
                  nulls=frozenset(k for k, v in d.items() if v is None and k in names))
        rec._order = tuple(d)
        return rec

    @classmethod
    def of(cls, value):
        """`value` itself if it is already typed, else parsed from its dict (for callers that still pass dicts)."""
        return value if isinstance(value, cls) else cls.from_dict(value)

    def _written(self, name: str) -> bool:
        return getattr(self, name) is not None or name in (self.ALWAYS if self.nulls is None else self.nulls)

    def to_dict(self) -> dict:
        out = {n: getattr(self, n) for n in self.names() if self._written(n)}
        out.update(self.extra)
        if self._order:  # the loaded file's order first, keys added since after it
            ordered = {k: out[k] for k in self._order if k in out}
            ordered.update(out)
            return ordered
        return out

    def __eq__(self, other: object) -> bool:
        if isinstance(other, JsonRecord):
            return type(self) is type(other) and self.to_dict() == other.to_dict()
        if isinstance(other, dict):
            return self.to_dict() == other
        return NotImplemented

    __hash__ = None  # mutable, like the dict it replaces

    # -- the dict protocol, for code that predates the types ----------------------------------------
    def __getitem__(self, key: str) -> Any:
        if key in self.names():
            if self._written(key):
                return getattr(self, key)
        elif key in self.extra:
            return self.extra[key]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __setitem__(self, key: str, value: Any) -> None:
        if key in self.names():
            setattr(self, key, value)
            if value is None:  # an explicit null is written, as the dict it replaces would have
                self.nulls = (self.ALWAYS if self.nulls is None else self.nulls) | {key}
        else:
            self.extra[key] = value

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        if key in self.names():
            setattr(self, key, None)
            self.nulls = (self.ALWAYS if self.nulls is None else self.nulls) - {key}
        else:
            del self.extra[key]

    def pop(self, key: str, *default: Any) -> Any:
        if key not in self:
            if default:
                return default[0]
            raise KeyError(key)
        value = self[key]
        del self[key]
        return value

    def __contains__(self, key: object) -> bool:
        return key in self.keys()

    def keys(self) -> list[str]:
        return list(self.to_dict())

    def items(self):
        return self.to_dict().items()

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def update(self, other=(), **kw) -> None:
        for k, v in dict(other, **kw).items():
            self[k] = v

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]
