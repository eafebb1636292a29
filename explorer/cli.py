"""Command line: `python -m explorer run [--flag value ...] [--json PATH]` (and train, sweep,
pretrain, study, findings: `python -m explorer -h`). Heavy imports wait for the command that
needs them, so `findings` runs on pandas alone.

`python -m explorer plant --site S --k K --form {localist,rotated,none}` plants V1 and V2
(IIT) and reports every method's recovery of them (`explorer.runs.planting`).

Every config field is a kebab-case flag (`--entity-dim 4 --site 1 --k 8 ...`; the old
`--layer` is accepted for `--site`). An invalid config, a bad argument or an output path that
cannot be written exits with code 2 and one line naming the flag, before any work starts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from typing import TYPE_CHECKING

from explorer.core.config import (RENAMED, REVNET_BUDGET, ConfigError, RunConfig, echo,
                                  flat_field_types, validate)
from explorer.core.vocabulary import CONTROLS, NOT_APPLICABLE
from explorer.store import paths

if TYPE_CHECKING:
    from explorer.methods.experiment import RunResult


MAX_WORKERS = 64


class ArgError(ValueError):
    """A bad command-line argument; the message starts with the flag."""


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def output_path(text: str | None, name: str) -> Path | None:
    """The path a flag names for output, checked before any work: not empty, not a folder,
    in an existing folder, and writable (tried: opened for appending, and removed again
    when it did not exist). Raises ArgError naming the flag."""
    if text is None:
        return None
    if not text.strip():
        raise ArgError(f"{name}: the path is empty")
    path = Path(text)
    if path.is_dir():
        raise ArgError(f"{name}: {echo(text)} is a folder; give a file path")
    if not path.parent.is_dir():
        raise ArgError(f"{name}: the folder {echo(str(path.parent))} does not exist")
    existed = path.exists()
    try:
        with open(path, "a"):
            pass
    except OSError as err:
        raise ArgError(f"{name}: cannot write {echo(text)} ({err.strerror})") from None
    if not existed:
        path.unlink()
    return path


def check_workers(workers: int, name: str = "--workers") -> None:
    if not 1 <= workers <= MAX_WORKERS:
        raise ArgError(f"{name}: must be between 1 and {MAX_WORKERS} (got {workers})")


class ProgressBar:
    """A one-line text progress bar on stderr."""

    def __init__(self, enabled: bool = True, width: int = 30):
        self.enabled, self.width, self.start = enabled, width, time.perf_counter()

    def __call__(self, frac: float, message: str) -> None:
        if not self.enabled:
            return
        filled = int(round(frac * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.perf_counter() - self.start
        sys.stderr.write(f"\r[{bar}] {frac:4.0%} {elapsed:5.1f}s {message:<32}")
        if frac >= 1.0:
            sys.stderr.write("\n")
        sys.stderr.flush()


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    defaults, old = RunConfig().to_flat(), {new: old for old, new in RENAMED.items()}
    group = parser.add_argument_group("config (defaults in brackets)")
    for name in flat_field_types():
        aliases = [flag(old[name])] if name in old else []  # older names still work
        group.add_argument(flag(name), *aliases, dest=name, metavar="V", default=None,
                           help=f"[{defaults[name]}]")


def fill_defaults(args: argparse.Namespace, defaults: dict) -> None:
    """Set the flags not given on the command line (None) to a command's own defaults."""
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def run_config(args: argparse.Namespace) -> RunConfig:
    """run's config: with `--map revnet`, the RevNet map's own budget (REVNET_BUDGET) for
    the DAS flags not given."""
    if args.map == "revnet":
        fill_defaults(args, REVNET_BUDGET)
    return config_from_args(args)


def config_from_args(args: argparse.Namespace) -> RunConfig:
    given = {k: v for k, v in vars(args).items() if k in flat_field_types() and v is not None}
    return validate(RunConfig.from_flat(given))


