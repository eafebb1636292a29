"""What the study measures on one trained model (one activation and seed).

Every part is a list of flat rows tagged with activation and seed (see `explorer.study.run`):

* probes   linear probes for V1, V2 per site, true vs shuffled labels, trained vs untrained net
* search   DAS per restart over sites x k x learning rates x initializations: val/test IIA,
           success (within `tolerance` of the input oracle at site 0, of the best IIA found
           for that model/site/k elsewhere), and at the input the largest principal angle
           between each restart's V1/V2 subspace and the exact difference/coordinate oracles
* oracles  the exact input alignments scored directly (`diagnostics.oracle_table`)
* angles   principal angles between restarts (V1 vs V1, V2 vs V2) and V1 vs another
           restart's V2; V1 vs V2 of the general linear map
* range    how far swapped states fall outside the site's natural range
* illusion row-space vs null-space parts of the chosen DAS subspace (`illusion_check`)
* maps     orthogonal vs general linear vs Boundless DAS (with the learned sizes)
* basin    IIA of V1-only swaps along a tilt of the exact difference subspace (input, V1):
           how far from the answer a search still gets a signal
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch

from explorer.analysis.geometry import probe_frame
from explorer.methods.boundless import train_boundless
from explorer.core.config import RunConfig
from explorer.methods.das import DASResult
from explorer.analysis.diagnostics import (GridRun, das_grid, illusion_check, oracle_table,
                                          out_of_range, tilt_path)
from explorer.core.iia import site_data
from explorer.core.models import MLP
from explorer.core.pairs import PairSet, pair_set
from explorer.methods.steps import run_das, untrained_model
from explorer.core.rng import generator
from explorer.store.tables import PARTS
from explorer.analysis.subspaces import input_oracles, principal_angles
from explorer.core.alignment import subspace
from explorer.core.task import sample_pairs
from explorer.core.train import entities_for, heldout_examples


@dataclass(frozen=True)
class StudyGrid:
    activations: tuple[str, ...] = ("relu", "sigmoid", "tanh", "gelu")
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    search_sites: tuple[int, ...] = (0, 1)
    ks: tuple[int, ...] = (4, 8)
    lrs: tuple[float, ...] = (0.01, 0.05)
    inits: tuple[str, ...] = ("random", "identity", "neuron")
    restarts: int = 4  # random-init restarts per (site, k, lr); other inits are one restart
    das_steps: int = 300
    n_train_pairs: int = 2048
    n_val_pairs: int = 512
    n_test_pairs: int = 1024
    n_search_pairs: int = 256  # neuron-wise search (the "neuron" init)
    map_sites: tuple[int, ...] = (0, 1)
    map_k: int = 8
    illusion_sites: tuple[int, ...] = (1, 3)
    probe_examples: int = 1000
    n_shuffles: int = 3
    basin_degrees: tuple[float, ...] = (0, 1, 2, 5, 10, 20, 45, 90)
    basin_draws: int = 3
    tolerance: float = 0.02

    def config(self, base: RunConfig, activation: str, seed: int) -> RunConfig:
        return base.with_values(activation=activation, seed=seed, das_steps=self.das_steps,
                                restarts=self.restarts, n_train_pairs=self.n_train_pairs,
                                n_val_pairs=self.n_val_pairs, n_test_pairs=self.n_test_pairs,
                                n_search_pairs=self.n_search_pairs)


def probe_rows(model: MLP, cfg: RunConfig, grid: StudyGrid) -> list[dict]:
    examples = heldout_examples(cfg, grid.probe_examples)
    rows = []
    for network, net in (("trained", model), ("untrained", untrained_model(cfg))):
        frame = probe_frame(net, examples, cfg.seed, grid.n_shuffles)
        rows += frame.assign(network=network).to_dict("records")
    return rows


def max_angle(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest principal angle (degrees): 0 when the smaller subspace lies in the other."""
    return math.degrees(float(principal_angles(a, b).max()))


def oracle_angles(rotation: torch.Tensor, mask: torch.Tensor, entity_dim: int) -> dict:
    """At the input: largest angle from each variable's subspace to each exact oracle's."""
    out = {}
    for oracle in input_oracles(entity_dim, mask.shape[0]):
        for v, name in enumerate(("V1", "V2")[:mask.shape[0]]):
            out[f"angle_{oracle.name}_{name}"] = max_angle(subspace(rotation, mask, v),
                                                           oracle.subspace(v))
    return out


