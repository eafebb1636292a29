"""The study's CSVs (pretrained/study/) and results.csv, read with pandas only: the
Findings page and `python -m explorer findings` load them without importing torch.

    PARTS        the per-model parts `python -m explorer study` writes
    load(...)    'results' and every study part present (missing ones are absent)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from explorer.store.paths import RESULTS, STUDY

PARTS = ("probes", "search", "oracles", "angles", "range", "illusion", "maps", "basin")
DERIVED = ("seed_angles",)  # computed from the parts after the per-model units
BUDGET = "budget"  # search success against budget (explorer.study.budget)


def read_part(path: Path) -> pd.DataFrame:
    """A part CSV; only empty cells are missing (the illusion part 'null' is a name)."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def load_study(folder: str | Path = STUDY) -> dict[str, pd.DataFrame]:
    """Every part CSV present in the folder (with some rows), by part name."""
    folder = Path(folder)
    paths = {p: folder / f"{p}.csv" for p in (*PARTS, *DERIVED, BUDGET)}
    return {p: read_part(path) for p, path in paths.items()
            if path.exists() and path.stat().st_size > 1}


def load(results_path: str | Path = RESULTS,
         study_dir: str | Path = STUDY) -> dict[str, pd.DataFrame]:
    """Whatever exists: 'results' and every study part."""
    data = load_study(study_dir) if Path(study_dir).exists() else {}
    if Path(results_path).exists():
        data["results"] = pd.read_csv(results_path)
    return data
