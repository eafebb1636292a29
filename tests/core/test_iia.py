"""core.iia: the IIA report, checked by hand, and the no-intervention identity."""

import pytest
import torch

from explorer.core.config import RunConfig
from explorer.core.iia import SiteData, evaluate, intervened_logits, report
from explorer.core.interventions import block_mask
from explorer.core.pairs import pair_set
from explorer.core.rng import generator
from explorer.core.train import new_model


def _data(cf, base_label, base_pred, kind):
    n = len(cf)
    return SiteData(0, torch.zeros(n, 2), torch.zeros(n, 1, 2), torch.ones(n, 1, dtype=torch.bool),
                    torch.tensor(kind), ("V1", "V2"), torch.tensor(cf), torch.tensor(base_label),
                    torch.tensor(base_pred), torch.zeros(n, 1, dtype=torch.bool))


def test_report_by_hand():
    data = _data(cf=[True, True, False, False], base_label=[True, False, False, True],
                 base_pred=[True, True, True, True], kind=[0, 0, 1, 1])
    got = report(torch.tensor([True, False, False, True]), data)
    assert got.iia == 0.5 and got.n == 4
    assert got.by_type == {"V1": 0.5, "V2": 0.5}
    assert got.changed == 0.0  # pairs 1 and 3 change the label; both predicted wrong
    assert got.baseline == 0.5  # base predictions True vs labels T, T, F, F
    row = got.row()
    assert row == {"iia": 0.5, "iia_label_changed": 0.0, "iia_V1": 0.5, "iia_V2": 0.5,
                   "no_intervention_baseline": 0.5}
    assert got.row("das_")["das_iia"] == 0.5


def test_an_empty_mask_scores_the_no_intervention_baseline():
    cfg = RunConfig().with_values(n_test_pairs=256, n_train_pairs=64, n_val_pairs=64,
                                  n_search_pairs=64)
    model = new_model(cfg).eval().requires_grad_(False)
    test = pair_set(model, cfg).test
    none = torch.zeros(2, test.base_h.shape[-1])
    result = evaluate(model, test, none)
    assert result.iia == pytest.approx(result.baseline)
    q = torch.linalg.qr(torch.randn(16, 16, generator=generator(0, "q"))).Q
    mask = block_mask(8, 2, 16)
    assert torch.allclose(intervened_logits(model, test, mask, q, q.T),
                          intervened_logits(model, test, mask, q), atol=1e-5)
