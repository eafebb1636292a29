"""The JSON report of one run (`summary`), and what it says in words (`notes`): a search
that did not converge, DAS below the neuron-wise subsets, a vacuous or failed control, each
with the fix to try. The CLI report and the app's DAS page show the same notes."""

from __future__ import annotations

from explorer.core.config import RunConfig
from explorer.core.vocabulary import BY_KEY
from explorer.methods.controls import Controls, expectations, permutation_units, verdicts
from explorer.methods.das import DASResult
from explorer.methods.search import NeuronResult

BELOW = 0.01  # DAS IIA this far under the neuron-wise subsets' is a search miss


def notes(cfg: RunConfig, das: DASResult, neuron: NeuronResult, controls: Controls,
          task_accuracy: float) -> list[str]:
    """Plain-language readings that change what the numbers mean, each with its fix."""
    out, d = [], cfg.das
    if not das.converged:
        out.append(f"DAS did not converge: a restart's validation IIA was still improving "
                   f"when it stopped at the cap of {das.steps_used} steps (das_steps). Fix: "
                   "raise the DAS steps (a patience of "
                   f"{d.das_patience} steps without a gain ends it earlier).")
    if das.test.iia < neuron.test.iia - BELOW:
        fix = ("start restart 0 at the neuron-wise answer (das_init = neuron) or give DAS "
               "more steps" if d.das_init != "neuron" else
               "restart 0 started there and is kept on validation, so the gap is between "
               "validation and test pairs: more validation pairs (n_val_pairs) narrow it")
        out.append(f"DAS scored below the neuron-wise subsets ({das.test.iia:.3f} < "
                   f"{neuron.test.iia:.3f}). A permutation of units is a rotation DAS could "
                   f"have learned, so this is a search miss, not a finding. Fix: {fix}.")
    spread = controls.untrained.output
    if spread.constant:
        out.append(f"The untrained-network control is vacuous: the untrained network gives "
                   f"one class to {spread.majority_rate:.1%} of inputs (logit SD "
                   f"{spread.std:.3f}), so every swap scores the constant classifier's rate "
                   "and it cannot fail. Read the random-features control instead.")
    for key, verdict in verdicts(controls, das.test.iia, task_accuracy).items():
        if verdict == "fail":
            c = BY_KEY[key]
            out.append(f"Control failed, {c.label} ({c.question}): {c.fails}.")
    return out


def map_name(cfg: RunConfig) -> str:
    """The map family in words: 'orthogonal', 'linear', 'revnet (h=8)'."""
    d = cfg.das
    return f"revnet (h={d.map_width})" if d.map == "revnet" else d.map


def summary(cfg: RunConfig, task_accuracy: float, accuracy_by_pattern: dict, das: DASResult,
            neuron: NeuronResult, controls: Controls, timings: dict) -> dict:
    """The JSON report (`python -m explorer run --json`)."""
    return {
        "config": cfg.to_flat(),
        "task_accuracy": task_accuracy,
        "accuracy_by_pattern": accuracy_by_pattern,
        "das": {**das.test.as_dict(), "map": map_name(cfg), "map_family": cfg.das.map,
                "map_width": cfg.das.map_width if cfg.das.map == "revnet" else None,
                "best_restart": das.best_restart,
                "converged": das.converged, "steps_used": das.steps_used,
                "restarts": das.restarts.to_dict("records")},
        "neuron": {**neuron.test.as_dict(), "neurons": [list(s) for s in neuron.subsets],
                   "exhaustive": neuron.exhaustive},
        "controls": {
            **controls.columns(),
            "untrained_output_constant": controls.untrained.output.constant,
            "closest_permutation_units": permutation_units(das.map, das.var_mask),
            "no_intervention_baseline": das.test.baseline,
            "verdicts": verdicts(controls, das.test.iia, task_accuracy),
            "expectations": expectations(),
        },
        "notes": notes(cfg, das, neuron, controls, task_accuracy),
        "timings": dict(timings),
    }
