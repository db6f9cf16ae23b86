"""Clustering for opinion groups, numpy only: PCA to two dimensions, k-means with k-means++
seeding, and the mean silhouette score that chooses k.

- `project`: the rows of a centred matrix on its first two principal components (its first
  two right singular vectors). The sign of each component is fixed (its largest loading is
  positive, as scikit-learn's `svd_flip`) so that the coordinates do not depend on LAPACK.
- `kmeans`: Lloyd's algorithm from k-means++ seeds drawn from the numpy `Generator` it is
  given, best of `restarts` runs by inertia (within-cluster sum of squares). A cluster left
  empty takes the point farthest from its centre. Deterministic for a given generator state.
- `mean_silhouettes`: Rousseeuw's silhouette, s(i) = (b - a) / max(a, b), where a is the mean
  distance from i to the other members of its cluster and b the smallest mean distance from i
  to the members of another cluster; s(i) = 0 for a point alone in its cluster (the usual
  convention, scikit-learn's too). Distances are computed a block of rows at a time, so memory
  stays at BLOCK x n whatever the number of points, and one pass serves every candidate k.
- `choose_clusters`: k-means for k = 2 ... 5, the k with the best mean silhouette (the smaller
  k on a tie) among the clusterings whose every cluster has at least `min_size` points; no
  clusters when that best score is below MIN_SILHOUETTE or no k qualifies.

MIN_SILHOUETTE = 0.5. Kaufman and Rousseeuw read a mean silhouette of 0.26-0.50 as "weak
structure, could be artificial" and 0.51-0.70 as "reasonable structure". A bar is needed
because k-means always splits something. Measured with this code: a round Gaussian blob
scores 0.31-0.35 at best, one stretched 2:1 0.42; uniformly random votes of 50 to 2,000
voters on 7 to 200 statements 0.30-0.48, never 0.5 in our trials. Planted groups that split
on a third of the statements (85 % against 15 % agree) score 0.55-0.65 with 50 to 300
voters; the benchmark's 2,000 voters 0.79 when everyone votes on every statement, 0.53 on a
fifth of them and below the bar on a tenth (20 votes each): there, two dimensions cannot
tell the groups from noise, and no groups is the honest answer. Small samples score higher
by chance (ten random voters cut into five pairs often pass 0.5); the caller's `min_size`
(five for opinion groups) removes such cuts, and then random votes of 10 to 30 voters still
pass 0.5 in up to one trial in ten, which the minimum of ten voters has to live with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

K_RANGE = range(2, 6)
MIN_SILHOUETTE = 0.5
RESTARTS = 8
MAX_ITERATIONS = 100
BLOCK = 512  # rows of the distance matrix computed at once (BLOCK x n floats)


def project(centred: np.ndarray, dims: int = 2) -> np.ndarray:
    """Coordinates of the rows of `centred` on its first `dims` principal components
    (n x dims; columns of zeros when the matrix has fewer components)."""
    n, m = centred.shape
    out = np.zeros((n, dims))
    if n == 0 or m == 0:
        return out
    # The components are the right singular vectors of the centred matrix; they are taken
    # from the eigenvectors of its smaller Gram matrix (the same vectors): one LAPACK call on
    # a statements x statements matrix instead of a full SVD's many multithreaded BLAS calls,
    # which a busy two-core server made ten times slower (0.03 s became 0.3 - 1.3 s).
    if m <= n:
        values, vectors = np.linalg.eigh(centred.T @ centred)
        components = vectors[:, ::-1][:, :dims].T
    else:
        values, vectors = np.linalg.eigh(centred @ centred.T)
        left = vectors[:, ::-1][:, :dims]
        singular = np.sqrt(np.maximum(values[::-1][:dims], 0))
        components = (centred.T @ left).T / np.where(singular > 1e-9, singular, np.inf)[:, None]
    # the largest loading of each component positive: the same sign on every machine
    biggest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), biggest])
    signs[signs == 0] = 1
    out[:, : len(components)] = centred @ (components * signs[:, None]).T
    return out


def _sq_distances(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances, n x k."""
    return ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)


