"""One configuration over several model seeds, for little more than the cost of one.

    run_seeds(cfg, (0, 1, 2, 3, 4))  ->  SeedsResult      # .runs: one RunResult per seed

Each seed's `RunResult` has the numbers `methods.experiment.run(cfg with that seed)` gives,
bit for bit (the JSON differs in `timings` only): every random stream is the seed's own.
What is shared is the work: the seeds' models train as one batched computation
(`core.batched_train`, where its exactness probe passes; else one training per seed), and
the DAS runs of every seed's trained network, and of every seed's untrained and
random-features control networks, are fitted together (`methods.fit_networks`), each
network with its own pairs, its own random stream and its own stopping step. The neuron-wise
searches and the cheap controls run per seed, two at a time.

`spread(result)` gives mean, SD and n over seeds of task accuracy, DAS IIA and neuron-wise
IIA: results are read per seed and as mean with spread, never as one best run.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import pandas as pd

from explorer.core.config import (MEMORY_BUDGET, ConfigError, RunConfig, echo, memory_terms,
                                  validate)
from explorer.core.progress import Progress, scaled_progress

MAX_SEEDS = 20  # seeds one command (or the app) may run together
NETWORKS = 3  # DAS networks per seed fitted at once: trained, untrained, random features
SPREAD = (("task_accuracy", "task accuracy"), ("das_iia", "DAS IIA"),
          ("neuron_iia", "neuron-wise IIA"))


def parse_seeds(text: str) -> tuple[int, ...]:
    """'0,1,2,3,4' -> (0, 1, 2, 3, 4); ConfigError('seeds', ...) for anything else: not
    plain decimal integers, outside 0..2**31-1, duplicates, none, or more than MAX_SEEDS."""
    allowed = (f"a comma-separated list of 1 to {MAX_SEEDS} distinct plain decimal integers "
               f"between 0 and {2**31 - 1}, e.g. 0,1,2,3,4")
    items = [item.strip() for item in str(text).split(",")]
    if not any(items) or any(not item.isascii() or not item.isdigit() for item in items):
        raise ConfigError("seeds", f"must be {allowed} (got {echo(text)})")
    seeds = tuple(int(item) for item in items)
    big = [s for s in seeds if s > 2**31 - 1]
    if big:
        raise ConfigError("seeds", f"each seed must be between 0 and {2**31 - 1} "
                                   f"(got {echo(big[0])})")
    twice = sorted({s for s in seeds if seeds.count(s) > 1})
    if twice:
        raise ConfigError("seeds", f"seed {twice[0]} is given twice; must be {allowed}")
    if len(seeds) > MAX_SEEDS:
        raise ConfigError("seeds", f"at most {MAX_SEEDS} seeds at once (got {len(seeds)})")
    return seeds


def seeds_memory(cfg: RunConfig, n_seeds: int) -> float:
    """Estimated bytes of a run over n seeds: torch itself once, every other phase of
    `memory_terms` once per network whose DAS is fitted at once (NETWORKS per seed). An upper
    estimate: the phases never all overlap."""
    terms = memory_terms(cfg)
    runtime = sum(size for _, name, size in terms if name is None)
    return runtime + n_seeds * NETWORKS * sum(size for _, name, size in terms if name)


def check_seeds(cfg: RunConfig, seeds: tuple[int, ...], *, budget: int = MEMORY_BUDGET) -> None:
    """ConfigError naming `seeds` when the seeds' run is over the memory budget."""
    need = seeds_memory(cfg, len(seeds))
    if need <= budget:
        return
    fit = max(n for n in range(0, len(seeds) + 1) if n == 0 or seeds_memory(cfg, n) <= budget)
    raise ConfigError("seeds", f"{len(seeds)} seeds need about {need / 2**30:.2f} GiB of "
                               f"memory with these settings, over the {budget / 2**30:.0f} GiB "
                               f"budget; at most {fit} seeds fit")


@dataclass
class SeedsResult:
    runs: list  # RunResult per seed, in the order given
    batched: dict[str, bool]  # which phases ran as one batched computation
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def seeds(self) -> list[int]:
        return [r.config.seed for r in self.runs]

    def table(self) -> pd.DataFrame:
        """One row per seed: seed, task_accuracy, das_iia, neuron_iia, das_converged,
        das_steps_used."""
        return pd.DataFrame([{"seed": r.config.seed, "task_accuracy": r.task_accuracy,
                              "das_iia": r.das.test.iia, "neuron_iia": r.neuron.test.iia,
                              "das_converged": r.das.converged,
                              "das_steps_used": r.das.steps_used} for r in self.runs])

    def summary(self) -> dict:
        """The JSON report: {"runs": [one single-seed report per seed], "spread", ...}."""
        return {"runs": [r.summary() for r in self.runs], "seeds": self.seeds,
                "spread": spread(self.table()), "batched": dict(self.batched),
                "timings": dict(self.timings)}


def spread(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per measure (SPREAD): mean, sample SD (NaN for one seed) and n over the seeds."""
    out = {}
    for column, _ in SPREAD:
        values = table[column].astype(float)
        out[column] = {"mean": float(values.mean()),
                       "sd": float(values.std(ddof=1)) if len(values) > 1 else math.nan,
                       "n": int(len(values))}
    return out


def run_seeds(cfg: RunConfig, seeds: tuple[int, ...],
              progress: Progress | None = None) -> SeedsResult:
    """The whole experiment of `cfg` for each seed (cfg's own seed is ignored)."""
    from explorer.runs.seeds_engine import run_all  # torch and the methods: only when run

    cfgs = [validate(cfg.with_values(seed=s)) for s in seeds]
    check_seeds(cfg, seeds)
    start = time.perf_counter()
    runs, batched, timings = run_all(cfgs, scaled_progress(progress, 0.0, 1.0))
    timings["total"] = round(time.perf_counter() - start, 3)
    if progress:
        progress(1.0, "done")
    return SeedsResult(runs, batched, timings)


def seeds_report(result: SeedsResult) -> str:
    """The text report: the configuration, one line per seed, mean +- SD of each measure."""
    c, table = result.runs[0].config, result.table()
    lines = [f"hierarchical equality | {c.model.activation} MLP {c.model.layers}x{c.model.width}"
             f" | entity dim {c.task.entity_dim} | DAS site {c.das.site}, k={c.das.k}, "
             f"hypothesis {c.das.hypothesis}, {c.das.map} | {len(table)} seeds",
             f"{'seed':>10}  {'task acc':>8}  {'DAS IIA':>8}  {'neuron IIA':>10}  DAS steps",
             *(f"{row.seed:>10}  {row.task_accuracy:8.4f}  {row.das_iia:8.3f}  "
               f"{row.neuron_iia:10.3f}  {row.das_steps_used}"
               + ("" if row.das_converged else " (NOT converged)")
               for row in table.itertuples())]
    for column, label in SPREAD:
        s = spread(table)[column]
        sd = "n/a" if math.isnan(s["sd"]) else f"{s['sd']:.3f}"
        lines.append(f"{label:>16}: mean {s['mean']:.3f} ± SD {sd} (n = {s['n']})")
    lines.append("batched: " + ", ".join(f"{k} {'yes' if v else 'no'}"
                                         for k, v in result.batched.items()))
    lines.append("timings (s): " + ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items()))
    return "\n".join(lines)
