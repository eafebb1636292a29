"""The whole experiment's scheduling: the control networks run beside training and beside
the alignment that follows it, which changes neither a number nor the bar's direction."""

import torch

from explorer.core.config import tiny
from explorer.core.train import train_model
from explorer.methods.experiment import align, network_controls, run

CFG = tiny(train_steps=200, das_steps=60, das_patience=30, n_search_pairs=128)


def test_the_overlapped_run_equals_its_phases_one_after_another():
    """Oracle: train, the control networks, then the alignment, each run alone in this
    thread; the scheduled run must give the same numbers bit for bit."""
    overlapped = run(CFG)
    model, _ = train_model(CFG)
    alone = align(model, CFG, networks=network_controls(CFG))
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, overlapped.model.state_dict()[name]), name
    assert overlapped.das.test.iia == alone.das.test.iia
    assert torch.equal(overlapped.das.map, alone.das.map)
    assert overlapped.neuron.subsets == alone.neuron.subsets
    assert overlapped.neuron.test.iia == alone.neuron.test.iia
    assert overlapped.controls.untrained.das.iia == alone.controls.untrained.das.iia
    assert (overlapped.controls.random_features.das.iia
            == alone.controls.random_features.das.iia)
    assert overlapped.controls.random_rotation == alone.controls.random_rotation


def test_the_bar_never_goes_backwards_while_the_control_networks_report_beside_it():
    seen: list[tuple[float, str]] = []
    run(CFG, lambda frac, msg: seen.append((frac, msg)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    messages = " ".join(m for _, m in seen)
    for phase in ("training step", "untrained control", "random-features control", "DAS"):
        assert phase in messages, phase
    assert not any(m.startswith("alignment ·") for _, m in seen)  # its parts name themselves
