"""The run report's readings in words (explorer.methods.report.notes): each fires on the case
it describes and stays quiet otherwise."""

from types import SimpleNamespace

from explorer.core.config import RunConfig
from explorer.core.iia import IIA
from explorer.methods.controls import Controls, NetworkControl, OutputSpread
from explorer.methods.report import notes


def _iia(value: float) -> IIA:
    return IIA(value, {}, value, 0.5, 1000)


def _controls(untrained_rate: float = 0.6) -> Controls:
    net = NetworkControl(_iia(0.5), OutputSpread(1.0, untrained_rate), 0.6)
    features = NetworkControl(_iia(0.5), OutputSpread(1.0, 0.5), 0.6)
    return Controls(net, features, (0.5, 0.51, 0.49), _iia(0.9), _iia(0.5), _iia(0.5),
                    _iia(1.0))


def _run(das_iia: float, neuron_iia: float, converged: bool = True):
    das = SimpleNamespace(test=_iia(das_iia), converged=converged, steps_used=1000)
    return das, SimpleNamespace(test=_iia(neuron_iia))


def test_a_converged_das_above_the_neuron_wise_subsets_needs_no_note():
    das, neuron = _run(0.9, 0.85)
    assert notes(RunConfig(), das, neuron, _controls(), 1.0) == []


def test_das_below_the_neuron_wise_subsets_is_called_a_search_miss_with_its_fix():
    das, neuron = _run(0.80, 0.85)
    [note] = notes(RunConfig().with_values(das_init="random"), das, neuron, _controls(), 1.0)
    assert "search miss" in note and "das_init = neuron" in note
    [note] = notes(RunConfig(), das, neuron, _controls(), 1.0)  # started there already
    assert "search miss" in note and "n_val_pairs" in note
    assert notes(RunConfig(), *_run(0.845, 0.85), _controls(), 1.0) == []  # within 0.01


def test_not_converged_and_vacuous_controls_are_said_in_words():
    das, neuron = _run(0.9, 0.85, converged=False)
    found = notes(RunConfig(), das, neuron, _controls(untrained_rate=1.0), 1.0)
    assert len(found) == 2
    assert "did not converge" in found[0] and "1000 steps" in found[0]
    assert "vacuous" in found[1] and "100.0%" in found[1]


def test_a_failed_control_is_named_with_what_its_fail_means():
    das, neuron = _run(0.9, 0.85)
    broken = _controls()
    broken = Controls(broken.untrained, broken.random_features, broken.random_rotation,
                      broken.closest_permutation, _iia(0.88), broken.full_layer,
                      broken.full_layer_source_label)
    [note] = notes(RunConfig(), das, neuron, broken, 1.0)
    assert note.startswith("Control failed, cross-variable swap")