def report(result: RunResult) -> str:
    s, c = result.summary(), result.config
    lines = [
        f"hierarchical equality | {c.model.activation} MLP {c.model.layers}x{c.model.width} | "
        f"entity dim {c.task.entity_dim} | seed {c.seed}",
        f"task accuracy (held-out entities): {s['task_accuracy']:.4f}",
        "" if s["task_accuracy"] >= 0.95 else
        "  WARNING: the network has not learned the task; IIA below is not meaningful",
        f"DAS  site {c.das.site}, k={c.das.k}, hypothesis {c.das.hypothesis}, {s['das']['map']}: "
        f"IIA {s['das']['iia']:.3f}  (label-changing pairs {s['das']['iia_label_changed']:.3f})",
        "  by type: " + ", ".join(f"{k} {v:.3f}" for k, v in s["das"]["iia_by_type"].items()),
        f"  {s['das']['steps_used']} steps, "
        + ("converged" if s["das"]["converged"] else "NOT converged")
        + "; restarts (start val/test): " + ", ".join(
            f"{r['start']} {r['val_iia']:.3f}/{r['test_iia']:.3f}" for r in s["das"]["restarts"]),
        f"neuron-wise search ({'exhaustive' if s['neuron']['exhaustive'] else 'greedy'}): "
        f"IIA {s['neuron']['iia']:.3f}  units {s['neuron']['neurons']}",
        *controls_lines(s["controls"]),
        *(["notes:"] + [f"  - {note}" for note in s["notes"]] if s["notes"] else []),
        "timings (s): " + ", ".join(f"{k} {v:.2f}" for k, v in s["timings"].items()),
    ]
    return "\n".join(line for line in lines if line)


def controls_lines(ctl: dict) -> list[str]:
    """One line per control (vocabulary.CONTROLS): score, verdict, the numbers that go with it."""
    lines = ["controls (verdict; what a pass and a fail look like: the JSON's "
             "controls.expectations):",
             f"  {'no intervention':<34} {ctl['no_intervention_baseline']:.3f}"]
    for c in CONTROLS:
        details = ", ".join(f"{name} {ctl[name]:.3f}" for name in c.details)
        if ctl["verdicts"][c.key] == "n/a" and ctl[c.column] != ctl[c.column]:  # NaN score
            lines.append(f"  {c.label:<34} {NOT_APPLICABLE}")
            continue
        lines.append((f"  {c.label:<34} {ctl[c.column]:.3f}  {ctl['verdicts'][c.key]:<11}"
                      + (f" ({details})" if details else "")).rstrip())
    return lines


def cmd_run(args: argparse.Namespace) -> int:
    from explorer.methods.experiment import run
    from explorer.store import checkpoints

    cfg = run_config(args)
    if args.seeds is not None:
        return cmd_run_seeds(args, cfg)
    output_path(args.json, "--json")
    output_path(args.checkpoint, "--checkpoint")
    result = run(cfg, ProgressBar(not args.quiet))
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result.summary(), indent=2, sort_keys=True))
    if args.checkpoint:
        checkpoints.save(args.checkpoint, result.model, cfg, {"task_accuracy": result.task_accuracy})
    return 0


def cmd_run_seeds(args: argparse.Namespace, cfg: RunConfig) -> int:
    """`run --seeds 0,1,2`: every seed's run, batched (explorer.runs.seeds)."""
    from explorer.runs.seeds import check_seeds, parse_seeds, run_seeds, seeds_report

    seeds = parse_seeds(args.seeds)
    if args.seed is not None:
        raise ArgError("--seed: give --seed or --seeds, not both")
    if args.checkpoint is not None:
        raise ArgError("--checkpoint: saves one model; not with --seeds")
    check_seeds(cfg, seeds)
    output_path(args.json, "--json")
    result = run_seeds(cfg, seeds, ProgressBar(not args.quiet))
    print(seeds_report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result.summary(), indent=2, sort_keys=True))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from explorer.core.train import heldout_examples, recipe_for, task_accuracy, train_model
    from explorer.store import checkpoints

    cfg = config_from_args(args)
    output_path(args.out, "--out")
    model, _ = train_model(cfg, ProgressBar(not args.quiet))
    acc = task_accuracy(model, heldout_examples(cfg))
    recipe = recipe_for(cfg)
    checkpoints.save(args.out, model, cfg, {"task_accuracy": acc},
                     {"recipe": {"lr": recipe.lr, "steps": recipe.steps}})
    print(f"task accuracy {acc:.4f}; saved {args.out}")
    return 0


