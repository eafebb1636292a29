"""The whole experiment's scheduling: the control networks are prepared beside training and
fitted with the trained network's DAS, which changes neither a number nor the bar's
direction."""

import pandas as pd
import torch

from explorer.core.config import tiny
from explorer.core.pairs import pair_set
from explorer.core.train import train_model
from explorer.methods.das import publisher
from explorer.methods.experiment import align, run
from explorer.methods.steps import (network_controls, prepare_controls, random_features_model,
                                    run_controls, run_das, run_neuron, untrained_model)

CFG = tiny(train_steps=200, das_steps=60, das_patience=30, n_search_pairs=128)


def test_the_overlapped_run_equals_its_phases_one_after_another():
    """Oracle: train, then each network's search and DAS, each run alone in this thread
    (`run_das`, one network at a time); the scheduled run, which prepares the control
    networks beside training and fits all three DAS in one batch, must give the same
    numbers bit for bit."""
    overlapped = run(CFG)
    model, _ = train_model(CFG)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, overlapped.model.state_dict()[name]), name
    pairs = pair_set(model, CFG)
    neuron = run_neuron(model, CFG, pairs)
    das = run_das(model, CFG, pairs, neuron=neuron)
    assert overlapped.das.test == das.test and torch.equal(overlapped.das.map, das.map)
    pd.testing.assert_frame_equal(overlapped.das.history, das.history)
    assert (overlapped.neuron.subsets, overlapped.neuron.test) == (neuron.subsets, neuron.test)
    for net, stream, got in ((untrained_model(CFG), "das-untrained", overlapped.controls.untrained),
                             (random_features_model(CFG), "das-random-features",
                              overlapped.controls.random_features)):
        alone = run_das(net, CFG, pair_set(net, CFG), stream)
        assert got.das == alone.test, stream
    controls = run_controls(model, CFG, pairs, das,
                            networks=(overlapped.controls.untrained,
                                      overlapped.controls.random_features))
    assert repr(overlapped.controls) == repr(controls)  # repr: NaN (no 'both' pairs) is NaN
    assert overlapped.das.steps_used == das.steps_used


def test_prepared_or_finished_control_networks_give_the_same_alignment():
    """align() fits prepared control networks with the trained network's DAS, or takes them
    finished: the same numbers either way, and the same as `network_controls`."""
    model, _ = train_model(CFG)
    finished = align(model, CFG, networks=network_controls(CFG))
    batched = align(model, CFG, networks=prepare_controls(CFG))
    assert repr(batched.controls) == repr(finished.controls)  # repr: NaN reads equal
    assert batched.das.test == finished.das.test
    assert torch.equal(batched.das.map, finished.das.map)


def test_the_live_view_of_a_batched_fit_is_the_trained_networks(trained):
    """In align(), the trained network's DAS is fitted in one batch with the control
    networks': `on_log` (das.publisher) still sees exactly its rows and its kept map."""
    model, cfg, _ = trained
    cfg = cfg.with_values(das_steps=200, das_init="neuron")
    frames = []
    found = align(model, cfg, networks=prepare_controls(cfg),
                  on_log=publisher(lambda frame, latest=None: frames.append(frame)))
    pd.testing.assert_frame_equal(pd.DataFrame([f for f in frames if "val_iia" in f]),
                                  found.das.history)
    maps = [f for f in frames if "map" in f]
    assert maps[-1]["restart"] == found.das.best_restart
    assert torch.equal(torch.from_numpy(maps[-1]["map"]), found.das.map)


def test_the_bar_never_goes_backwards_while_the_control_networks_report_beside_it():
    seen: list[tuple[float, str]] = []
    run(CFG, lambda frac, msg: seen.append((frac, msg)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    messages = " ".join(m for _, m in seen)
    for phase in ("training step", "untrained control", "random-features control",
                  "DAS (with its control networks) step"):  # one batch: named as such
        assert phase in messages, phase
    assert not any(m.startswith("alignment ·") for _, m in seen)  # its parts name themselves