def search_rows(runs: list[GridRun], site: int, k: int, target: float, target_kind: str,
                grid: StudyGrid, entity_dim: int) -> list[dict]:
    rows = []
    for run in runs:
        for r in run.das.restarts.itertuples():
            row = {"site": site, "k": k, "lr": run.lr, "init": run.init, "restart": r.restart,
                   "val_iia": r.val_iia, "test_iia": r.test_iia,
                   "chosen": r.restart == run.das.best_restart, "target": target,
                   "target_kind": target_kind, "success": r.test_iia >= target - grid.tolerance}
            if site == 0:
                row.update(oracle_angles(run.das.maps[r.restart], run.das.var_mask,
                                         entity_dim))
            rows.append(row)
    return rows


def angle_summary(comparison: str, site: int, k: int, a: str, b: str,
                  angles: torch.Tensor) -> dict:
    deg = torch.rad2deg(angles)
    return {"comparison": comparison, "site": site, "k": k, "a": a, "b": b,
            "mean_degrees": float(deg.mean()), "min_degrees": float(deg.min()),
            "max_degrees": float(deg.max())}


def restart_angle_rows(das: DASResult, site: int, k: int) -> list[dict]:
    """Between restarts of one random-init run: V1 vs V1, V2 vs V2, and V1 vs other V2."""
    rows, mask = [], das.var_mask
    spaces = [[subspace(r, mask, v) for v in range(mask.shape[0])] for r in das.maps]
    for i, j in itertools.permutations(range(len(spaces)), 2):
        if i < j:
            for v, name in enumerate(("V1", "V2")[:mask.shape[0]]):
                rows.append(angle_summary(f"between restarts ({name})", site, k, f"r{i}",
                                          f"r{j}", principal_angles(spaces[i][v], spaces[j][v])))
        if mask.shape[0] == 2:
            rows.append(angle_summary("V1 vs V2 of another restart", site, k, f"r{i}/V1",
                                      f"r{j}/V2", principal_angles(spaces[i][0], spaces[j][1])))
    return rows


def range_rows(pairs: PairSet, site: int, k: int, alignments: dict) -> list[dict]:
    """Out-of-range statistics of each alignment's swapped test states, fitted on the
    train pairs' factual states; one 'natural' row (the test bases themselves)."""
    rows = []
    for name, (rotation, mask) in alignments.items():
        table = out_of_range(pairs.train.base_h, pairs.test, mask, rotation).set_index("states")
        if not rows:
            rows.append({"site": site, "k": k, "alignment": "none (factual states)",
                         **table.loc["natural"].to_dict()})
        rows.append({"site": site, "k": k, "alignment": name,
                     **table.loc["intervened"].to_dict()})
    return rows


def basin_rows(model: MLP, cfg: RunConfig, grid: StudyGrid) -> list[dict]:
    """`diagnostics.tilt_path` on the model's V1-only test pairs: how far from the answer a
    swap still scores."""
    gen = generator(cfg.seed, "study-basin")
    pairs = sample_pairs(cfg.das.n_test_pairs, 2, entities_for(cfg), "test", gen, only="V1")
    rows = tilt_path(model, site_data(model, 0, pairs, "both"), cfg.task.entity_dim,
                     grid.basin_degrees, grid.basin_draws, gen)
    return [{"site": 0, "k": cfg.task.entity_dim, **row} for row in rows]


def map_rows(model: MLP, cfg: RunConfig, pairs: PairSet, orthogonal: DASResult | None,
             grid: StudyGrid) -> tuple[list[dict], list[dict]]:
    """Orthogonal vs general linear vs Boundless DAS at cfg's site, and the linear map's
    V1 vs V2 angles (an orthogonal map's are 90 degrees by construction)."""
    site, k = cfg.das.site, cfg.das.k
    orthogonal = orthogonal or run_das(model, cfg, pairs)
    linear = run_das(model, cfg.with_values(map="linear"), pairs)
    boundless = train_boundless(model, pairs.train, pairs.val, pairs.test, cfg.das,
                                generator(cfg.seed, "study-boundless", site))
    rows = []
    for name, result, sizes in (("orthogonal", orthogonal, (k, k)), ("linear", linear, (k, k)),
                                ("boundless", boundless, boundless.sizes)):
        restarts = result.restarts.test_iia
        rows.append({"site": site, "map": name, "k_V1": sizes[0], "k_V2": sizes[-1],
                     "iia": result.test.iia,
                     **{f"iia_{t}": v for t, v in result.test.by_type.items()},
                     "iia_label_changed": result.test.changed, "baseline": result.test.baseline,
                     "restart_iia_min": float(restarts.min()),
                     "restart_iia_max": float(restarts.max())})
    v1, v2 = (subspace(linear.map, linear.var_mask, v) for v in (0, 1))
    angles = [angle_summary("V1 vs V2 (linear map)", site, k, "V1", "V2",
                            principal_angles(v1, v2))]
    return rows, angles


