"""Streaming reductions: per-block moments, Chan merges, and the block jackknife.

A *block* is a fixed run of consecutive realizations of one parameter point
(``block_size`` of the spec). Its moments (n, mean, M2) are built by Welford's
update in realization order; blocks are merged with Chan's formula in block
order. Blocks never depend on how realizations were batched into tasks, so
the final tables are bit-identical for any batch size, worker count or
completion order.

Nonlinear functions of the means (ratios, the front h(t), fitted slopes) get
their errors from the delete-one-block jackknife for unequal block sizes
(Busing, Meijer & van der Leeden, Stat. Comput. 9, 3 (1999)).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from kernels.jit import jit

__all__ = ["BlockMoments", "Jackknife", "MomentOverflow", "Moments", "NonFiniteSample", "jackknife", "leave_one_out_means", "welford"]


@dataclass
class Moments:
    """Count, mean and summed squared deviations of array-valued samples.

    Attributes
    ----------
    n : int
    mean : ndarray[float64]
    m2 : ndarray[float64]
        sum_i (x_i - mean)^2, same shape as ``mean``.
    """

    n: int
    mean: np.ndarray
    m2: np.ndarray

    @classmethod
    def zeros(cls, shape) -> Moments:
        return cls(0, np.zeros(shape), np.zeros(shape))

    def push(self, x: np.ndarray) -> None:
        """Welford's update with one sample, in place."""
        self.n += 1
        delta = x - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (x - self.mean)

    def merge(self, other: Moments) -> Moments:
        """Chan et al.'s pairwise combination (self first, then other)."""
        if other.n == 0:
            return Moments(self.n, self.mean.copy(), self.m2.copy())
        if self.n == 0:
            return Moments(other.n, other.mean.copy(), other.m2.copy())
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.n / n)
        m2 = self.m2 + other.m2 + delta * delta * (self.n * other.n / n)
        return Moments(n, mean, m2)

    @property
    def sem(self) -> np.ndarray:
        """Standard error of the mean, sqrt(M2 / (n (n - 1))); NaN for n < 2."""
        if self.n < 2:
            return np.full_like(self.mean, np.nan)
        return np.sqrt(self.m2 / (self.n * (self.n - 1)))


@dataclass
class BlockMoments:
    """Moments of consecutive blocks of one parameter point, for several observables.

    Attributes
    ----------
    first_block : int
        Index of the first block held.
    counts : ndarray[int64], shape (g,)
        Realizations per block.
    mean, m2 : dict of str to ndarray[float64], shape (g, *obs_shape)
    """

    first_block: int
    counts: np.ndarray
    mean: dict[str, np.ndarray]
    m2: dict[str, np.ndarray]

    @classmethod
    def from_samples(cls, first_block: int, samples: Iterable[Iterable[Mapping[str, np.ndarray]]]) -> BlockMoments:
        """Welford over each block's samples (an iterable of blocks of observable dicts)."""
        return cls.from_moments(first_block, [welford(block) for block in samples])

    @classmethod
    def from_moments(cls, first_block: int, blocks: list[dict[str, Moments]]) -> BlockMoments:
        """Consecutive blocks' moments (one dict of observable -> Moments per block)."""
        names = list(blocks[0])
        return cls(
            first_block=first_block,
            counts=np.array([b[names[0]].n for b in blocks], dtype=np.int64),
            mean={k: np.stack([b[k].mean for b in blocks]) for k in names},
            m2={k: np.stack([b[k].m2 for b in blocks]) for k in names},
        )

    @property
    def names(self) -> list[str]:
        return list(self.mean)

    @property
    def nbytes(self) -> int:
        """Bytes held (counts, means and second moments)."""
        return int(self.counts.nbytes + sum(v.nbytes for v in self.mean.values()) + sum(v.nbytes for v in self.m2.values()))

    @property
    def stop_block(self) -> int:
        return self.first_block + int(self.counts.size)

    def select(self, start: int, stop: int) -> BlockMoments:
        """The blocks ``start <= b < stop`` (absolute indices) held here, as a new object."""
        i, j = start - self.first_block, stop - self.first_block
        return BlockMoments(start, self.counts[i:j], {k: v[i:j] for k, v in self.mean.items()},
                            {k: v[i:j] for k, v in self.m2.items()})  # fmt: skip

    def block(self, i: int) -> dict[str, Moments]:
        """Moments of the i-th block held (0-based within this object)."""
        n = int(self.counts[i])
        return {k: Moments(n, self.mean[k][i], self.m2[k][i]) for k in self.mean}


