"""Plant and recover: train a network with V1 and V2 planted at a site (IIT,
`explorer.methods.iit`), check the plant took (task accuracy and the planted alignment's
own IIA, both >= `PLANT_THRESHOLD`), then ask every method to find it again:

    neuron      neuron-wise search (exhaustive or greedy over unit subsets)
    orthogonal  DAS with an orthogonal rotation
    linear      DAS with a general invertible linear map
    boundless   Boundless DAS (learned subspace sizes)
    revnet      DAS with the RevNet coupling map of hidden width `map_width`

Each method reports IIA, the largest principal angle to the planted subspace and whether it
found the plant (`explorer.analysis.recovery`), and its IIA on two other hypotheses on the
same network (Left Equality, Identity of First Argument), so false positives show. Every
method is called through the adapters of `explorer.runs.plant_methods`, the only place that
knows their result types. Same seed and settings give the same numbers.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from explorer.analysis.recovery import (ANGLE_TOLERANCE_DEG, IIA_TOLERANCE, Recovery,
                                        readout_gradients, recovery)
from explorer.core.config import RunConfig, validate
from explorer.core.iia import IIA, evaluate
from explorer.core.models import MLP
from explorer.core.pairs import pair_set
from explorer.core.progress import Progress, scaled_progress
from explorer.core.train import RECIPES, heldout_examples, task_accuracy
from explorer.methods.iit import FORMS, Plant, make_plant, train_planted
from explorer.runs.plant_methods import METHODS, RUNNERS
from explorer.store import checkpoints

WRONG = ("left", "identity")  # hypotheses that are not the planted one
PLANT_THRESHOLD = 0.98
# The planting recipe (Adam lr, steps of train_batch_size pairs), measured at 3x16, k = 4,
# site 1: ReLU plants at 800 steps (0.997 planted IIA; 600 steps at lr 3e-3 reach 0.88-0.92);
# sigmoid needs its plain recipe (3,000 steps: 0.956; 6,000: 0.993). Others: untested guesses.
PLANT_LR = {"relu": 6e-3, "leaky_relu": 6e-3, "gelu": 6e-3, "tanh": 1e-2, "sigmoid": 3e-2}
PLANT_STEPS = {"relu": 800, "leaky_relu": 800, "gelu": 800, "tanh": 4000, "sigmoid": 6000}
# Defaults of the plant command where they differ from `run`'s: DAS-type maps converge on a
# planted network by ~200 steps (val IIA within 0.005 of its 600-step value)
PLANT_DEFAULTS = {"site": 1, "das_steps": 300}


@dataclass(frozen=True)
class PlantSettings:
    """The plant command's options beyond the run config (site and k are the config's)."""

    form: str = "rotated"
    iit_weight: float = 2.0
    plant_seed: int | None = None  # None: the config's seed
    map_width: int = 8  # the RevNet map's hidden width
    methods: tuple[str, ...] = METHODS
    wrong: tuple[str, ...] = WRONG

    def check(self) -> PlantSettings:
        if self.form not in FORMS:
            raise ValueError(f"--form: must be one of {', '.join(FORMS)} (got {self.form!r})")
        if not 0.0 <= self.iit_weight <= 100.0:
            raise ValueError(f"--iit-weight: must be between 0 and 100 (got {self.iit_weight})")
        if self.plant_seed is not None and not 0 <= self.plant_seed < 2**31:
            raise ValueError(f"--plant-seed: must be between 0 and 2**31 - 1 "
                             f"(got {self.plant_seed})")
        if not 1 <= self.map_width <= 64:
            raise ValueError(f"--map-width: must be between 1 and 64 (got {self.map_width})")
        bad = [m for m in self.methods if m not in METHODS]
        if bad or not self.methods:
            raise ValueError(f"--methods: must be among {', '.join(METHODS)} (got {bad})")
        return self


def plant_config(cfg: RunConfig) -> RunConfig:
    """cfg with the planting recipe written out (train_steps, train_lr), so the checkpoint's
    config says exactly how the network was trained. Plain ('none') uses the same budget."""
    act = cfg.model.activation
    return validate(cfg.with_values(train_steps=cfg.train.train_steps or PLANT_STEPS[act],
                                    train_lr=cfg.train.train_lr or PLANT_LR.get(
                                        act, RECIPES[act].lr)))


def _timed(fn, *args):
    wall, cpu = time.perf_counter(), time.thread_time()
    out = fn(*args)
    return out, round(time.perf_counter() - wall, 3), round(time.thread_time() - cpu, 3)


def recover_all(model: MLP, cfg: RunConfig, plant: Plant, settings: PlantSettings,
                planted_iia: float | None, workers: int = 2):
    """Every method on the planted hypothesis and on each wrong one, `workers` at a time
    (threads: torch releases the GIL in its kernels; every stream is passed in, so the
    numbers do not depend on the order). Returns ({hypothesis: {method: Recovery}},
    {"hypothesis/method": wall seconds, ".../cpu": CPU seconds})."""
    hyps = ("both", *settings.wrong)
    pairs = {h: pair_set(model, cfg.with_values(hypothesis=h), hypothesis=h) for h in hyps}
    grads = readout_gradients(model, plant.site, pairs["both"].test.base_h[:1024])
    jobs = [(h, m) for h in hyps for m in settings.methods]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {job: pool.submit(_timed, RUNNERS[job[1]], model,
                                    cfg.with_values(hypothesis=job[0]), pairs[job[0]], settings)
                   for job in jobs}
    out, seconds = {h: {} for h in hyps}, {}
    for (h, m), future in futures.items():
        (test, found, details), wall, cpu = future.result()
        target = None if plant.rotation is None else [plant.subspace(v)
                                                      for v in range(len(found))]
        out[h][m] = recovery(m, test.iia, found, target, planted_iia if h == "both" else None,
                             grads, details)
        seconds[f"{h}/{m}"], seconds[f"{h}/{m}/cpu"] = wall, cpu
    return out, seconds


@dataclass(frozen=True)
class PlantResult:
    config: RunConfig  # the recipe written out
    settings: PlantSettings
    plant: Plant
    model: MLP
    history: pd.DataFrame
    task_accuracy: float
    planted: IIA | None  # the planted alignment evaluated directly (None: form 'none')
    recovery: dict[str, Recovery]
    wrong: dict[str, dict[str, Recovery]]  # hypothesis -> method -> (V1 angle only)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def plant_failed(self) -> bool:
        return self.planted is not None and (self.planted.iia < PLANT_THRESHOLD
                                             or self.task_accuracy < PLANT_THRESHOLD)

    def summary(self) -> dict:
        """The JSON report."""
        p = self.plant
        return {
            "config": self.config.to_flat(),
            "plant": {"form": p.form, "site": p.site, "k": p.k, "seed": p.seed,
                      "units": None if p.units is None else [list(u) for u in p.units],
                      "iit_weight": self.settings.iit_weight,
                      "map_width": self.settings.map_width},
            "task_accuracy": self.task_accuracy,
            "planted": {**(self.planted.as_dict() if self.planted else {"iia": None}),
                        "failed": self.plant_failed, "threshold": PLANT_THRESHOLD},
            "recovery": {m: r.as_dict() for m, r in self.recovery.items()},
            "wrong_hypotheses": {h: {m: r.as_dict() for m, r in rows.items()}
                                 for h, rows in self.wrong.items()},
            "thresholds": {"iia_tolerance": IIA_TOLERANCE,
                           "angle_deg": ANGLE_TOLERANCE_DEG},
            "timings": dict(self.timings),
        }

    def table(self) -> pd.DataFrame:
        """`recovery_table` of the planted hypothesis and the wrong ones."""
        return recovery_table({"both": self.recovery, **self.wrong})


def recovery_table(groups: dict[str, dict[str, Recovery]]) -> pd.DataFrame:
    """Long form of {hypothesis: {method: Recovery}}: hypothesis, method, iia, max_angle_deg,
    used_angle_deg, found, found_strict (the verdicts only on the planted hypothesis)."""
    return pd.DataFrame([{"hypothesis": h, "method": m, "iia": r.iia,
                          "max_angle_deg": r.max_angle_deg,
                          "used_angle_deg": r.used_angle_deg, "found": r.found,
                          "found_strict": r.found_strict}
                         for h, by in groups.items() for m, r in by.items()])


def plant_network(cfg: RunConfig, settings: PlantSettings,
                  progress: Progress | None = None) -> tuple[MLP, Plant, pd.DataFrame]:
    """Train the planted (or, form 'none', the plain) network of cfg's site and k."""
    cfg = plant_config(cfg)
    seed = cfg.seed if settings.plant_seed is None else settings.plant_seed
    plant = make_plant(settings.form, cfg.site_dim(cfg.das.site), cfg.das.site, cfg.das.k, seed)
    model, history = train_planted(cfg, plant, iit_weight=settings.iit_weight, progress=progress)
    return model, plant, history


