"""Sigmoid vs ReLU with a known answer (issue 10): plant the same 4-dim rotated V1 (and V2)
at layer 1 of ReLU and of sigmoid 3x16 nets (model seeds 0..S-1, one plant seed, so one
planted rotation), then ask every method to recover it at two DAS budgets. Separates "the
search is hard" from "the variable is absent": here the variable is present by construction.

    python benchmarks/plant_activations.py [--seeds 5] [--budgets 100,400] [--out DIR]

Appends one row per (activation, seed, method, budget) to DIR/rows.csv (resumable: a network
already in the file is skipped) and prints, per activation, method and budget, how many
networks the method recovered (found: IIA within 0.02 of the planted IIA and within 10 deg of
the plant's read directions) and the median IIA and angles.
"""

import argparse
import time
from pathlib import Path

import common  # noqa: F401  (fixes threads, sets the path)
import pandas as pd

from explorer.core.config import RunConfig
from explorer.core.iia import evaluate
from explorer.core.pairs import pair_set
from explorer.core.train import heldout_examples, task_accuracy
from explorer.runs.plant_methods import METHODS
from explorer.runs.planting import (PLANT_THRESHOLD, PlantSettings, plant_config, plant_network,
                                    recover_all)

LEARNED = tuple(m for m in METHODS if m != "neuron")


def one_network(activation: str, seed: int, budgets: tuple[int, ...]) -> list[dict]:
    cfg = plant_config(RunConfig().with_values(activation=activation, seed=seed, site=1, k=4))
    start = time.process_time()
    model, plant, _ = plant_network(cfg, PlantSettings(form="rotated", plant_seed=0))
    train_cpu = time.process_time() - start
    accuracy = task_accuracy(model, heldout_examples(cfg))
    planted = evaluate(model, pair_set(model, cfg).test, plant.var_mask, plant.rotation).iia
    rows = []
    for i, steps in enumerate(budgets):
        methods = LEARNED if i < len(budgets) - 1 else METHODS  # neuron-wise has no budget
        settings = PlantSettings(form="rotated", plant_seed=0, methods=methods, wrong=())
        found, seconds = recover_all(model, cfg.with_values(das_steps=steps), plant, settings,
                                     planted, workers=1)
        for method, r in found["both"].items():
            rows.append({"activation": activation, "seed": seed, "task_accuracy": accuracy,
                         "planted_iia": planted, "train_cpu_s": round(train_cpu, 1),
                         "method": method, "das_steps": steps, "iia": r.iia,
                         "max_angle_deg": r.max_angle_deg, "used_angle_deg": r.used_angle_deg,
                         "found": r.found, "found_strict": r.found_strict,
                         "cpu_s": seconds[f"both/{method}/cpu"]})
    return rows


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    took = rows[(rows.planted_iia >= PLANT_THRESHOLD) & (rows.task_accuracy >= PLANT_THRESHOLD)]
    return took.groupby(["activation", "method", "das_steps"]).agg(
        nets=("seed", "nunique"), found=("found", "sum"), found_strict=("found_strict", "sum"),
        iia=("iia", "median"), used_angle=("used_angle_deg", "median"),
        max_angle=("max_angle_deg", "median"), cpu_s=("cpu_s", "median")).reset_index()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budgets", default="100,400")
    parser.add_argument("--activations", default="relu,sigmoid")
    parser.add_argument("--out", default="plant_activations")
    args = parser.parse_args()
    budgets = tuple(int(b) for b in args.budgets.split(","))
    path = Path(args.out) / "rows.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    done = pd.read_csv(path) if path.exists() else pd.DataFrame(columns=["activation", "seed"])
    for seed in range(args.seeds):
        for activation in args.activations.split(","):
            if ((done.activation == activation) & (done.seed == seed)).any():
                continue
            rows = pd.DataFrame(one_network(activation, seed, budgets))
            rows.to_csv(path, mode="a", header=not path.exists(), index=False)
            print(f"{activation} seed {seed}: task {rows.task_accuracy[0]:.4f}, planted "
                  f"{rows.planted_iia[0]:.4f}, found {int(rows.found.sum())}/{len(rows)}",
                  flush=True)
    table = pd.read_csv(path)
    nets = table.drop_duplicates(["activation", "seed"])
    print(nets[["activation", "seed", "task_accuracy", "planted_iia", "train_cpu_s"]]
          .to_string(index=False))
    print(summary(table).to_string(index=False))


if __name__ == "__main__":
    main()