class NonFiniteSample(ValueError):
    """A sample with a NaN or infinite value, or one whose update overflows the accumulated moments (``overflow``):
    its position in the block and the observables affected."""

    def __init__(self, position: int, names: list[str], overflow: bool = False):
        what = "overflows the accumulated moments of" if overflow else "has non-finite values in"
        super().__init__(f"sample {position} of the block {what} {', '.join(names)}", position, names, overflow)
        self.position = position
        self.names = names
        self.overflow = overflow

    def __reduce__(self):
        return type(self), (self.position, self.names, self.overflow)


class MomentOverflow(ArithmeticError):
    """Merging blocks overflowed the accumulated moments of ``names`` (values too large to average in float64)."""

    def __init__(self, names: list[str]):
        super().__init__(f"merging blocks overflows the accumulated moments of {', '.join(names)}", names)
        self.names = names

    def __reduce__(self):
        return type(self), (self.names,)


#: Samples stacked per compiled Welford pass (bounds the buffer: CHUNK x one realization's observables).
CHUNK = 64


def welford(block: Iterable[Mapping[str, np.ndarray]]) -> dict[str, Moments]:
    """Moments of one block's samples, each observable by Welford's update in sample order.

    Samples are stacked ``CHUNK`` at a time and pushed by one compiled pass
    per observable (:func:`_push_rows`): the same floating-point operations
    in the same order as :meth:`Moments.push` one sample at a time, so the
    same bits, at a fraction of the per-sample cost. Every sample must have
    the same observables, and every value must be finite: the first
    offending sample raises :class:`NonFiniteSample` (also when the iterable
    itself raises later, so that the earliest bad sample is the one reported).
    """
    acc: dict[str, Moments] | None = None
    pending: list[Mapping[str, np.ndarray]] = []
    done = 0

    def flush() -> None:
        nonlocal done
        for k, m in acc.items():
            rows = np.array([o[k] for o in pending], dtype=float).reshape(len(pending), -1)
            mean, m2 = m.mean.reshape(-1), m.m2.reshape(-1)  # views: updated in place
            bad = _push_rows(m.n, mean, m2, rows)
            if bad >= 0:
                names = [j for j in acc if not np.all(np.isfinite(np.asarray(pending[bad][j], dtype=float)))]
                if names:
                    raise NonFiniteSample(done + bad, names)
                raise NonFiniteSample(done + bad, [k], overflow=True)
            m.n += len(pending)
        done += len(pending)
        pending.clear()

    try:
        for obs in block:
            if acc is None:
                acc = {k: Moments.zeros(np.shape(v)) for k, v in obs.items()}
            elif obs.keys() != acc.keys():
                raise ValueError(f"sample {done + len(pending)} has observables {sorted(obs)}, the block's first had {sorted(acc)}")
            pending.append(obs)
            if len(pending) == CHUNK:
                flush()
    except BaseException:
        if pending:
            flush()  # a non-finite sample before the failure is reported first
        raise
    if acc is None:
        raise ValueError("a block must hold at least one realization")
    if pending:
        flush()
    return acc


@jit
def _push_rows(n, mean, m2, rows):
    """Welford's update of (n, mean, m2) with each row of ``rows`` in turn, in place.

    Returns the index of the first row holding a non-finite value, or whose
    update makes the mean or the summed squared deviations overflow (its
    update is then incomplete), or -1.
    """
    for i in range(rows.shape[0]):
        n += 1
        for j in range(rows.shape[1]):
            x = rows[i, j]
            if not math.isfinite(x):
                return i
            delta = x - mean[j]
            mean[j] += delta / n
            m2[j] += delta * (x - mean[j])
            if not (math.isfinite(m2[j]) and math.isfinite(mean[j])):
                return i
    return -1


