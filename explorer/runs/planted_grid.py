"""The shipped planted grid (`python -m explorer plant --shipped-grid`): networks with a
known answer, and how well each method finds it.

For every activation (ReLU, sigmoid, tanh), form (localist, rotated) and seed 0-4, a 3x16
network is trained with V1 and V2 planted at layer 1 in k = 4 dims each (IIT; the plant
seed is the model seed, so the ReLU, sigmoid and tanh nets of one seed share one planted
rotation). Each network is then recovered by every method at the plant command's defaults,
on the planted hypothesis and on two wrong ones. For the rotated plants, the learned maps
are also run at every DAS budget in `BUDGETS` (the cap on steps), on the planted
hypothesis: success against budget, which separates "the search is hard" from "the
variable is absent" (it is present by construction).

Out: `pretrained/planted/planted.csv` (one row per network, hypothesis, method and budget;
`curve` marks the budget rows) and each network's checkpoint under
`pretrained/planted/models/` (the planted map in its metadata, as `plant --checkpoint`).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pandas as pd

from explorer.core.config import RunConfig
from explorer.core.identity import model_fields
from explorer.core.progress import Progress
from explorer.runs.executors import run_local
from explorer.runs.plant_methods import METHODS
from explorer.runs.planting import (PLANT_DEFAULTS, PlantResult, PlantSettings,
                                    plant_and_recover, plant_config, recover_all,
                                    recovery_table, save_planted)
from explorer.store import paths
from explorer.store.tables import read_table, write_table

ACTIVATIONS = ("relu", "sigmoid", "tanh")
FORMS = ("localist", "rotated")
SEEDS = (0, 1, 2, 3, 4)
SITE, K = 1, 4
BUDGETS = (25, 50, 100, 200, 400, 800, 1600)  # DAS step caps of the budget curve
LEARNED = tuple(m for m in METHODS if m != "neuron")  # the methods a budget applies to
OUT = paths.PLANTED
COMMAND = paths.PLANTED_COMMAND


def grid_config(activation: str, seed: int) -> RunConfig:
    return RunConfig().with_values(activation=activation, seed=seed, site=SITE, k=K,
                                   das_steps=PLANT_DEFAULTS["das_steps"])


def checkpoint_path(out: Path, activation: str, form: str, seed: int) -> Path:
    return Path(out) / "models" / f"{activation}-{form}-s{seed}.safetensors"


def _rows(result: PlantResult, table: pd.DataFrame, das_steps: int, curve: bool) -> list[dict]:
    c, p = result.config, result.plant
    head = {"activation": c.model.activation, "form": p.form, "seed": c.seed,
            "plant_seed": p.seed, "site": p.site, "k": p.k,
            "task_accuracy": result.task_accuracy,
            "planted_iia": result.planted.iia if result.planted else math.nan,
            "plant_failed": result.plant_failed, "curve": curve}
    return [{**head, **row, "das_steps": math.nan if row["method"] == "neuron" else das_steps}
            for row in table.to_dict("records")]


def one_network(activation: str, form: str, seed: int, out: str,
                budgets: tuple[int, ...] = BUDGETS) -> list[dict]:
    """Plant, recover at the defaults, save the checkpoint; rotated: the budget curve too."""
    from explorer.core.rng import fix_threads
    fix_threads()  # a spawned worker starts with torch's defaults
    start = time.perf_counter()
    cfg = grid_config(activation, seed)
    result = plant_and_recover(cfg, PlantSettings(form=form), workers=1)
    save_planted(checkpoint_path(Path(out), activation, form, seed), result)
    rows = _rows(result, result.table(), result.config.das.das_steps, curve=False)
    if form == "rotated" and not result.plant_failed:
        settings = PlantSettings(form=form, methods=LEARNED, wrong=())
        for steps in budgets:
            found, _ = recover_all(result.model, result.config.with_values(das_steps=steps),
                                   result.plant, settings, result.planted.iia, workers=1)
            rows += _rows(result, recovery_table({"both": found["both"]}), steps, curve=True)
    seconds = round(time.perf_counter() - start, 1)
    return [{**row, "seconds": seconds} for row in rows]


def ship(out: str | Path = OUT, progress: Progress | None = None, workers: int = 2,
         activations: tuple[str, ...] = ACTIVATIONS, forms: tuple[str, ...] = FORMS,
         seeds: tuple[int, ...] = SEEDS, budgets: tuple[int, ...] = BUDGETS) -> pd.DataFrame:
    """Run the grid (`workers` networks at once) into out/planted.csv and out/models/."""
    out = Path(out)
    (out / "models").mkdir(parents=True, exist_ok=True)
    tasks = [(a, f, s, str(out), budgets) for s in seeds for a in activations for f in forms]
    rows = []
    for done, (_, network_rows) in enumerate(run_local(one_network, tasks, workers=workers), 1):
        rows += network_rows
        if progress:
            progress(done / len(tasks), f"planted grid: {done}/{len(tasks)} networks")
    order = ["activation", "form", "seed", "curve", "hypothesis", "method", "das_steps"]
    table = pd.DataFrame(rows).sort_values(order, kind="stable", ignore_index=True)
    write_table(out / "planted.csv", table)
    return table


def load(out: str | Path = OUT) -> pd.DataFrame | None:
    """The shipped planted table, or None when it has not been generated."""
    path = Path(out) / "planted.csv"
    return read_table(path) if path.exists() else None


def grid_network(cfg: RunConfig, form: str, site: int, k: int) -> tuple[str, int] | None:
    """The (activation, seed) of the grid network that planting cfg's network with this form,
    site and k would train (every model field equal once the planting recipe is written out,
    the plant seed the model seed), or None when the grid has no such network."""
    act, seed = cfg.model.activation, cfg.seed
    if act not in ACTIVATIONS or seed not in SEEDS or form not in FORMS or (site, k) != (SITE, K):
        return None
    mine = plant_config(cfg.with_values(site=site, k=k))
    return (act, seed) if model_fields(mine) == model_fields(plant_config(
        grid_config(act, seed))) else None


def recovery_rows(table: pd.DataFrame, activation: str, form: str, seed: int) -> pd.DataFrame:
    """One grid network's rows on the planted hypothesis at the defaults (no budget rows)."""
    mine = ((table.activation == activation) & (table.form == form) & (table.seed == seed)
            & (table.hypothesis == "both") & ~table.curve.astype(bool))
    return table[mine].reset_index(drop=True)