def illusion_rows(model: MLP, pairs: PairSet, das: DASResult, site: int, k: int) -> list[dict]:
    table = illusion_check(model, pairs.test, das.map, das.var_mask)
    return table.assign(site=site, k=k, das_iia=das.test.iia).to_dict("records")


def measure_site(model: MLP, cfg: RunConfig, grid: StudyGrid, site: int, parts: dict,
                 spaces: dict) -> tuple[dict[int, DASResult], PairSet]:
    """Search, oracles, basin, restart angles and ranges at one site; returns the reported
    random-init DAS (first lr) per k, and the site's pairs (the same for every k)."""
    pairs = pair_set(model, cfg, site=site)
    oracles = input_oracles(cfg.task.entity_dim) if site == 0 else ()
    if site == 0:
        table = oracle_table(model, pairs.test, cfg.task.entity_dim)
        parts["oracles"] += table.assign(site=0).to_dict("records")
        parts["basin"] += basin_rows(model, cfg, grid)
    chosen = {}
    for k in grid.ks:
        runs = das_grid(model, cfg.with_values(site=site, k=k), pairs, grid.lrs, grid.inits)
        if site == 0:
            target, kind = float(table.iia.max()), "input oracle"
        else:
            target, kind = max(float(r.das.restarts.test_iia.max()) for r in runs), "best found"
        parts["search"] += search_rows(runs, site, k, target, kind, grid, cfg.task.entity_dim)
        first = [r for r in runs if r.lr == grid.lrs[0]]
        reported = next((r for r in first if r.init == "random"), first[0]).das
        parts["angles"] += restart_angle_rows(reported, site, k)
        aligns = {f"DAS ({r.init} init)": (r.das.map, r.das.var_mask) for r in first}
        aligns.update({f"oracle: {o.name}": (o.map, o.var_mask) for o in oracles})
        parts["range"] += range_rows(pairs, site, k, aligns)
        chosen[k] = reported
        if site == 0:
            for r in first:
                for v in range(r.das.var_mask.shape[0]):
                    spaces[f"k{k}/{r.init}/V{v + 1}"] = subspace(r.das.map,
                                                                 r.das.var_mask, v).contiguous()
    return chosen, pairs




def measure_model(model: MLP, cfg: RunConfig, accuracy: float,
                  grid: StudyGrid) -> tuple[dict[str, list[dict]], dict[str, torch.Tensor]]:
    """Every part for one trained model, each row tagged; and the input-site subspaces
    (name -> (d, k)) that the between-seed comparison needs."""
    parts: dict[str, list[dict]] = {p: [] for p in PARTS}
    spaces: dict[str, torch.Tensor] = {}
    parts["probes"] = probe_rows(model, cfg, grid)
    chosen, site_pairs = {}, {}
    for site in grid.search_sites:
        chosen[site], site_pairs[site] = measure_site(model, cfg, grid, site, parts, spaces)
    for site in grid.map_sites:
        c = cfg.with_values(site=site, das_lr=grid.lrs[0], das_init="random",
                            k=min(grid.map_k, cfg.site_dim(site) // 2))
        pairs = site_pairs.get(site) or pair_set(model, c)
        rows, angles = map_rows(model, c, pairs, chosen.get(site, {}).get(c.das.k), grid)
        parts["maps"] += rows
        parts["angles"] += angles
    for site in (s for s in grid.illusion_sites if s <= cfg.model.layers):
        c = cfg.with_values(site=site, das_lr=grid.lrs[0], das_init="random",
                            k=min(grid.map_k, cfg.site_dim(site) // 2))
        pairs = site_pairs.get(site) or pair_set(model, c)
        das = chosen.get(site, {}).get(c.das.k) or run_das(model, c, pairs)
        parts["illusion"] += illusion_rows(model, pairs, das, site, c.das.k)
    tag = {"activation": cfg.model.activation, "seed": cfg.seed, "task_accuracy": accuracy}
    return {p: [{**tag, **row} for row in rows] for p, rows in parts.items()}, spaces
