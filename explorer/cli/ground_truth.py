"""plant and complexity: ground truth planted by interchange intervention training, and
the complexity dial (how much of an alignment the map itself supplies)."""

from __future__ import annotations

import argparse
import sys

from explorer.cli.common import (ArgError, ProgressBar, add_config_flags, check_workers,
                                 config_from_args, fill_defaults, output_path, parse_list,
                                 write_json)
from explorer.core.config import ConfigError, RunConfig, echo, flat_field_types


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
        methods = parse_list(args.methods, "methods", str, METHODS) or METHODS
        wrong = () if args.wrong == "none" else parse_list(args.wrong, "wrong", str, WRONG)
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
        write_json(args.json, result.summary())
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
    widths = parse_list(args.widths, "widths", int)
    if widths and not all(1 <= w <= 64 for w in widths):
        raise ArgError(f"--widths: each must be between 1 and 64 (got {list(widths)})")
    sites = parse_list(args.sites, "sites", int)
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
        write_json(args.json, complexity.summary(cfg, settings, sweep, court, info), default=str)
    if args.csv:
        sweep.frame.to_csv(args.csv, index=False)
    return 0


def add_commands(sub) -> None:
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
