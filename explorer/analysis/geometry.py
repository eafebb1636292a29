"""Descriptive views of hidden states: PCA per site, linear probes for V1 and V2 per site
(beside a shuffled-label control), and long-form frames of matrices for heatmaps.

These measure *decodability*, not causal role: a probe can read a variable that the network
never uses. Causal claims come from interchange interventions (`explorer.core.iia`).
Every function returns a long-form pandas DataFrame (or tensors), ready for `explorer.plots.charts`.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import torch

from explorer.analysis.readings import PROBE_SHUFFLED as CONTROL, PROBE_TRUE as ACTUAL
from explorer.core.models import MLP
from explorer.core.task import PATTERNS, Examples

PROBE_TARGETS = ("V1", "V2")
_ONE_BLAS_THREAD = threading.Lock()  # BLAS thread limits are process-wide: one holder


def pca(h: torch.Tensor, n_components: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Principal components of states h (n, d): coordinates (n, c) on the top c axes and
    the explained-variance ratio of every component (min(n, d),), summing to 1 (or 0)."""
    centered = h - h.mean(0)
    _, s, vh = torch.linalg.svd(centered, full_matrices=False)
    var = s.square()
    total = var.sum()
    ratio = var / total if total > 0 else torch.zeros_like(var)
    c = min(n_components, vh.shape[0])
    return centered @ vh[:c].T, ratio


def example_labels(examples: Examples) -> pd.DataFrame:
    """Colouring columns per example: V1, V2, label (as 'true'/'false') and pattern."""
    as_text = lambda t: np.where(t.numpy(), "true", "false")  # noqa: E731
    return pd.DataFrame({"V1": as_text(examples.v1), "V2": as_text(examples.v2),
                         "label": as_text(examples.y),
                         "pattern": [PATTERNS[i] for i in examples.pattern.tolist()]})


@torch.no_grad()
def site_states(model: MLP, x: torch.Tensor) -> list[torch.Tensor]:
    """States at every site (input first), each (n, site_dim)."""
    return model.hidden_states(x)


def _coords_frame(coords: torch.Tensor, labels: pd.DataFrame, **constant) -> pd.DataFrame:
    pc2 = coords[:, 1] if coords.shape[1] > 1 else torch.zeros(len(coords))
    frame = pd.DataFrame({"pc1": coords[:, 0].numpy(), "pc2": pc2.numpy()})
    return pd.concat([frame.assign(**constant), labels.reset_index(drop=True)], axis=1)


def pca_frame(model: MLP, examples: Examples) -> pd.DataFrame:
    """Two PCA coordinates per example and site: site, pc1, pc2, V1, V2, label, pattern."""
    labels = example_labels(examples)
    frames = [_coords_frame(pca(h)[0], labels, site=site)
              for site, h in enumerate(site_states(model, examples.x))]
    return pd.concat(frames, ignore_index=True)


def explained_variance_frame(model: MLP, examples: Examples, top: int = 8) -> pd.DataFrame:
    """Explained-variance ratio of the top components per site: site, component, ratio,
    cumulative."""
    rows = []
    for site, h in enumerate(site_states(model, examples.x)):
        ratio = pca(h)[1][:top]
        cumulative = ratio.cumsum(0)
        rows += [{"site": site, "component": i + 1, "ratio": float(r),
                  "cumulative": float(c)} for i, (r, c) in enumerate(zip(ratio, cumulative))]
    return pd.DataFrame(rows)


def probe_accuracy(features: np.ndarray, labels: np.ndarray, seed: int,
                   shuffle: bool = False, test_size: float = 0.3) -> float:
    """Held-out accuracy of a logistic-regression probe. With `shuffle`, the training labels
    are permuted (the control: what a probe reaches with no signal); test labels stay true."""
    from sklearn.linear_model import LogisticRegression  # imported here: ~1 s, only probes
    from sklearn.model_selection import train_test_split  # need it (app cold start)
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=test_size, random_state=seed, stratify=labels)
    if shuffle:
        y_train = np.random.default_rng(seed).permutation(y_train)
    if len(np.unique(y_train)) < 2:  # one class only: predict it
        return float((y_test == y_train[0]).mean())
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return float(probe.fit(x_train, y_train).score(x_test, y_test))


