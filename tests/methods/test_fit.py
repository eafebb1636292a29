"""The shared fitting loop (explorer.methods.fit) through DAS: the best validation state is
kept (so a search started at an exact alignment never ends below it), the adaptive budget
stops on patience and records the steps used, and progress never goes backwards."""

import pytest
import torch

from explorer.core.handbuilt import equality_network, exact_units
from explorer.core.iia import evaluate
from explorer.core.interventions import block_mask
from explorer.core.pairs import pair_set
from explorer.core.rng import generator
from explorer.methods import fit as fit_module
from explorer.methods.das import train_das, units_permutation
from explorer.methods.steps import run_das, run_neuron
from explorer.methods.fit import MapState


def _das(model, cfg, first=None, progress=None):
    pairs = pair_set(model, cfg)
    return pairs, train_das(model, pairs.train, pairs.val, pairs.test, cfg.das.k, cfg.das,
                            generator(cfg.seed, "das"), progress, first=first)


def test_das_started_at_the_hand_built_exact_alignment_keeps_it(trained):
    """The hand-built network's layer-1 units are an exact alignment (IIA 1.0). Its loss is
    not IIA: trained from there DAS drifts (measured with the last step kept: 0.65), so the
    kept state must be the best validation one."""
    _, cfg, _ = trained
    model = equality_network(4)
    cfg = cfg.with_values(site=1, k=8, restarts=1, das_steps=300, n_test_pairs=1024)
    exact = units_permutation(exact_units(4), 16)
    pairs, das = _das(model, cfg, first=exact)
    start = evaluate(model, pairs.val, block_mask(8, 2, 16), exact).iia
    assert start == 1.0
    assert das.restarts.val_iia[0] >= start and das.test.iia == 1.0
    assert das.history.val_iia.min() < 0.9  # the drift the kept state is protected from


def test_das_started_at_the_input_coordinates_keeps_their_validation_iia(trained):
    """At the input the (a, b) | (c, d) coordinate blocks are exact (IIA = task accuracy).
    A large learning rate knocks DAS off them (measured, last step kept: 0.63)."""
    model, cfg, accuracy = trained
    cfg = cfg.with_values(site=0, k=8, restarts=1, das_lr=0.2, das_steps=300)
    pairs, das = _das(model, cfg, first=torch.eye(16))
    start = evaluate(model, pairs.val, block_mask(8, 2, 16), torch.eye(16)).iia
    assert das.restarts.val_iia[0] >= start
    assert das.test.iia >= accuracy - 0.02


def test_default_das_is_never_below_the_neuron_wise_subsets_on_validation(trained):
    """The default restarts include the neuron-wise start: the chosen restart's validation
    IIA is at least that of the neuron-wise alignment it could represent."""
    model, cfg, _ = trained
    cfg = cfg.with_values(das_init="neuron", site=1, k=8)
    pairs = pair_set(model, cfg)
    neuron = run_neuron(model, cfg, pairs)
    das = run_das(model, cfg, pairs, neuron=neuron)
    on_val = evaluate(model, pairs.val, neuron.var_mask).iia
    assert das.restarts.start[0] == "neuron"
    assert das.restarts.val_iia[das.best_restart] >= on_val
    assert das.test.iia >= neuron.test.iia - 0.02


def test_patience_stops_a_flat_search_and_records_the_steps_used(trained):
    """On the hand-built network started exactly (validation IIA 1.0 from step 0, nothing
    to gain), patience ends training after `das_patience` steps: converged, well under the
    cap. With a patience beyond the cap it runs the whole budget."""
    _, cfg, _ = trained
    model = equality_network(4)
    exact = units_permutation(exact_units(4), 16)
    cfg = cfg.with_values(site=1, k=8, restarts=1, das_steps=1000, das_patience=150,
                          n_test_pairs=512)
    _, das = _das(model, cfg, first=exact)
    assert das.converged and das.steps_used == 150
    assert das.history.step.max() == 150 and das.restarts.best_step[0] == 0
    _, full = _das(model, cfg.with_values(das_steps=200, das_patience=1000), first=exact)
    assert full.steps_used == 200 and not full.converged


def test_the_kept_state_is_the_best_validation_step_and_progress_only_rises(trained):
    model, cfg, _ = trained
    cfg = cfg.with_values(site=1, restarts=2, das_steps=200, das_patience=1000)
    seen = []
    pairs, das = _das(model, cfg, progress=lambda frac, message: seen.append(frac))
    assert seen == sorted(seen) and seen[-1] == 1.0
    for r in range(2):
        rows = das.history[das.history.restart == r]
        best = rows.val_iia.max()
        assert das.restarts.val_iia[r] == best
        assert das.restarts.best_step[r] == rows[rows.val_iia == best].step.max()  # later tie
        kept = evaluate(model, pairs.val, das.var_mask, das.maps[r]).iia
        assert kept == best  # the kept map is the one that scored it


class _Scripted:
    """A one-parameter family whose validation IIA is scripted (fit.iia_per_restart patched):
    the loop's bookkeeping on its own."""

    logged = ()

    def __init__(self):
        self.p = torch.nn.Parameter(torch.zeros(1))
        self.calls = 0

    def param_groups(self):
        return [{"params": [self.p], "lr": 0.1}]

    def loss(self, batch, step):
        return (self.p ** 2).expand(1) + 0.0, {}

    def state(self):
        self.calls += 1  # which evaluation this state belongs to
        return MapState(torch.eye(2).expand(1, 2, 2), torch.eye(2).expand(1, 2, 2),
                        torch.ones(1, 1, 2) * self.calls)

    def columns(self, step, state):
        return {}

    def score(self, val_iia, state):
        return val_iia


def test_patience_counts_a_gain_only_beyond_noise_and_the_kept_state_follows_every_record(
        trained, monkeypatch):
    """Validation IIA on 1000 pairs creeps up one pair per evaluation (noise-sized records):
    patience (100 steps = 2 evaluations) ends training although every record is kept; a
    jump of 10 pairs counts as a gain and resets it."""
    model, cfg, _ = trained
    val = pair_set(model, cfg).val.take(torch.arange(1000))
    script = {0: 0.5, 50: 0.501, 100: 0.502, 150: 0.503}
    def scripted(_, data, state):  # the state's mask holds its evaluation's number
        return torch.tensor([script[50 * (int(state.mask[0, 0, 0]) - 1)]])
    monkeypatch.setattr(fit_module, "iia_per_restart", scripted)
    fitted = fit_module.fit(model, _Scripted(), val, val, fit_module.Budget(1000, 8, 100),
                            generator(0, "s"))
    assert fitted.steps_used == 100 and fitted.converged
    assert fitted.best_val.item() == pytest.approx(0.502) and fitted.best_step.item() == 100
    script.update({100: 0.512, 150: 0.513, 200: 0.514, 250: 0.515})  # a real gain at step 100
    fitted = fit_module.fit(model, _Scripted(), val, val, fit_module.Budget(1000, 8, 100),
                            generator(0, "s"))
    assert fitted.steps_used == 200 and fitted.best_val.item() == pytest.approx(0.514)
