"""What every command shares: argument errors, output paths checked before any work, the
progress bar, the config flags and the list flags."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from explorer.core.config import RENAMED, RunConfig, echo, flat_field_types, validate

MAX_WORKERS = 64


class ArgError(ValueError):
    """A bad command-line argument; the message starts with the flag."""


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def output_path(text: str | None, name: str) -> Path | None:
    """The path a flag names for output, checked before any work: not empty, not a folder,
    in an existing folder, and writable (tried: opened for appending, and removed again
    when it did not exist). Raises ArgError naming the flag."""
    if text is None:
        return None
    if not text.strip():
        raise ArgError(f"{name}: the path is empty")
    path = Path(text)
    if path.is_dir():
        raise ArgError(f"{name}: {echo(text)} is a folder; give a file path")
    if not path.parent.is_dir():
        raise ArgError(f"{name}: the folder {echo(str(path.parent))} does not exist")
    existed = path.exists()
    try:
        with open(path, "a"):
            pass
    except OSError as err:
        raise ArgError(f"{name}: cannot write {echo(text)} ({err.strerror})") from None
    if not existed:
        path.unlink()
    return path


def check_workers(workers: int, name: str = "--workers") -> None:
    if not 1 <= workers <= MAX_WORKERS:
        raise ArgError(f"{name}: must be between 1 and {MAX_WORKERS} (got {workers})")


class ProgressBar:
    """A one-line text progress bar on stderr."""

    def __init__(self, enabled: bool = True, width: int = 30):
        self.enabled, self.width, self.start = enabled, width, time.perf_counter()

    def __call__(self, frac: float, message: str) -> None:
        if not self.enabled:
            return
        filled = int(round(frac * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.perf_counter() - self.start
        sys.stderr.write(f"\r[{bar}] {frac:4.0%} {elapsed:5.1f}s {message:<32}")
        if frac >= 1.0:
            sys.stderr.write("\n")
        sys.stderr.flush()


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    defaults, old = RunConfig().to_flat(), {new: old for old, new in RENAMED.items()}
    group = parser.add_argument_group("config (defaults in brackets)")
    for name in flat_field_types():
        aliases = [flag(old[name])] if name in old else []  # older names still work
        group.add_argument(flag(name), *aliases, dest=name, metavar="V", default=None,
                           help=f"[{defaults[name]}]")


def fill_defaults(args: argparse.Namespace, defaults: dict) -> None:
    """Set the flags not given on the command line (None) to a command's own defaults."""
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def config_from_args(args: argparse.Namespace) -> RunConfig:
    given = {k: v for k, v in vars(args).items() if k in flat_field_types() and v is not None}
    return validate(RunConfig.from_flat(given))


def parse_list(text: str | None, name: str, cast, allowed=None) -> tuple | None:
    """'relu,sigmoid' -> ('relu', 'sigmoid'); raises ValueError naming the flag."""
    if text is None:
        return None
    try:
        values = tuple(cast(v.strip()) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"--{name}: expected a comma-separated list (got {text!r})") from None
    bad = [v for v in values if (allowed and v not in allowed) or (cast is int and v < 0)]
    if not values or bad:
        what = f"one or more of {', '.join(allowed)}" if allowed else "non-negative integers"
        raise ValueError(f"--{name}: must be {what} (got {text!r})")
    return values


def write_json(path: str, report: dict, **kwargs) -> None:
    """A command's report as indented JSON with sorted keys."""
    Path(path).write_text(json.dumps(report, indent=2, sort_keys=True, **kwargs))
