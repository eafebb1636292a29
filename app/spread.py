"""The seed spread of any configuration, on demand (DAS page): seeds 0-4 of the current
settings trained and aligned as one batched run (`explorer.runs.seeds`) in a background
job. On the shipped grid the precomputed 5-seed table already shows it, so this appears
only off the grid."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import dial, figures, stores as state
from explorer.core.config import ConfigError, RunConfig
from explorer.plots import charts as plots
from explorer.runs.seeds import SPREAD, check_seeds, run_seeds, spread
from explorer.store import precomputed

SEEDS = (0, 1, 2, 3, 4)


def seeds_key(cfg: RunConfig) -> str:
    """One job per configuration whatever its own seed (the run replaces it by SEEDS)."""
    return "seeds " + state.run_key(cfg.with_values(seed=0))


def seeder(cfg: RunConfig):
    store, key = dial.results()["seeds"], seeds_key(cfg)

    def work(progress=None):
        result = run_seeds(cfg, SEEDS, progress)
        store.put(key, result)
        return result
    return work


def spread_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Long form seed, measure, value of a SeedsResult table (for the chart)."""
    names = dict(SPREAD)
    return table.melt(id_vars="seed", value_vars=list(names), var_name="measure").assign(
        measure=lambda f: f.measure.map(names))


def seeds_ui(cfg: RunConfig) -> None:
    if not precomputed.seed_spread(cfg).empty:
        return  # the precomputed table above shows the spread
    st.subheader(f"Seed spread: seeds {SEEDS[0]}–{SEEDS[-1]} of these settings")
    st.caption("One model seed is one sample. This trains and aligns the same recipe at five "
               "seeds as one batched run (each seed's numbers equal its own single-seed run).")
    try:
        check_seeds(cfg, SEEDS)
    except ConfigError as err:
        st.error(f"**{err.field}**: {err.message}")
        return
    result = dial.button_job(seeds_key(cfg), cfg, "Run seeds 0–4", "Seeds 0–4",
                              lambda: seeder(cfg), "seeds_button")
    if result is None:
        return
    table = result.table()
    summary = spread(table)
    cols = st.columns(len(SPREAD))
    for col, (name, label) in zip(cols, SPREAD):
        s = summary[name]
        col.metric(f"{label} (mean ± SD)", f"{s['mean']:.3f} ± {s['sd']:.3f}")
    left, right = st.columns([3, 2])
    with left:
        figures.show(plots.seed_dots, spread_frame(table))
    right.dataframe(table, hide_index=True, key="seeds_table")
