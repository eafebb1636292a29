"""How a flat field's value is read from text and echoed back in a message: the one error
type of a bad setting, and the strict readers behind `RunConfig.from_flat` (links, flags
and CSVs all come in as text)."""

from __future__ import annotations

import math
import numbers
import re
from typing import Any


class ConfigError(ValueError):
    """An invalid setting: `field` is the flat field name, `message` says what is allowed."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


_INT = re.compile(r"-?[0-9]{1,30}")  # plain decimal: ASCII digits, an optional minus sign
_FLOAT = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]{1,4})?")
ECHO_CHARS = 40  # an echoed bad value is cut to this many characters


def cut(text: str) -> str:
    """Text cut to a readable length, saying how long it was."""
    return text if len(text) <= ECHO_CHARS else f"{text[:ECHO_CHARS]}… ({len(text)} characters)"


def echo(value: Any) -> str:
    """repr(value), cut to a readable length (a 100,000-digit seed is not echoed whole)."""
    try:
        return cut(repr(value))
    except ValueError:  # an int too long to print (Python's digit limit)
        return f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"


def coerce(name: str, value: Any, kind: type) -> Any:
    """Field values: ints as ints or plain decimal text, floats as finite numbers or decimal
    text, choices as text. Nothing lenient: no 16.0, 1_6, Arabic-Indic digits, nan or inf."""
    if kind is int:
        return _int(name, value)
    if kind is float:
        return _float(name, value)
    if isinstance(value, str):
        return value
    raise ConfigError(name, f"expected text, got {echo(value)}")


def _int(name: str, value: Any) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value.strip())
    raise ConfigError(name, f"expected a plain decimal integer (digits 0-9, e.g. 16), "
                            f"got {echo(value)}")


def _float(name: str, value: Any) -> float:
    number = None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
        number = float(value.strip())
    if number is None or not math.isfinite(number):
        raise ConfigError(name, f"expected a finite decimal number (e.g. 0.01), "
                                f"got {echo(value)}")
    return number
