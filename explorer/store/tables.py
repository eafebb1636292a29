"""Long-form CSV tables that grow by appends (sweeps, the study) and survive interruption.

* An append is one `write` of whole lines to a file opened for appending, then fsync; a
  write that fails part-way (a full disk) is cut back to the old length at once.
* A write that was killed part-way leaves a last line without its newline (or, after a
  crash, garbage): `repair` drops such a last line before anything reads or appends, and a
  header that was cut leaves no complete line, so the file is started again.
* The header never loses a column: the writer declares the columns it will ever need (a
  sweep's come from its grid, not its first rows), and a row that brings a new column
  anyway widens the file by an atomic rewrite (temporary file, fsync, rename).

Only empty cells are missing values (`read_table`): a cell holding "null" is a name.

Reading the shipped tables needs pandas only (no torch): `load` gives results.csv and
every study part present, for the Findings page and `python -m explorer findings`.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Iterable

import pandas as pd

from explorer.store.paths import RESULTS, STUDY, TABLES


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")[:-1]  # complete lines only


def _fields(line: bytes) -> list[str] | None:
    """A line's CSV fields, or None when it is not one well-formed UTF-8 CSV line."""
    try:
        text = line.decode("utf-8")
        if "\x00" in text:
            return None
        rows = list(csv.reader([text]))
    except (UnicodeDecodeError, csv.Error):
        return None
    return rows[0] if len(rows) == 1 else None


def repair(path: str | Path) -> int:
    """Drop a torn last line (or a torn header: the file is emptied). Returns the number of
    bytes dropped (0 for a sound file or none at all)."""
    path = Path(path)
    if not path.exists():
        return 0
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1  # everything after the last newline is a partial line
    lines = _lines(data[:keep])
    header = _fields(lines[0]) if lines else None
    if header is None:
        keep = 0
    elif len(lines) > 1 and (_fields(lines[-1]) is None or len(_fields(lines[-1])) != len(header)):
        keep -= len(lines[-1]) + 1  # a complete-looking last line that is not a row
    if keep < len(data):
        with open(path, "r+b") as f:
            f.truncate(keep)
            os.fsync(f.fileno())
    return len(data) - keep


def header(path: str | Path) -> list[str]:
    """The file's columns ([] for a missing or empty file). Call after `repair`."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return next(csv.reader(f), [])


def read_table(path: str | Path) -> pd.DataFrame:
    """The table, torn last line dropped; an empty frame when there is none."""
    path = Path(path)
    repair(path)
    if not header(path):
        return pd.DataFrame()
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def keys(path: str | Path, column: str = "key") -> set[str]:
    """The values of one column (the recorded points of a sweep)."""
    path = Path(path)
    repair(path)
    if column not in header(path):
        return set()
    return set(pd.read_csv(path, usecols=[column], dtype=str).iloc[:, 0])


def write_table(path: str | Path, frame: pd.DataFrame) -> None:
    """Replace the file atomically: readers see the old table or the new one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            frame.to_csv(f, index=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _append_bytes(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        start = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except BaseException:
            os.ftruncate(fd, start)  # no partial line left behind
            raise
    finally:
        os.close(fd)


def append_rows(path: str | Path, rows: list[dict], *, columns: Iterable[str] = ()) -> None:
    """Append rows. The header is the file's, widened by `columns` and by any column a row
    brings (an atomic rewrite when the file has rows already); cells a row lacks stay empty."""
    path = Path(path)
    repair(path)
    have = header(path)
    wanted = list(dict.fromkeys([*have, *columns, *(k for row in rows for k in row)]))
    frame = pd.DataFrame(rows).reindex(columns=wanted)
    if have and wanted != have:  # as text: every earlier row reads as it did (no 4 -> 4.0)
        old = pd.read_csv(path, dtype=str, keep_default_na=False)
        new = pd.read_csv(io.StringIO(frame.to_csv(index=False)), dtype=str,
                          keep_default_na=False)
        write_table(path, pd.concat([old.reindex(columns=wanted, fill_value=""), new],
                                    ignore_index=True))
        return
    buffer = io.StringIO()
    frame.to_csv(buffer, header=not have, index=False)
    _append_bytes(path, buffer.getvalue().encode("utf-8"))


PARTS = ("probes", "search", "oracles", "angles", "range", "illusion", "maps", "basin")
DERIVED = ("seed_angles",)  # computed from the parts after the per-model units
BUDGET = "budget"  # search success against budget (explorer.study.budget)


def read_part(path: Path) -> pd.DataFrame:
    """A part CSV (`read_table`: empty when absent; only empty cells are missing, so the
    illusion part's 'null' is a name)."""
    return read_table(path)


def load_study(folder: str | Path = STUDY) -> dict[str, pd.DataFrame]:
    """Every part CSV present in the folder (with some rows), by part name."""
    folder = Path(folder)
    paths = {p: folder / f"{p}.csv" for p in (*PARTS, *DERIVED, BUDGET)}
    return {p: read_part(path) for p, path in paths.items()
            if path.exists() and path.stat().st_size > 1}


def load(results_path: str | Path = RESULTS, study_dir: str | Path = STUDY,
         shipped: dict[str, Path] = TABLES) -> dict[str, pd.DataFrame]:
    """Whatever exists: 'results', every study part, and the other shipped tables
    (`paths.TABLES`: the complexity sweep, the planted grid)."""
    data = load_study(study_dir) if Path(study_dir).exists() else {}
    if Path(results_path).exists():
        data["results"] = pd.read_csv(results_path)
    for part, path in shipped.items():
        if Path(path).exists() and Path(path).stat().st_size > 1:
            data[part] = read_table(path)
    return data