def _seed(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++: the first centre uniformly, each next one with probability proportional to
    the squared distance to the nearest centre chosen so far."""
    n = len(points)
    centres = [points[rng.integers(n)]]
    nearest = ((points - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = nearest.sum()
        if total <= 0:  # every point sits on a centre already
            index = rng.integers(n)
        else:
            index = rng.choice(n, p=nearest / total)
        centres.append(points[index])
        nearest = np.minimum(nearest, ((points - points[index]) ** 2).sum(axis=1))
    return np.array(centres)


def _lloyd(points: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, float]:
    """Lloyd's iterations until the assignment no longer changes: (labels, inertia)."""
    k, dims = centres.shape
    labels = np.full(len(points), -1)
    for _ in range(MAX_ITERATIONS):
        distances = _sq_distances(points, centres)
        new_labels = distances.argmin(axis=1)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        counts = np.bincount(labels, minlength=k)
        for d in range(dims):
            sums = np.bincount(labels, weights=points[:, d], minlength=k)
            centres[:, d] = np.where(counts > 0, sums / np.maximum(counts, 1), centres[:, d])
        for empty in np.flatnonzero(counts == 0):
            # an empty cluster takes the point worst served by its current centre
            far = _sq_distances(points, centres).min(axis=1).argmax()
            centres[empty] = points[far]
            labels = np.full(len(points), -1)  # force another pass
    distances = _sq_distances(points, centres)
    labels = distances.argmin(axis=1)
    inertia = float(distances[np.arange(len(points)), labels].sum())
    return labels, inertia


def kmeans(
    points: np.ndarray, k: int, rng: np.random.Generator, restarts: int = RESTARTS
) -> tuple[np.ndarray, float]:
    """The best of `restarts` k-means runs from k-means++ seeds: (labels, inertia)."""
    best: tuple[np.ndarray, float] | None = None
    for _ in range(restarts):
        labels, inertia = _lloyd(points, _seed(points, k, rng).astype(float))
        if best is None or inertia < best[1]:
            best = (labels, inertia)
    assert best is not None
    return best


def mean_silhouettes(points: np.ndarray, labelings: list[np.ndarray]) -> list[float]:
    """The mean silhouette score of each labeling of `points` (labels 0 ... k-1, k >= 2)."""
    n = len(points)
    ks = [int(labels.max()) + 1 for labels in labelings]
    # one indicator column per (labeling, cluster): distances @ indicators = sums per cluster
    indicators = np.concatenate(
        [np.eye(k)[labels] for k, labels in zip(ks, labelings, strict=True)], axis=1
    )
    sums = np.empty((n, indicators.shape[1]))
    for start in range(0, n, BLOCK):
        block = points[start : start + BLOCK]
        squared = np.zeros((len(block), n))
        for d in range(points.shape[1]):
            squared += (block[:, d, None] - points[None, :, d]) ** 2
        sums[start : start + BLOCK] = np.sqrt(squared) @ indicators
    scores = []
    offset = 0
    rows = np.arange(n)
    for k, labels in zip(ks, labelings, strict=True):
        per_cluster = sums[:, offset : offset + k]
        offset += k
        sizes = np.bincount(labels, minlength=k)
        own_size = sizes[labels]
        a = per_cluster[rows, labels] / np.maximum(own_size - 1, 1)
        means = per_cluster / np.maximum(sizes, 1)
        means[:, sizes == 0] = np.inf
        means[rows, labels] = np.inf
        b = means.min(axis=1)
        top = np.maximum(a, b)
        s = np.where((own_size > 1) & (top > 0), (b - a) / np.where(top > 0, top, 1), 0.0)
        scores.append(float(s.mean()))
    return scores


@dataclass(frozen=True)
class Clustering:
    """The outcome of `choose_clusters`: labels is None when there are no clusters."""

    labels: np.ndarray | None
    silhouette: float | None
    scores: dict[int, float]  # mean silhouette of each k tried


def choose_clusters(points: np.ndarray, rng: np.random.Generator, min_size: int = 1) -> Clustering:
    """k-means for each k in K_RANGE, the k with the best mean silhouette among the
    clusterings with no cluster under `min_size` points; no clusters below MIN_SILHOUETTE or
    when no k qualifies."""
    distinct = len(np.unique(points, axis=0)) if len(points) else 0
    ks, labelings = [], []
    for k in K_RANGE:
        if k > distinct or k * min_size > len(points):
            break
        labels = kmeans(points, k, rng)[0]
        if np.bincount(labels, minlength=k).min() >= min_size:
            ks.append(k)
            labelings.append(labels)
    if not ks:
        return Clustering(None, None, {})
    scores = mean_silhouettes(points, labelings)
    best = max(range(len(ks)), key=lambda i: (scores[i], -ks[i]))
    by_k = dict(zip(ks, scores, strict=True))
    if scores[best] < MIN_SILHOUETTE:
        return Clustering(None, scores[best], by_k)
    return Clustering(labelings[best], scores[best], by_k)
