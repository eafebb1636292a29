"""Downloadable artefacts: results JSON/CSV, the learned map, the model checkpoint.
Serialisation only; the numbers come from the engine's result objects. Every file names
the configuration it describes (`stem`: no two configurations share a file name) and
carries the package versions and commit that made it (`explorer.store.provenance`)."""

from __future__ import annotations

import hashlib
import io
import json

import pandas as pd
from safetensors.torch import save as st_save

from app.stores import AlignmentRun, TrainedModel
from explorer.core.vocabulary import CONTROLS, map_noun
from explorer.methods.controls import verdicts
from explorer.store import checkpoints
from explorer.store import precomputed as shipped_table
from explorer.store.provenance import provenance
from explorer.core.config import RunConfig
from explorer.methods.experiment import RunResult


def map_name(cfg: RunConfig) -> str:
    """What DAS learned: 'rotation', 'linear map', 'RevNet map' (vocabulary.MAP_WORDS)."""
    return map_noun(cfg.das.map)


def stem(cfg: RunConfig, origin: str = "") -> str:
    """'explorer-relu-w16-l3-s0-site1-k8-both-orthogonal-<digest>': the fields one changes
    most, then a digest of the whole config (and an upload's origin), so files of two
    configurations never share a name."""
    m, das = cfg.model, cfg.das
    text = json.dumps(cfg.to_flat(), sort_keys=True) + origin
    digest = hashlib.blake2b(text.encode(), digest_size=4).hexdigest()
    return (f"explorer-{m.activation}-w{m.width}-l{m.layers}-s{cfg.seed}-site{das.site}"
            f"-k{das.k}-{das.hypothesis}-{das.map}-{digest}")


SHIPPED_COLUMNS = ("iia", "iia_label_changed", "iia_V1", "iia_V2", "iia_both",
                   "no_intervention_baseline")


def precomputed_rows(cfg: RunConfig, entry: TrainedModel,
                     run: AlignmentRun | None) -> pd.DataFrame:
    """Before any live run, the shipped table's rows for cfg (DAS and neuron-wise, with the
    controls it records) when they describe this model (not an upload); else none."""
    if run is not None or entry.origin:
        return pd.DataFrame()
    return shipped_table.results_for(cfg)


def results(cfg: RunConfig, entry: TrainedModel, run: AlignmentRun | None) -> dict:
    """The engine's JSON report (as `python -m explorer run --json` writes it) when DAS has
    run; otherwise the config, task accuracy and, on the shipped grid, the precomputed
    rows of pretrained/results.csv (what the DAS and Neuron-wise pages show)."""
    if run is not None:
        history = entry.history if entry.history is not None else pd.DataFrame()
        summary = RunResult(cfg, entry.model, history, entry.accuracy, run.das, run.neuron,
                            run.controls, {"alignment": run.seconds}).summary()
    else:
        summary = {"config": cfg.to_flat(), "task_accuracy": entry.task_accuracy,
                   "accuracy_by_pattern": dict(zip(entry.accuracy.pattern,
                                                   entry.accuracy.accuracy))}
    shipped = precomputed_rows(cfg, entry, run)
    if len(shipped):
        summary["precomputed"] = {"source": "pretrained/results.csv",
                                  "rows": [_plain(r) for r in shipped.to_dict("records")]}
    return {**summary, "model_source": entry.source, "provenance": provenance()}


def _plain(row: dict) -> dict:
    """A table row as JSON values: numpy scalars as Python ones, a missing value as null."""
    values = {k: v.item() if hasattr(v, "item") else v for k, v in row.items()}
    return {k: None if isinstance(v, float) and v != v else v for k, v in values.items()}


def results_json(report: dict) -> str:
    return json.dumps(report, indent=2, default=str)


def results_table(cfg: RunConfig, entry: TrainedModel, run: AlignmentRun | None) -> pd.DataFrame:
    """One row per measurement: the task accuracy per input pattern, then (after DAS) DAS,
    the neuron-wise search and each control of `vocabulary.CONTROLS` (its score, verdict,
    details and, where the control has one, its full IIA report: `IIA.row`'s columns and n);
    every row also carries the config, the model's source and the provenance."""
    rows = [{"result": "task accuracy", "kind": "task", "pattern": p, "accuracy": a, "n": n}
            for p, a, n in zip(entry.accuracy.pattern, entry.accuracy.accuracy, entry.accuracy.n)]
    if run is not None:
        rows += [{"result": name, "kind": "alignment", "score": iia.iia, **iia.row(), "n": iia.n}
                 for name, iia in (("das", run.das.test), ("neuron", run.neuron.test))]
        scores = run.controls.columns()
        verdict = verdicts(run.controls, run.das.test.iia, entry.task_accuracy)
        for control in CONTROLS:
            iia = run.controls.iia_of(control.key)
            rows.append({"result": control.key, "kind": "control", "label": control.label,
                         "score": scores.get(control.column), "verdict": verdict.get(control.key),
                         **({**iia.row(), "n": iia.n} if iia is not None else {}),
                         **{name: scores[name] for name in control.details if name in scores}})
    for row in precomputed_rows(cfg, entry, run).itertuples():  # before a run, on the grid
        rows.append({"result": row.method, "kind": "alignment (precomputed)", "score": row.iia,
                     **{name: getattr(row, name) for name in SHIPPED_COLUMNS
                        if hasattr(row, name)}})
    extra = {**cfg.to_flat(), "model_source": entry.source,
             **{f"version_{k}": v for k, v in provenance().items()}}
    return pd.DataFrame(rows).assign(**extra)


def results_csv(cfg: RunConfig, entry: TrainedModel, run: AlignmentRun | None) -> str:
    return results_table(cfg, entry, run).to_csv(index=False)


def is_matrix(run: AlignmentRun) -> bool:
    """Whether the learned map is a matrix (a RevNet map is not: no CSV of it)."""
    return hasattr(run.das.map, "numpy")


def rotation_csv(run: AlignmentRun) -> str:
    """R (d, d): row = unit, column = rotated coordinate (r = h @ R)."""
    frame = pd.DataFrame(run.das.map.numpy())
    frame.index.name = "unit"
    buffer = io.StringIO()
    frame.to_csv(buffer)
    return buffer.getvalue()


def rotation_safetensors(cfg: RunConfig, run: AlignmentRun) -> bytes:
    if is_matrix(run):
        tensors = {"rotation": run.das.map.contiguous(), "inverse": run.das.inverse.contiguous()}
    else:  # a RevNet map: its rotation and coupling tensors (it inverts itself)
        tensors = run.das.map.tensors()
    tensors["var_mask"] = run.das.var_mask.contiguous()
    meta = {"config": json.dumps(cfg.to_flat(), sort_keys=True), "map": cfg.das.map,
            "test_iia": json.dumps(run.das.test.as_dict()),
            "provenance": json.dumps(provenance(), sort_keys=True)}
    return st_save(tensors, metadata=meta)


def checkpoint(cfg: RunConfig, entry: TrainedModel) -> bytes:
    metrics = {"task_accuracy": entry.task_accuracy,
               "accuracy_by_pattern": dict(zip(entry.accuracy.pattern, entry.accuracy.accuracy))}
    return checkpoints.to_bytes(entry.model, entry.config, metrics,
                                extra={"source": entry.source, "provenance": provenance()})
