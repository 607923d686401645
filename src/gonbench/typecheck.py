"""Type-checking of configuration values against dataclass type hints, and ``key=value`` overrides.

Profiles are YAML and overrides come from the command line, so every value is checked against the field it
sets before any run starts: a wrong type fails with one line naming the key, the value and what it expects.
"""
from __future__ import annotations

import ast
import math
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from .errors import ConfigError


@dataclass(frozen=True)
class Range:
    """Bounds of a number, attached to a type with ``Annotated[int, Range(1)]``; NaN and inf are refused."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False  # low itself is not allowed (a learning rate > 0)

    def check(self, key: str, value: float) -> None:
        below = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        above = self.high is not None and value > self.high
        if not math.isfinite(value) or below or above:
            raise ConfigError(f"{key}={value!r} is out of range; valid: {self}")

    def __str__(self) -> str:
        low = "" if self.low is None else f"{self.low:g} {'<' if self.low_open else '<='} "
        high = "" if self.high is None else f" <= {self.high:g}"
        return f"{low}{'value'}{high}" if (low or high) else "a finite number"


PositiveInt = Annotated[int, Range(1)]
NonNegativeInt = Annotated[int, Range(0)]
PositiveFloat = Annotated[float, Range(0, low_open=True)]
NonNegativeFloat = Annotated[float, Range(0)]
Probability = Annotated[float, Range(0, 1)]


def type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def check_type(key: str, value: Any, hint: Any) -> Any:
    """Return ``value`` (ints widened to float where a float is expected) or raise ConfigError."""
    origin = typing.get_origin(hint)
    if origin is Annotated:
        base, *extras = typing.get_args(hint)
        value = check_type(key, value, base)
        for extra in extras:
            if isinstance(extra, Range) and isinstance(value, (int, float)):
                extra.check(key, value)
        return value
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in typing.get_args(hint):
            try:
                return check_type(key, value, option)
            except ConfigError as exc:
                errors.append(exc)
        out_of_range = [e for e in errors if "out of range" in str(e)]  # the right type, a bad value
        if out_of_range:
            raise out_of_range[0]
        raise ConfigError(f"{key}={value!r} has the wrong type; expected {describe(hint)}")
    if origin is Literal:
        if value in typing.get_args(hint):
            return value
        raise ConfigError(f"{key}={value!r} is not allowed; valid choices: {', '.join(map(str, typing.get_args(hint)))}")
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}={value!r} has the wrong type; expected a list")
        (item,) = typing.get_args(hint) or (Any,)
        return [check_type(key, v, item) for v in value]
    if hint is Any:
        return value
    if hint is type(None):
        if value is None:
            return None
        raise ConfigError(f"{key}={value!r} is not None")
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, bool):
        raise ConfigError(f"{key}={value!r} has the wrong type; expected int")
    if isinstance(hint, type) and not isinstance(value, hint):
        raise ConfigError(f"{key}={value!r} has the wrong type; expected {describe(hint)}")
    return value


def describe(hint: Any) -> str:
    """``int | None`` -> "int or None" (what a user reads in an error message)."""
    origin = typing.get_origin(hint)
    if origin is Annotated:
        base, *extras = typing.get_args(hint)
        ranges = [str(e) for e in extras if isinstance(e, Range)]
        return describe(base) + (f" ({', '.join(ranges)})" if ranges else "")
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(h) for h in typing.get_args(hint))
    if origin is list:
        return f"a list of {describe((typing.get_args(hint) or (Any,))[0])}"
    if hint is type(None):
        return "None"
    return getattr(hint, "__name__", str(hint))


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` with the value read as a Python literal (a bare word stays a string)."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} is not of the form key=value")
    key, raw = text.split("=", 1)
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    return key.strip(), value