def plant_and_recover(cfg: RunConfig, settings: PlantSettings = PlantSettings(),
                      progress: Progress | None = None, workers: int = 2) -> PlantResult:
    """Plant, check the plant, recover it with every method (see the module doc)."""
    settings.check()
    cfg, start = plant_config(cfg), time.perf_counter()
    model, plant, history = plant_network(cfg, settings, scaled_progress(progress, 0.0, 0.4))
    times = {"train": round(time.perf_counter() - start, 3)}
    accuracy = task_accuracy(model, heldout_examples(cfg))
    planted = None
    if plant.rotation is not None:
        test = pair_set(model, cfg.with_values(hypothesis="both"), hypothesis="both").test
        planted = evaluate(model, test, plant.var_mask, plant.rotation)
    if progress:
        progress(0.4, "recovering with every method")
    found, seconds = recover_all(model, cfg, plant, settings, planted and planted.iia, workers)
    times["recover"] = round(time.perf_counter() - start - times["train"], 3)
    times["total"] = round(time.perf_counter() - start, 3)
    if progress:
        progress(1.0, "done")
    return PlantResult(cfg, settings, plant, model, history, accuracy, planted,
                       found.pop("both"), found, {**times, **seconds})


def _deg(angle: float | None) -> str:
    return "-" if angle is None else f"{angle:.1f}"