def probe_frame(model: MLP, examples: Examples, seed: int, n_shuffles: int = 5) -> pd.DataFrame:
    """Probe accuracy for V1 and V2 at every site, true labels vs the shuffled-label control
    (averaged over `n_shuffles` permutations, since one random probe on clustered states
    can land far from 0.5 by chance): site, variable, labels, accuracy.

    The fits run with one BLAS thread: on problems this small OpenBLAS's threads only spin,
    and on a busy 2-core host they made the fits 5-15x slower (the same numbers either way).
    The limit holds for the whole process while the fits run, so they hold a lock."""
    from sklearn.linear_model import LogisticRegression  # noqa: F401 - loads scipy's BLAS,
    from threadpoolctl import threadpool_limits  # which the limit must find loaded

    with _ONE_BLAS_THREAD, threadpool_limits(1, user_api="blas"):
        return _probe_rows(model, examples, seed, n_shuffles)


def _probe_rows(model: MLP, examples: Examples, seed: int, n_shuffles: int) -> pd.DataFrame:
    targets = {"V1": examples.v1.numpy(), "V2": examples.v2.numpy()}
    rows = []
    for site, h in enumerate(site_states(model, examples.x)):
        for name in PROBE_TARGETS:
            actual = probe_accuracy(h.numpy(), targets[name], seed)
            control = np.mean([probe_accuracy(h.numpy(), targets[name], seed + 1 + i, True)
                               for i in range(n_shuffles)])
            rows += [{"site": site, "variable": name, "labels": ACTUAL, "accuracy": actual},
                     {"site": site, "variable": name, "labels": CONTROL,
                      "accuracy": float(control)}]
    return pd.DataFrame(rows)


def block_names(var_mask: torch.Tensor, variables: tuple[str, ...]) -> list[str]:
    """Which variable owns each rotated coordinate (d,), 'rest' where none does."""
    owner = var_mask.argmax(0).tolist()
    used = var_mask.sum(0) > 0
    return [variables[o] if u else "rest" for o, u in zip(owner, used.tolist())]


def block_spans(var_mask: torch.Tensor, variables: tuple[str, ...]) -> pd.DataFrame:
    """Contiguous runs of coordinates per block: block, start, end (end exclusive)."""
    names, rows, start = block_names(var_mask, variables), [], 0
    for j in range(1, len(names) + 1):
        if j == len(names) or names[j] != names[start]:
            rows.append({"block": names[start], "start": start, "end": j})
            start = j
    return pd.DataFrame(rows)


def matrix_frame(matrix: torch.Tensor, var_mask: torch.Tensor,
                 variables: tuple[str, ...]) -> pd.DataFrame:
    """A (d, d) map R (rotated coordinates r = h @ R) in long form: unit (row of R),
    coordinate (column), value, block (the variable owning the coordinate)."""
    d_in, d_out = matrix.shape
    names = block_names(var_mask, variables)
    unit, coord = np.meshgrid(np.arange(d_in), np.arange(d_out), indexing="ij")
    return pd.DataFrame({"unit": unit.ravel(), "coordinate": coord.ravel(),
                         "value": matrix.detach().numpy().ravel(),
                         "block": [names[c] for c in coord.ravel()]})


def rotated_pca_frame(model: MLP, examples: Examples, site: int, rotation: torch.Tensor,
                      var_mask: torch.Tensor, variables: tuple[str, ...]) -> pd.DataFrame:
    """PCA of each block of rotated coordinates (h @ R restricted to the block):
    block, pc1, pc2, V1, V2, label, pattern."""
    with torch.no_grad():
        rotated = model.hidden(examples.x, site) @ rotation
    names = np.array(block_names(var_mask, variables))
    labels = example_labels(examples)
    frames = [_coords_frame(pca(rotated[:, torch.from_numpy(names == block)])[0], labels,
                            block=block)
              for block in dict.fromkeys(names)]
    return pd.concat(frames, ignore_index=True)