def cmd_plant(args: argparse.Namespace) -> int:
    from explorer.runs.plant_methods import METHODS
    from explorer.runs.planting import (PLANT_DEFAULTS, WRONG, PlantSettings, plant_and_recover,
                                        plant_report, save_planted)

    if args.shipped_grid:
        from explorer.runs.planted_grid import OUT, ship
        check_workers(args.workers)
        table = ship(progress=ProgressBar(not args.quiet), workers=args.workers)
        print(f"{len(table)} rows in {OUT / 'planted.csv'}; checkpoints in {OUT / 'models'}")
        return 0
    fill_defaults(args, PLANT_DEFAULTS)  # where plant's defaults differ from run's
    cfg = config_from_args(args)
    output_path(args.json, "--json")
    output_path(args.checkpoint, "--checkpoint")
    try:
        methods = _parse_list(args.methods, "methods", str, METHODS) or METHODS
        wrong = () if args.wrong == "none" else _parse_list(args.wrong, "wrong", str, WRONG)
        settings = PlantSettings(form=args.form, iit_weight=args.iit_weight,
                                 plant_seed=args.plant_seed, map_width=cfg.das.map_width,
                                 methods=methods, wrong=wrong or WRONG).check()
        if args.workers < 1:
            raise ValueError(f"--workers: must be at least 1 (got {args.workers})")
        result = plant_and_recover(cfg, settings, ProgressBar(not args.quiet), args.workers)
    except ValueError as err:
        if isinstance(err, ConfigError):
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(plant_report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result.summary(), indent=2, sort_keys=True))
    if args.checkpoint:
        save_planted(args.checkpoint, result)
    return 0


def cmd_complexity(args: argparse.Namespace) -> int:
    from explorer.analysis.court import COURT_MAPS
    from explorer.runs import complexity
    from explorer.runs.planting import load_planted

    check_workers(args.workers)
    if args.shipped_grid:
        from explorer.runs.complexity_grid import OUT, ship
        table = ship(progress=ProgressBar(not args.quiet), workers=args.workers)
        print(f"{len(table)} rows in {OUT}")
        return 0
    cfg = config_from_args(args)
    output_path(args.json, "--json")
    output_path(args.csv, "--csv")
    widths = _parse_list(args.widths, "widths", int)
    if widths and not all(1 <= w <= 64 for w in widths):
        raise ArgError(f"--widths: each must be between 1 and 64 (got {list(widths)})")
    sites = _parse_list(args.sites, "sites", int)
    if sites and not all(0 <= s <= cfg.model.layers for s in sites):
        raise ArgError(f"--sites: each must be between 0 and {cfg.model.layers} (got {list(sites)})")
    if args.court and args.court not in COURT_MAPS:
        raise ArgError(f"--court: must be one of {', '.join(COURT_MAPS)} (got {echo(args.court)})")
    given = {k: v for k, v in vars(args).items() if k in flat_field_types() and v is not None}
    coerced = RunConfig.from_flat(given).to_flat()
    settings = complexity.settings_with({k: coerced[k] for k in given}, widths)
    planted = None
    if args.planted:
        try:
            planted = load_planted(args.planted)[0]
        except (OSError, ValueError) as err:
            raise ArgError(f"--planted: {err}") from None
    sweep, court, info = complexity.run(cfg, settings, planted, sites, args.court,
                                        ProgressBar(not args.quiet), args.workers)
    print(complexity.report(sweep, court))
    if args.json:
        Path(args.json).write_text(json.dumps(complexity.summary(cfg, settings, sweep, court, info),
                                              indent=2, sort_keys=True, default=str))
    if args.csv:
        sweep.frame.to_csv(args.csv, index=False)
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from explorer.runs.sweep import parse_grid, plan, sweep

    base = config_from_args(args)
    check_workers(args.workers)
    out = output_path(args.out, "--out")
    models = out.with_name(out.stem + "-models")
    if models.exists() and not models.is_dir():
        raise ArgError(f"--out: the model folder {echo(str(models))} is a file")
    try:
        points = plan(parse_grid(args.grid), base)
    except ValueError as err:
        raise ArgError(str(err)) from None
    table = sweep(points, out, workers=args.workers, backend=args.backend,
                  address=args.address, progress=ProgressBar(not args.quiet))
    print(f"{len(table)} rows in {out}")
    return 0


def cmd_pretrain(args: argparse.Namespace) -> int:
    from explorer.runs.pretrain import QUICK, PretrainGrid, pretrain

    check_workers(args.workers)
    grid = QUICK if args.quick else PretrainGrid()
    results = pretrain(args.out, grid, workers=args.workers, progress=ProgressBar(not args.quiet))
    print(f"{len(results)} result rows and {len(list(Path(args.out, 'models').glob('*.safetensors')))}"
          f" checkpoints in {args.out}/")
    return 0


def _parse_list(text: str | None, name: str, cast, allowed=None) -> tuple | None:
    """'relu,sigmoid' -> ('relu', 'sigmoid'); raises ValueError naming the flag."""
    if text is None:
        return None
    try:
        values = tuple(cast(v.strip()) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"--{name}: expected a comma-separated list (got {text!r})") from None
    bad = [v for v in values if (allowed and v not in allowed) or (cast is int and v < 0)]
    if not values or bad:
        what = f"one or more of {', '.join(allowed)}" if allowed else "non-negative integers"
        raise ValueError(f"--{name}: must be {what} (got {text!r})")
    return values


