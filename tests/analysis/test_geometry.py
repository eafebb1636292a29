import numpy as np
import pandas as pd
import pytest
import torch

from explorer.analysis import geometry as analysis
from explorer.core.config import TaskConfig
from explorer.core.handbuilt import equality_network
from explorer.core.rng import generator
from explorer.core.task import Entities, sample_examples


def examples(n=1200, seed=0):
    return sample_examples(n, Entities(TaskConfig()), "test", generator(seed, "analysis-test"))


def test_pca_matches_numpy_svd():
    x = torch.randn(60, 5, generator=generator(0, "pca")) * torch.tensor([5.0, 3, 2, 1, 0.5])
    coords, ratio = analysis.pca(x, n_components=2)
    centered = x.numpy() - x.numpy().mean(0)
    u, s, _ = np.linalg.svd(centered, full_matrices=False)
    np.testing.assert_allclose(ratio.numpy(), s**2 / (s**2).sum(), rtol=1e-4)
    assert ratio.sum() <= 1 + 1e-6
    # coordinates equal U * S up to the sign of each axis
    np.testing.assert_allclose(np.abs(coords.numpy()), np.abs(u[:, :2] * s[:2]), atol=1e-4)


def test_pca_of_rank_one_and_constant_data():
    direction = torch.tensor([1.0, -2.0, 0.5])
    _, ratio = analysis.pca(torch.arange(10.0)[:, None] * direction)
    assert ratio[0] == pytest.approx(1.0, abs=1e-6)
    _, flat = analysis.pca(torch.ones(10, 3))
    assert torch.all(flat == 0)  # no NaN from 0 / 0


def test_probe_reads_a_linearly_readable_feature_and_control_does_not():
    ex = examples()
    a, b, c, d = ex.x.unflatten(-1, (4, -1)).unbind(-2)
    noise = torch.randn(len(ex.x), 3, generator=generator(0, "noise"))
    features = torch.cat([(a - b).abs().sum(-1, keepdim=True), noise], 1).numpy()
    labels = ex.v1.numpy()
    assert analysis.probe_accuracy(features, labels, seed=0) > 0.97
    control = np.mean([analysis.probe_accuracy(features, labels, s, shuffle=True)
                       for s in range(5)])
    assert 0.35 < control < 0.65


def test_probe_frame_on_the_handbuilt_network():
    """Layer 1 of the hand-built network holds relu(a-b), relu(b-a): V1 is linearly readable
    there, but not from the raw input (equality is not a linear function of a and b)."""
    frame = analysis.probe_frame(equality_network(), examples(), seed=0, n_shuffles=3)
    acc = frame.set_index(["site", "variable", "labels"]).accuracy
    assert acc[1, "V1", analysis.ACTUAL] > 0.95 and acc[1, "V2", analysis.ACTUAL] > 0.95
    assert acc[0, "V1", analysis.ACTUAL] < 0.65
    assert acc[1, "V1", analysis.CONTROL] < 0.7
    assert set(frame.site) == {0, 1, 2, 3} and len(frame) == 4 * 2 * 2


def test_probes_fit_with_one_blas_thread_and_the_same_numbers(monkeypatch):
    """The fits run under a one-thread BLAS limit that is lifted afterwards; the accuracies
    equal those of fits with the BLAS's own thread count."""
    from sklearn.linear_model import LogisticRegression  # noqa: F401 - loads every BLAS
    from threadpoolctl import threadpool_info

    def blas_threads() -> set[int]:
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    unlimited, model, ex = blas_threads(), equality_network(), examples(400)
    seen, fit = [], analysis.probe_accuracy
    monkeypatch.setattr(analysis, "probe_accuracy",
                        lambda *a, **k: seen.append(blas_threads()) or fit(*a, **k))
    frame = analysis.probe_frame(model, ex, seed=0, n_shuffles=2)
    assert len(seen) == 4 * 2 * 3 and all(threads == {1} for threads in seen)
    assert blas_threads() == unlimited  # lifted
    monkeypatch.setattr(analysis, "probe_accuracy", fit)
    free = analysis._probe_rows(model, ex, 0, 2)  # the fits alone, without the limit
    pd.testing.assert_frame_equal(frame, free)


def test_pca_and_variance_frames_cover_every_site():
    model, ex = equality_network(), examples(300)
    points = analysis.pca_frame(model, ex)
    assert len(points) == 4 * 300
    assert {"site", "pc1", "pc2", "V1", "V2", "label", "pattern"} <= set(points.columns)
    variance = analysis.explained_variance_frame(model, ex)
    for _, group in variance.groupby("site"):
        assert group.cumulative.is_monotonic_increasing and group.cumulative.max() <= 1 + 1e-6


def test_matrix_frame_and_blocks():
    mask = torch.zeros(2, 6)
    mask[0, :2], mask[1, 2:4] = 1, 1
    matrix = torch.arange(36.0).view(6, 6)
    frame = analysis.matrix_frame(matrix, mask, ("V1", "V2"))
    row = frame[(frame.unit == 4) & (frame.coordinate == 1)].iloc[0]
    assert row.value == matrix[4, 1] and row.block == "V1"
    spans = analysis.block_spans(mask, ("V1", "V2"))
    assert spans.to_dict("records") == [{"block": "V1", "start": 0, "end": 2},
                                        {"block": "V2", "start": 2, "end": 4},
                                        {"block": "rest", "start": 4, "end": 6}]


def test_rotated_pca_with_identity_is_pca_of_the_block_columns():
    ex = examples(200)
    mask = torch.zeros(2, 16)
    mask[0, :8], mask[1, 8:] = 1, 1
    frame = analysis.rotated_pca_frame(equality_network(), ex, 0, torch.eye(16), mask,
                                       ("V1", "V2"))
    expected, _ = analysis.pca(ex.x[:, :8])
    got = frame[frame.block == "V1"]
    np.testing.assert_allclose(got.pc1.to_numpy(), expected[:, 0].numpy(), atol=1e-5)
    assert list(dict.fromkeys(frame.block)) == ["V1", "V2"]
