"""Typed study settings: one frozen dataclass per study, checked when they are parsed.

A study's ``Settings`` dataclass holds the full profile's values as defaults; the ``quick`` and
``smoke`` profiles override some of them. Every value is checked against the field's type when
the settings are made (from a profile, a CLI flag or a test), so a mistyped name or value fails
at once with a message that names the study and the setting, never later inside a worker.
Sequences are tuples (the dataclass is frozen and hashable); a field may list its allowed values
with :func:`choice`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

BOOLEAN_WORDS = {"1": True, "true": True, "yes": True, "on": True,
                 "0": False, "false": False, "no": False, "off": False}


class SettingError(ValueError):
    """A setting that does not exist, or a value of the wrong type or outside its choices."""


def choice(default: Any, options: tuple[Any, ...]) -> Any:
    """A dataclass field whose value (or, for a tuple field, each element) must be in ``options``."""
    return dataclasses.field(default=default, metadata={"choices": tuple(options)})


def hints(cls: type) -> dict[str, Any]:
    """The resolved type of every field of the settings dataclass ``cls``."""
    resolved = typing.get_type_hints(cls)
    return {f.name: resolved[f.name] for f in dataclasses.fields(cls)}


def _element_type(hint: Any) -> Any | None:
    """``int`` for ``tuple[int, ...]``; None when ``hint`` is not a variable-length tuple."""
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
    return None


def _optional_inner(hint: Any) -> Any | None:
    """``X`` for ``X | None``; None otherwise."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return args[0]
    return None


def describe(hint: Any) -> str:
    """A short human name for a settings type: ``int``, ``comma-separated floats``…"""
    element = _element_type(hint)
    if element is not None:
        return f"comma-separated {element.__name__} values"
    inner = _optional_inner(hint)
    if inner is not None:
        return f"{describe(inner)} or none"
    return getattr(hint, "__name__", str(hint))


def _scalar(value: Any, kind: type) -> Any:
    """``value`` as ``kind`` when it already is one (an int is a float too); else ValueError."""
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(value, kind):
        return value
    raise ValueError(f"expected {kind.__name__}, got {value!r}")


def coerce(value: Any, hint: Any) -> Any:
    """``value`` checked against ``hint`` (lists become tuples); ValueError when it does not fit."""
    inner = _optional_inner(hint)
    if inner is not None:
        return None if value is None else coerce(value, inner)
    element = _element_type(hint)
    if element is not None:
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ValueError(f"expected a list of {element.__name__}, got {value!r}")
        return tuple(_scalar(v, element) for v in value)
    return _scalar(value, hint)


def parse_text(text: str, hint: Any) -> Any:
    """A command-line value for a field of type ``hint``: ``"1,2,3"`` for ``tuple[int, ...]``,
    ``yes``/``no`` for ``bool``, ``none`` for an optional field. ValueError when it does not parse."""
    inner = _optional_inner(hint)
    if inner is not None:
        return None if text.strip().lower() == "none" else parse_text(text, inner)
    element = _element_type(hint)
    if element is not None:
        return tuple(parse_text(part.strip(), element) for part in text.split(",") if part.strip())
    if hint is bool:
        word = text.strip().lower()
        if word not in BOOLEAN_WORDS:
            raise ValueError(f"expected yes/no (or true/false, 1/0), got {text!r}")
        return BOOLEAN_WORDS[word]
    if hint is int:
        return int(text)
    if hint is float:
        return float(text)
    return hint(text)


def make(cls: type, study: str, values: dict[str, Any]) -> Any:
    """An instance of the settings dataclass ``cls`` with ``values`` over its defaults, each value
    checked against its field's type and choices. Raises SettingError naming ``study``."""
    types_ = hints(cls)
    unknown = sorted(set(values) - set(types_))
    if unknown:
        raise SettingError(f"{study}: unknown setting(s) {', '.join(map(repr, unknown))}; "
                           f"known: {', '.join(sorted(types_))}")
    checked = {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name, value in values.items():
        try:
            checked[name] = coerce(value, types_[name])
        except ValueError as err:
            raise SettingError(f"{study}: setting {name!r} must be {describe(types_[name])}: {err}") \
                from None
    try:
        settings = cls(**checked)  # the dataclass's own __post_init__ checks run here
    except ValueError as err:
        raise SettingError(f"{study}: {err}") from None
    for name, field in fields.items():
        value = getattr(settings, name)
        if name not in checked:  # a default: checked too, so a study's own typo shows at once
            try:
                coerce(value, types_[name])
            except ValueError as err:
                raise SettingError(f"{study}: the default of {name!r} is not {describe(types_[name])}: "
                                   f"{err}") from None
        options = field.metadata.get("choices")
        values_ = value if isinstance(value, tuple) else (value,)
        bad = [v for v in values_ if options is not None and v not in options]
        if bad:
            raise SettingError(f"{study}: setting {name!r} has {', '.join(map(repr, bad))}; "
                               f"choose from {', '.join(map(str, options))}")
    return settings


def as_dict(settings: Any) -> dict[str, Any]:
    """The settings as a plain dict (tuples stay tuples; JSON writes them as lists)."""
    return {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