STUDY_PARTS = ("main", "budget")  # the per-model parts; search success against budget


def cmd_study(args: argparse.Namespace) -> int:
    from explorer.core.config import ACTIVATIONS
    from explorer.study.run import QUICK, QUICK_BUDGET, budget_study, quick_grid, study
    from explorer.study.budget import BudgetGrid
    from explorer.study.measure import StudyGrid

    try:
        if args.workers < 1:
            raise ValueError(f"--workers: must be at least 1 (got {args.workers})")
        activations = _parse_list(args.activations, "activations", str, ACTIVATIONS)
        seeds = _parse_list(args.seeds, "seeds", int)
        parts = _parse_list(args.parts, "parts", str, STUDY_PARTS)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    bar, rows, tables = ProgressBar(not args.quiet), 0, 0
    if "main" in parts:
        grid = quick_grid(QUICK if args.quick else StudyGrid(), activations, seeds)
        found = study(args.out, grid, model_dir=args.models, workers=args.workers,
                      progress=bar, force=args.force)
        rows, tables = sum(len(frame) for frame in found.values()), len(found)
    if "budget" in parts:
        grid = quick_grid(QUICK_BUDGET if args.quick else BudgetGrid(), activations, seeds)
        frame = budget_study(args.out, grid, model_dir=args.models, workers=args.workers,
                             progress=ProgressBar(not args.quiet), force=args.force)
        rows, tables = rows + len(frame), tables + 1
    print(f"{rows} rows in {tables} tables in {args.out}/")
    return 0


