"""Where shipped data lives, and the one command that regenerates each part. Paths are
absolute (from the package's location), so every command works from any directory."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRETRAINED = ROOT / "pretrained"
MODELS = PRETRAINED / "models"
RESULTS = PRETRAINED / "results.csv"
ROTATIONS = PRETRAINED / "rotations.safetensors"
STUDY = PRETRAINED / "study"
COMPLEXITY = PRETRAINED / "complexity.csv"
PLANTED = PRETRAINED / "planted"  # planted.csv and models/

PRETRAIN_COMMAND = "python -m explorer pretrain"
STUDY_COMMAND = "python -m explorer study --out pretrained/study --workers 2"
BUDGET_COMMAND = "python -m explorer study --parts budget --out pretrained/study --workers 2"
COMPLEXITY_COMMAND = "python -m explorer complexity --shipped-grid"
PLANTED_COMMAND = "python -m explorer plant --shipped-grid --workers 2"
REGENERATE = {"results": PRETRAIN_COMMAND, "study": STUDY_COMMAND, "budget": BUDGET_COMMAND,
              "complexity": COMPLEXITY_COMMAND, "planted": PLANTED_COMMAND}
# shipped tables outside the study folder, by part name (`explorer.store.tables.load`)
TABLES = {"complexity": COMPLEXITY, "planted": PLANTED / "planted.csv"}
