import torch

from explorer.core.causal import CAUSAL_MODELS


def _x(*entities):
    return torch.tensor([float(v) for v in entities]).view(1, 4)  # entity_dim 1


A, B, C, D = 1, 2, 3, 4


def test_both_equality_relations_by_hand():
    model = CAUSAL_MODELS["both"]
    base = _x(A, A, C, D)  # V1 true, V2 false -> y false
    assert model.run(base).tolist() == [False]
    src = torch.stack([_x(A, B, C, C), _x(B, B, D, D)], dim=1)  # V1 false / V2 true
    cases = {(True, False): True,  # V1 := False -> F == F
             (False, True): True,  # V2 := True -> T == T
             (True, True): False,  # V1 := F, V2 := T
             (False, False): False}
    for flags, expected in cases.items():
        label = model.counterfactual(base, src, torch.tensor([flags]))
        assert label.tolist() == [expected], flags


def test_left_equality_and_identity_by_hand():
    base = _x(A, A, C, C)  # y true
    src = torch.stack([_x(B, D, C, C)], dim=1)
    flag = torch.tensor([[True]])
    # left: V1 := (B == D) = False, right equality of the base stays True -> False
    assert CAUSAL_MODELS["left"].counterfactual(base, src, flag).tolist() == [False]
    # identity: V1 := a_source = B; (B == b_base = A) False; (c == d) True -> False
    assert CAUSAL_MODELS["identity"].counterfactual(base, src, flag).tolist() == [False]
    src_same_a = torch.stack([_x(A, D, C, D)], dim=1)  # a_source equals a_base
    assert CAUSAL_MODELS["identity"].counterfactual(base, src_same_a, flag).tolist() == [True]
    # left with a source whose a == b: V1 := True -> True
    src_eq = torch.stack([_x(D, D, A, B)], dim=1)
    assert CAUSAL_MODELS["left"].counterfactual(base, src_eq, flag).tolist() == [True]


def test_no_intervention_leaves_the_label():
    gen = torch.Generator().manual_seed(0)
    entities = torch.randn(3, 4, generator=gen)  # few distinct entities: equalities happen
    base = entities[torch.randint(3, (50, 4), generator=gen)].view(50, 16)
    src = entities[torch.randint(3, (50, 2, 4), generator=gen)].view(50, 2, 16)
    none = torch.zeros(50, 2, dtype=torch.bool)
    for name, model in CAUSAL_MODELS.items():
        labels = model.run(base)
        assert 0 < labels.sum() < 50, name  # both labels occur, so a swap could show
        assert torch.equal(model.counterfactual(base, src, none), labels), name


def test_output_only_by_hand():
    """Output Only: one variable, the label y itself; swapping it gives the source's label."""
    model = CAUSAL_MODELS["output"]
    assert model.variables == ("V1",)
    base = _x(A, A, C, D)  # V1 true, V2 false -> y false
    flag = torch.tensor([[True]])
    cases = {(A, B, C, D): True,  # source y: F == F -> True
             (A, A, C, C): True,  # T == T -> True
             (A, B, C, C): False,  # F == T -> False
             (B, B, A, D): False}  # T == F -> False
    for source, expected in cases.items():
        src = torch.stack([_x(*source)], dim=1)
        assert model.counterfactual(base, src, flag).tolist() == [expected], source
        assert model.counterfactual(base, src, ~flag).tolist() == [False], source  # base's y


def test_output_only_pairs_score_the_source_label():
    from explorer.core.config import tiny
    from explorer.core.handbuilt import equality_network
    from explorer.core.pairs import pair_set
    cfg = tiny(hypothesis="output", k=4)
    data = pair_set(equality_network(), cfg, site=1, hypothesis="output").test
    assert data.type_names == ("V1",) and data.intervened.all()
    assert torch.equal(data.counterfactual_label, data.source_label[:, 0])
    changed = (data.counterfactual_label != data.base_label).float().mean()
    assert 0.4 < float(changed) < 0.6  # base and source labels are independent and balanced