def cmd_findings(args: argparse.Namespace) -> int:
    """The Findings page's sections (explorer.study.sections) as text, under their questions'
    headings: pandas only."""
    from explorer.store.tables import load
    from explorer.study.sections import QUESTIONS, SECTIONS, missing

    data = load(Path(args.results), Path(args.study))
    shown = [s for s in SECTIONS if s.available(data)]
    for i, section in enumerate(shown):
        if i == 0 or shown[i - 1].question != section.question:
            question = QUESTIONS[section.question - 1]
            print(f"# {question.number}. {question.title}\n")
        print(f"## {section.title}\n{section.reading(data)}\n")
    for what in missing(data):
        print(f"no {what} data: run `{paths.REGENERATE[what]}`", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m explorer", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="train, DAS, neuron-wise search and controls; print a report")
    add_config_flags(p_run)
    p_run.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    p_run.add_argument("--checkpoint", metavar="PATH", help="save the trained model (safetensors)")
    p_run.add_argument("--quiet", action="store_true", help="no progress bar")
    p_run.add_argument("--seeds", metavar="S1,S2", default=None,
                       help="run every seed (at most 20), batched; JSON {\"runs\": [...]}")
    p_run.set_defaults(func=cmd_run)
    p_train = sub.add_parser("train", help="train one model and save a checkpoint")
    add_config_flags(p_train)
    p_train.add_argument("--out", required=True, metavar="PATH")
    p_train.add_argument("--quiet", action="store_true")
    p_train.set_defaults(func=cmd_train)
    p_plant = sub.add_parser("plant", help="train a network with V1, V2 planted at --site in "
                             "--k dims each (IIT), then recover the plant with every method",
                             description="Defaults as for run, except --site 1 and --das-steps "
                             "300; the planting recipe (steps, lr) is per activation unless "
                             "--train-steps / --train-lr are given.")
    add_config_flags(p_plant)
    p_plant.add_argument("--form", choices=("localist", "rotated", "none"), default="rotated")
    p_plant.add_argument("--iit-weight", type=float, default=2.0,
                         help="weight of the interchange loss beside the task loss [2.0]")
    p_plant.add_argument("--plant-seed", type=int, default=None,
                         help="seed of the planted units or rotation [the config's seed]")
    p_plant.add_argument("--methods", default=None, metavar="M1,M2",
                         help="neuron,orthogonal,linear,boundless,revnet [all]")
    p_plant.add_argument("--wrong", default="left,identity", metavar="H1,H2",
                         help="other hypotheses scored on the planted net, or 'none'")
    p_plant.add_argument("--workers", type=int, default=2, help="methods run at once (threads)")
    p_plant.add_argument("--json", metavar="PATH", help="write the report as JSON")
    p_plant.add_argument("--checkpoint", metavar="PATH",
                         help="save the planted network and its plant (safetensors + JSON)")
    p_plant.add_argument("--shipped-grid", action="store_true",
                         help="the shipped planted grid (relu, sigmoid, tanh x localist, rotated "
                         "x seeds 0-4 at 3x16, site 1, k=4, with DAS budget curves) into "
                         "pretrained/planted; --workers networks at once; other flags ignored")
    p_plant.add_argument("--quiet", action="store_true", help="no progress bar")
    p_plant.set_defaults(func=cmd_plant)
    p_cx = sub.add_parser("complexity", help="IIA against map complexity (orthogonal, linear, "
                          "RevNet h=1..16) at every site, trained vs control (vs planted) network",
                          description="Maps are fitted on pairs of one half of the entities and "
                          "tested on the other half. The DAS budget flags set the sweep's own "
                          "budget (defaults: explorer.analysis.complexity.DialSettings).")
    add_config_flags(p_cx)
    p_cx.add_argument("--widths", default=None, metavar="H1,H2", help="RevNet widths [1,2,4,8,16]")
    p_cx.add_argument("--sites", default=None, metavar="S1,S2", help="sites [all]")
    p_cx.add_argument("--planted", default=None, metavar="PATH",
                      help="a planted checkpoint (plant --checkpoint): a third line")
    p_cx.add_argument("--court", default=None, metavar="MAP",
                      help="also the hypothesis court for this map (e.g. orthogonal, 'revnet h=8')")
    p_cx.add_argument("--workers", type=int, default=2, help="fits at once (threads)")
    p_cx.add_argument("--json", metavar="PATH", help="write the rows and settings as JSON")
    p_cx.add_argument("--csv", metavar="PATH", help="write the rows as CSV")
    p_cx.add_argument("--shipped-grid", action="store_true",
                      help="the sweep for every shipped width-16 model (relu, sigmoid, tanh, "
                      "gelu x seeds 0-4) into pretrained/complexity.csv; other flags ignored")
    p_cx.add_argument("--quiet", action="store_true", help="no progress bar")
    p_cx.set_defaults(func=cmd_complexity)
    p_sweep = sub.add_parser("sweep", help="measure methods over a grid; resumable CSV")
    add_config_flags(p_sweep)
    p_sweep.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                         help="a config field (or 'method': das,neuron) and its values; repeat")
    p_sweep.add_argument("--out", required=True, metavar="CSV")
    p_sweep.add_argument("--workers", type=int, default=1, help="local worker processes")
    p_sweep.add_argument("--backend", choices=("local", "ray"), default="local")
    p_sweep.add_argument("--address", default=None, help="Ray cluster address (with --backend ray)")
    p_sweep.add_argument("--quiet", action="store_true")
    p_sweep.set_defaults(func=cmd_sweep)
    p_pre = sub.add_parser("pretrain", help="regenerate pretrained/ (checkpoints and results)")
    p_pre.add_argument("--out", default="pretrained")
    p_pre.add_argument("--workers", type=int, default=2)
    p_pre.add_argument("--quick", action="store_true", help="one ReLU model, k = 8 only")
    p_pre.add_argument("--quiet", action="store_true")
    p_pre.set_defaults(func=cmd_pretrain)
    p_study = sub.add_parser("study", help="the findings study (search success, oracles, "
                             "angles, probes, maps); resumable CSVs")
    p_study.add_argument("--out", default=str(paths.STUDY))
    p_study.add_argument("--parts", default=",".join(STUDY_PARTS), metavar="P1,P2",
                         help="main (probes, search, oracles, ...: one unit per model) and/or "
                         "budget (search success against budget at the input)")
    p_study.add_argument("--models", default=str(paths.MODELS),
                         help="checkpoint folder (models missing there are trained into it)")
    p_study.add_argument("--workers", type=int, default=2)
    p_study.add_argument("--quick", action="store_true",
                         help="ReLU and sigmoid, seeds 0-1, k = 8, short DAS")
    p_study.add_argument("--activations", default=None, metavar="A1,A2")
    p_study.add_argument("--seeds", default=None, metavar="S1,S2")
    p_study.add_argument("--force", action="store_true", help="recompute everything")
    p_study.add_argument("--quiet", action="store_true")
    p_study.set_defaults(func=cmd_study)
    p_find = sub.add_parser("findings", help="print the Findings readings from the shipped CSVs")
    p_find.add_argument("--results", default=str(paths.RESULTS))
    p_find.add_argument("--study", default=str(paths.STUDY))
    p_find.set_defaults(func=cmd_findings)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command != "findings":  # findings reads CSVs with pandas: no torch to import
        from explorer.core.rng import fix_threads

        fix_threads()
    try:
        return args.func(args)
    except ConfigError as err:
        print(f"error: {flag(err.field)}: {err.message}", file=sys.stderr)
        return 2
    except ArgError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