def leave_one_out_means(total: Mapping[str, Moments], blocks: BlockMoments) -> dict[str, np.ndarray]:
    """Means with each held block left out, shape (g, *obs_shape) per observable."""
    out = {}
    for k, tot in total.items():
        m = blocks.counts.reshape((-1,) + (1,) * tot.mean.ndim).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[k] = (tot.n * tot.mean - m * blocks.mean[k]) / (tot.n - m)
    return out


class Jackknife:
    """Streaming delete-one-block jackknife for unequal blocks.

    Feed the full-sample estimate, then the leave-one-block-out estimates
    block by block (in any fixed order); :meth:`sem` gives

    .. math::

        \\hat\\sigma^2 = \\frac{1}{g} \\sum_j \\frac{(p_j - \\hat\\theta_J)^2}{h_j - 1},
        \\quad p_j = h_j \\hat\\theta - (h_j - 1)\\hat\\theta_{-j},
        \\quad h_j = n / m_j,

    which reduces to ``(g-1)/g sum_j (theta_-j - mean)^2`` for equal blocks.
    Accumulates deviations from the full estimate, so no large offsets cancel.

    Parameters
    ----------
    full : dict of str to ndarray
        Estimates from all realizations.
    n : int
        Total number of realizations.
    """

    def __init__(self, full: Mapping[str, np.ndarray], n: int):
        self.full = {k: np.asarray(v, dtype=float) for k, v in full.items()}
        self.n = n
        self.g = 0
        self._sw = 0.0
        self._md = {k: np.zeros_like(v) for k, v in self.full.items()}
        self._wd = {k: np.zeros_like(v) for k, v in self.full.items()}
        self._wdd = {k: np.zeros_like(v) for k, v in self.full.items()}

    def add(self, counts: np.ndarray, loo: Mapping[str, np.ndarray]) -> None:
        """Add leave-one-out estimates for blocks of sizes ``counts`` (leading axis).

        Blocks are added one after another in the order given, so the sums do
        not depend on how the caller grouped them.
        """
        for i, m in enumerate(np.asarray(counts)):
            if m >= self.n:  # a block holding everything cannot be left out
                continue
            h = self.n / float(m)
            w = 1.0 / (h - 1.0)
            self.g += 1
            self._sw += w
            for k, full in self.full.items():
                d = (h - 1.0) * (full - loo[k][i])
                self._md[k] += (m / self.n) * d
                self._wd[k] += w * d
                self._wdd[k] += w * d * d

    def sem(self) -> dict[str, np.ndarray]:
        """Jackknife standard errors; NaN with fewer than two blocks."""
        out = {}
        for k, full in self.full.items():
            if self.g < 2:
                out[k] = np.full_like(full, np.nan)
                continue
            D = self._md[k]
            var = (self._wdd[k] - 2.0 * D * self._wd[k] + D * D * self._sw) / self.g
            out[k] = np.sqrt(np.maximum(var, 0.0))
        return out


def jackknife(
    f: Callable[[Mapping[str, np.ndarray]], Mapping[str, np.ndarray]],
    total: Mapping[str, Moments],
    chunks: Iterable[BlockMoments],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Value and jackknife error of every output of ``f`` (a function of the means).

    ``f`` must broadcast over a leading axis of leave-one-out samples.
    ``chunks`` yields the point's blocks in block order (each chunk is read,
    used and dropped, so memory stays bounded by one chunk).

    Returns
    -------
    value, sem : dict of str to ndarray
    """
    n = next(iter(total.values())).n
    full = {k: np.asarray(v, dtype=float) for k, v in f({k: m.mean for k, m in total.items()}).items()}
    jk = Jackknife(full, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        for blocks in chunks:
            loo = leave_one_out_means(total, blocks)
            # One block per call of f: its arithmetic (and so every bit of the
            # result) cannot depend on how blocks were grouped into files.
            for i in range(blocks.counts.size):
                jk.add(blocks.counts[i : i + 1], f({k: v[i : i + 1] for k, v in loo.items()}))
    return full, jk.sem()
