"""sweep, pretrain, study and findings: the grids behind the shipped data, and the
Findings readings as text."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from explorer.cli.common import (ArgError, ProgressBar, add_config_flags, check_workers,
                                 config_from_args, output_path, parse_list)
from explorer.core.config import echo
from explorer.store import paths


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


STUDY_PARTS = ("main", "budget")  # the per-model parts; search success against budget


def cmd_study(args: argparse.Namespace) -> int:
    from explorer.core.config import ACTIVATIONS
    from explorer.study.run import QUICK, QUICK_BUDGET, budget_study, quick_grid, study
    from explorer.study.budget import BudgetGrid
    from explorer.study.measure import StudyGrid

    try:
        if args.workers < 1:
            raise ValueError(f"--workers: must be at least 1 (got {args.workers})")
        activations = parse_list(args.activations, "activations", str, ACTIVATIONS)
        seeds = parse_list(args.seeds, "seeds", int)
        parts = parse_list(args.parts, "parts", str, STUDY_PARTS)
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


def add_commands(sub) -> None:
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
