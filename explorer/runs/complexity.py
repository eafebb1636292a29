"""`python -m explorer complexity`: one model's IIA against map complexity at every site,
beside the random-features control network and (given a checkpoint) a planted network
(`explorer.analysis.complexity`), and optionally the hypothesis court for one map
(`explorer.analysis.court`). The model is the shipped checkpoint of the config when there is
one, else trained with the config's recipe."""

from __future__ import annotations

import time

from explorer.analysis.complexity import DialSettings, Sweep, complexity_sweep, map_order
from explorer.analysis.court import Court, hypothesis_court
from explorer.core.config import RunConfig, validate
from explorer.core.models import MLP
from explorer.core.progress import Progress, scaled_progress
from explorer.core.train import train_model
from explorer.methods.steps import random_features_model
from explorer.store import shipped

# DAS fields a user may set for the sweep (its budget); the rest of DialSettings is fixed
BUDGET_FIELDS = ("das_steps", "das_patience", "das_lr", "das_batch_size", "restarts",
                 "n_train_pairs", "n_val_pairs", "n_test_pairs")


def trained_model(cfg: RunConfig, progress: Progress | None = None) -> tuple[MLP, str]:
    """(model, where it came from): the shipped checkpoint of cfg, or trained now."""
    found = shipped.find(cfg)
    if found is not None:
        return found.load()[0], f"shipped checkpoint {found.path.name}"
    return train_model(cfg, progress)[0], "trained with the config's recipe"


def networks_for(cfg: RunConfig, model: MLP, planted: MLP | None = None) -> dict[str, MLP]:
    """The chart's lines: trained, the random-features control (methods.experiment), planted."""
    nets = {"trained": model, "control": random_features_model(cfg)}
    if planted is not None:
        nets["planted"] = planted
    return nets


def settings_with(given: dict, widths: tuple[int, ...] | None = None) -> DialSettings:
    """DialSettings with the budget fields given on the command line."""
    values = {k: v for k, v in given.items() if k in BUDGET_FIELDS}
    out = DialSettings(**values)
    return out if widths is None else DialSettings(**{**out.__dict__, "widths": widths})


def run(cfg: RunConfig, settings: DialSettings, planted: MLP | None = None,
        sites: tuple[int, ...] | None = None, court_map: str | None = None,
        progress: Progress | None = None, workers: int = 2) -> tuple[Sweep, Court | None, dict]:
    """The sweep (and the court for `court_map`); also returns a small info dict."""
    validate(settings.config(cfg))
    start = time.perf_counter()
    model, source = trained_model(cfg, scaled_progress(progress, 0.0, 0.2))
    nets = networks_for(cfg, model, planted)
    sweep = complexity_sweep(nets, cfg, settings, sites,
                             progress=scaled_progress(progress, 0.2, 0.7 if court_map else 1.0),
                             workers=workers)
    court = None if court_map is None else hypothesis_court(
        {k: nets[k] for k in ("trained", "control")}, cfg, court_map, settings, sites=sites,
        progress=scaled_progress(progress, 0.7, 1.0), workers=workers)
    info = {"model_source": source, "total_seconds": round(time.perf_counter() - start, 3)}
    return sweep, court, info


def summary(cfg: RunConfig, settings: DialSettings, sweep: Sweep, court: Court | None,
            info: dict) -> dict:
    """The JSON report."""
    out = {"config": cfg.to_flat(), "settings": dict(settings.__dict__),
           "maps": map_order(settings.widths), "note": sweep.note,
           "entity_overlap": sweep.entity_overlap, "sweep_seconds": sweep.seconds,
           "rows": sweep.frame.to_dict("records"), **info}
    if court is not None:
        out["court"] = {"map": str(court.frame["map"].iloc[0]), "reading": court.reading,
                        "rows": court.frame.to_dict("records")}
    return out


def report(sweep: Sweep, court: Court | None) -> str:
    """The command's text: IIA per network and site (rows) against the map (columns)."""
    f = sweep.frame
    table = f.pivot_table(index=["network", "site"], columns="map", values="iia")
    table = table[[m for m in map_order() if m in table.columns] +
                  [m for m in table.columns if m not in map_order()]]
    lines = [f"IIA against map complexity ({f.hypothesis.iloc[0]}, k={f.k.iloc[0]}); "
             f"{sweep.note}; test entities seen in fitting: {sweep.entity_overlap}",
             table.round(3).to_string(), f"sweep: {sweep.seconds:.1f} s"]
    if court is not None:
        lines += [f"hypothesis court ({court.frame['map'].iloc[0]} map): {court.reading}",
                  court.frame.pivot_table(index=["network", "site"], columns="hypothesis",
                                          values="iia").round(3).to_string()]
    return "\n".join(lines)
