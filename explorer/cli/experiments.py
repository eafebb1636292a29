"""run (one seed or several), train: the experiment itself, and its text report."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from explorer.cli.common import (ArgError, ProgressBar, add_config_flags, config_from_args,
                                 fill_defaults, output_path, write_json)
from explorer.core.config import REVNET_BUDGET, RunConfig
from explorer.core.vocabulary import CONTROLS, NOT_APPLICABLE

if TYPE_CHECKING:
    from explorer.methods.experiment import RunResult


def run_config(args: argparse.Namespace) -> RunConfig:
    """run's config: with `--map revnet`, the RevNet map's own budget (REVNET_BUDGET) for
    the DAS flags not given."""
    if args.map == "revnet":
        fill_defaults(args, REVNET_BUDGET)
    return config_from_args(args)


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
        write_json(args.json, result.summary())
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
        write_json(args.json, result.summary())
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


def add_commands(sub) -> None:
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