def plant_report(result: PlantResult) -> str:
    """The plant command's text report."""
    s, c = result.summary(), result.config
    p, planted = s["plant"], s["planted"]
    lines = [f"planted network | {c.model.activation} MLP {c.model.layers}x{c.model.width} | "
             f"form {p['form']} at site {p['site']}, k={p['k']} (plant seed {p['seed']}"
             + (f", units {p['units']}" if p["units"] else "") + f") | seed {c.seed}",
             f"task accuracy (held-out entities): {s['task_accuracy']:.4f}"]
    if planted["iia"] is None:
        lines.append("nothing planted (plain training, for contrast)" + (
            "" if s["task_accuracy"] >= PLANT_THRESHOLD else
            f"  WARNING: task accuracy below {PLANT_THRESHOLD}: IIA below is not meaningful"))
    else:
        lines.append(f"planted alignment IIA: {planted['iia']:.4f}" + (
            f"  PLANTING FAILED: task accuracy and planted IIA must both be >= "
            f"{planted['threshold']}" if planted["failed"] else "  (plant took)"))
    t = s["thresholds"]
    lines.append(f"recovery (found: IIA >= planted - {t['iia_tolerance']} and angle to the "
                 f"plant's read directions <= {t['angle_deg']} deg; strict: also the largest "
                 f"principal angle)")
    lines.append(f"  {'method':<11}{'IIA':>7}{'max angle':>11}{'used angle':>12}  found  strict"
                 f"  | {'  '.join(f'{h} IIA' for h in s['wrong_hypotheses'])}")
    for m, r in s["recovery"].items():
        wrong = "  ".join(f"{s['wrong_hypotheses'][h][m]['iia']:>{len(h) + 4}.3f}"
                          for h in s["wrong_hypotheses"])
        lines.append(f"  {m:<11}{r['iia']:>7.3f}{_deg(r['max_angle_deg']):>11}"
                     f"{_deg(r['used_angle_deg']):>12}  {r['found']!s:<6} "
                     f"{r['found_strict']!s:<6}  | {wrong}")
    lines.append("timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in s["timings"].items()
                                            if k in ("train", "recover", "total")))
    return "\n".join(lines)


def planted_bytes(result: PlantResult) -> bytes:
    """The checkpoint (safetensors + JSON metadata): the planted map and its IIA in
    `planted`, the task accuracy in `metrics`."""
    planted = {**result.plant.to_json(), "iit_weight": result.settings.iit_weight,
               "iia": None if result.planted is None else result.planted.iia}
    return checkpoints.to_bytes(result.model, result.config,
                                {"task_accuracy": result.task_accuracy}, {"planted": planted})


def save_planted(path, result: PlantResult) -> None:
    """Write `planted_bytes(result)` to path."""
    Path(path).write_bytes(planted_bytes(result))


def load_planted(path) -> tuple[MLP, RunConfig, Plant, dict]:
    """A planted checkpoint: (model, config, plant, metadata); ValueError if it has none."""
    model, cfg, meta = checkpoints.load(path)
    if not isinstance(meta.get("planted"), dict):
        raise ValueError(f"{path}: not a planted checkpoint (no 'planted' metadata)")
    return model, cfg, Plant.from_json(meta["planted"], cfg), meta
