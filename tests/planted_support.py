"""Hand-built planted networks for the plant tests (imported, not a conftest): a
`PlantResult` with untrained weights of their own and made-up recovery numbers, and a fake
shipped planted grid (planted.csv and a checkpoint) in a folder, so that no test trains."""

from pathlib import Path

import pandas as pd

from explorer.analysis.recovery import Recovery
from explorer.core.config import RunConfig
from explorer.core.iia import IIA
from explorer.core.train import new_model
from explorer.methods.iit import make_plant
from explorer.runs import planted_grid
from explorer.runs.plant_methods import METHODS
from explorer.runs.planting import PlantResult, PlantSettings, plant_config, planted_bytes


def fake_result(cfg: RunConfig, form: str = "rotated", **values) -> PlantResult:
    """A 'planted' network of cfg (site and k its own; values override the config written
    out): weights drawn from their own stream, one made-up recovery per method."""
    cfg = plant_config(cfg).with_values(**values)
    site, k = cfg.das.site, cfg.das.k
    plant = make_plant(form, cfg.site_dim(site), site, k, cfg.seed)
    recovery = {m: Recovery(m, 0.5 + i / 20, (10.0 * i + 1, 2.0), (1.5 * i, 0.5), (k, k),
                            i % 2 == 0, False) for i, m in enumerate(METHODS)}
    planted = IIA(0.9912, {}, 0.99, 0.5, 100)
    return PlantResult(cfg, PlantSettings(form=form), plant, new_model(cfg, "fake plant"),
                       pd.DataFrame(), 0.9876, planted, recovery, {})


def grid_csv_rows() -> pd.DataFrame:
    """planted.csv rows for relu/rotated seed 0 and seed 1 (each on both, with one wrong
    hypothesis and one budget-curve row per method), every number distinct."""
    rows = []
    for seed in (0, 1):
        for i, method in enumerate(METHODS):
            for hyp, curve, shift in (("both", False, 0.0), ("left", False, 0.2),
                                      ("both", True, 0.3)):
                rows.append({"activation": "relu", "form": "rotated", "seed": seed,
                             "plant_seed": seed, "site": 1, "k": 4,
                             "task_accuracy": 0.9911 - seed / 100,
                             "planted_iia": 0.9922 - seed / 100, "plant_failed": False,
                             "curve": curve, "hypothesis": hyp, "method": method,
                             "iia": round(0.4 + i / 10 + shift + seed / 1000, 4),
                             "max_angle_deg": 30.0 + i + shift, "used_angle_deg": 3.0 + i,
                             "found": i % 2 == 1, "found_strict": False,
                             "das_steps": 300 if method != "neuron" else None})
    return pd.DataFrame(rows)


def fake_grid(out: Path, **values) -> tuple[pd.DataFrame, bytes]:
    """planted.csv (grid_csv_rows) and relu-rotated-s0's checkpoint (a fake_result of the grid
    config, values overriding it) under out. Returns (the table, the checkpoint's bytes)."""
    table = grid_csv_rows()
    table.to_csv(Path(out) / "planted.csv", index=False)
    data = planted_bytes(fake_result(planted_grid.grid_config("relu", 0), **values))
    path = planted_grid.checkpoint_path(out, "relu", "rotated", 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return table, data
