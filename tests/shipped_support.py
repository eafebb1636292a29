"""The default configuration as the shipped pretrained/results.csv holds it (imported by the
shipped-data tests, not a conftest).

pretrained/ is regenerated (`python -m explorer pretrain`) after a change of defaults lands.
Until then its rows are those of the previous defaults, and the lookup tests run on that
configuration (`BASE`) instead of skipping; once regenerated, BASE is `RunConfig()`.
"""

from pathlib import Path

import pandas as pd

from explorer.core.config import RunConfig
from explorer.core.identity import ADDED

FOLDER = Path(__file__).resolve().parents[1] / "pretrained"
PREVIOUS_DEFAULTS = {"das_init": "random", "das_steps": 600}  # before issue 9 (DAS budget)


def oracle_rows(table: pd.DataFrame, cfg: RunConfig, ignore: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows whose every config column equals cfg's (plain pandas). A field added after the
    table was written has no column, or an empty cell in rows from before it, and matches
    at its default (core.identity.ADDED)."""
    keep, defaults = pd.Series(True, index=table.index), RunConfig().to_flat()
    for name, value in cfg.to_flat().items():
        if name in ignore or (name not in table and name in ADDED and value == defaults[name]):
            continue
        empty = table[name].isna() if name in ADDED and value == defaults[name] else False
        keep &= (table[name] == value) | empty
    return table[keep]


def shipped_default() -> RunConfig:
    """RunConfig() if the shipped table has its rows, else the previous defaults' config."""
    path = FOLDER / "results.csv"
    if not path.exists():
        return RunConfig()
    table = pd.read_csv(path)
    if len(oracle_rows(table, RunConfig())):
        return RunConfig()
    return RunConfig().with_values(**PREVIOUS_DEFAULTS)


BASE = shipped_default()
BASE_PARAMS = {k: str(v) for k, v in BASE.to_flat().items() if v != RunConfig().to_flat()[k]}


def shipped_link() -> dict[str, str]:
    """Query parameters that open the app on the shipped default (empty once pretrained/
    holds the current defaults)."""
    base, now = shipped_default().to_flat(), RunConfig().to_flat()
    return {name: str(value) for name, value in base.items() if value != now[name]}
