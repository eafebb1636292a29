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
import sys

from explorer.cli import experiments, grids, ground_truth
from explorer.cli.common import ArgError, flag, output_path  # noqa: F401  (the package's API)
from explorer.cli.experiments import run_config  # noqa: F401
from explorer.core.config import ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m explorer", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for family in (experiments, ground_truth, grids):  # in the order of `-h`
        family.add_commands(sub)
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
