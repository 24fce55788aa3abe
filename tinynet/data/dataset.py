"""Datasets: indexable collections of samples, and ways to take parts of them.

A dataset has ``__len__`` and ``__getitem__(i)`` (one sample, usually an ``(input, label)``
tuple), as in PyTorch. tinynet adds one method, :meth:`Dataset.get_batch`, which returns a
whole batch of samples as stacked arrays. The base class builds a batch sample by sample; the
datasets that hold their data as arrays (:class:`TensorDataset`, ``MNIST``…) override it with
one fancy-index per array, so the :class:`~tinynet.data.DataLoader` never loops over samples.
"""

from __future__ import annotations

import bisect
import itertools
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy

from tinynet import backend
from tinynet.tensor import Tensor


class Dataset:
    """Base class of datasets: subclasses define ``__len__`` and ``__getitem__``.

    >>> class Squares(Dataset):
    ...     def __len__(self): return 10
    ...     def __getitem__(self, i): return float(i), float(i * i)
    >>> Squares().get_batch(numpy.array([2, 3]))
    (array([2., 3.], dtype=float32), array([4., 9.], dtype=float32))
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def get_batch(self, indices: numpy.ndarray) -> Any:
        """The samples at ``indices`` stacked into arrays: a tuple of arrays when samples are
        tuples, else one array. Override it to batch without a per-sample loop."""
        return collate([self[int(i)] for i in indices])

    def __add__(self, other: Any) -> ConcatDataset:
        """``a + b``: the samples of ``a``, then those of ``b`` (a ``ConcatDataset``)."""
        return ConcatDataset([self, other])


def collate(samples: Sequence[Any]) -> Any:
    """Stack a list of samples into arrays, field by field.

    Tensors and arrays are stacked along a new first dimension; Python ints become int64,
    floats float32 and bools bool.

    >>> collate([(numpy.zeros(2), 1), (numpy.ones(2), 0)])
    (array([[0., 0.],
           [1., 1.]]), array([1, 0]))
    """
    if not samples:
        raise ValueError("collate: got no samples")
    first = samples[0]
    if isinstance(first, tuple):
        if any(not isinstance(s, tuple) or len(s) != len(first) for s in samples):
            raise TypeError("collate: samples must all be tuples of the same length")
        return tuple(collate([s[field] for s in samples]) for field in range(len(first)))
    if isinstance(first, Tensor):
        arrays = [s.array for s in samples]
        return backend.get_array_module(arrays[0]).stack(arrays)
    if backend.is_array(first):
        return backend.get_array_module(first).stack(samples)
    if isinstance(first, bool):
        return numpy.asarray(samples, dtype=numpy.bool_)
    if isinstance(first, numbers.Integral):
        return numpy.asarray(samples, dtype=numpy.int64)
    if isinstance(first, numbers.Real):
        return numpy.asarray(samples, dtype=numpy.float32)
    raise TypeError(f"collate: don't know how to batch samples of type {type(first).__name__}; "
                    "return Tensors, arrays or numbers from __getitem__")


def get_batch(dataset: Any, indices: numpy.ndarray) -> Any:
    """``dataset.get_batch(indices)``, or a sample-by-sample batch for a dataset that is only
    indexable (any object with ``__getitem__``, not derived from :class:`Dataset`)."""
    if hasattr(dataset, "get_batch"):
        return dataset.get_batch(indices)
    return collate([dataset[int(i)] for i in indices])


def _raw_array(value: Any) -> Any:
    """The NumPy/CuPy array behind a Tensor, an array or anything array-like."""
    if isinstance(value, Tensor):
        return value.array
    return value if backend.is_array(value) else numpy.asarray(value)


def _take(array: Any, indices: numpy.ndarray) -> Any:
    """``array[indices]`` with the index array on the same device as ``array``."""
    return array[backend.get_array_module(array).asarray(indices)]


class TensorDataset(Dataset):
    """Samples are the rows of the given tensors (all with the same first dimension).

    ``tensors`` are tn Tensors (or arrays); a batch is one fancy-index per tensor. Tensors that
    already live on the GPU are indexed there, with no transfer at all.

    >>> ds = TensorDataset(tn.randn(100, 3), tn.arange(100))
    >>> x, y = ds[0]
    >>> x.shape, len(ds)
    ((3,), 100)
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(_raw_array(t)) for t in tensors)
        sizes = [t.shape[0] if t.ndim else None for t in self.tensors]
        if None in sizes or len(set(sizes)) != 1:
            raise ValueError("TensorDataset: all tensors need the same first dimension, got shapes "
                             f"{[tuple(t.shape) for t in self.tensors]}")

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(Tensor(t.array[index]) for t in self.tensors)

    def get_batch(self, indices: numpy.ndarray) -> tuple[Any, ...]:
        return tuple(_take(t.array, indices) for t in self.tensors)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    >>> evens = Subset(TensorDataset(tn.arange(10)), range(0, 10, 2))
    >>> len(evens), evens[1][0].item()
    (5, 2)
    """

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = numpy.asarray(indices, dtype=numpy.int64).reshape(-1)
        size = len(dataset)
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= size):
            raise IndexError(f"Subset: indices must lie in [0, {size}) for a dataset of {size} samples, "
                             f"got min {self.indices.min()}, max {self.indices.max()}")

    def __len__(self) -> int:
        return int(self.indices.size)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices: numpy.ndarray) -> Any:
        return get_batch(self.dataset, self.indices[indices])

    @property
    def targets(self) -> numpy.ndarray:
        """The labels of the samples in this subset (when the dataset exposes ``targets``)."""
        return numpy.asarray(self.dataset.targets)[self.indices]


class ConcatDataset(Dataset):
    """The samples of several datasets, one dataset after another.

    >>> both = ConcatDataset([TensorDataset(tn.arange(3)), TensorDataset(tn.arange(5))])
    >>> len(both), both[4][0].item()
    (8, 1)
    """

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            if -index > len(self):
                raise ValueError(f"ConcatDataset: index {index} is out of range for "
                                 f"{len(self)} samples")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        if which == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {index} is out of range for {len(self)} "
                             "samples")
        return self.datasets[which][index - (self.cumulative_sizes[which - 1] if which else 0)]

    def get_batch(self, indices: numpy.ndarray) -> Any:
        """Each dataset's samples as one batch of its own, put back in the order asked for."""
        indices = numpy.asarray(indices, dtype=numpy.int64)
        which = numpy.searchsorted(self.cumulative_sizes, indices, side="right")
        starts = [0, *self.cumulative_sizes[:-1]]
        parts, positions = [], []
        for d in numpy.unique(which):
            picked = numpy.flatnonzero(which == d)
            parts.append(get_batch(self.datasets[d], indices[picked] - starts[d]))
            positions.append(picked)
        return _in_order(parts, numpy.argsort(numpy.concatenate(positions)))


def _in_order(parts: list[Any], order: numpy.ndarray) -> Any:
    """The batches ``parts`` (arrays, or tuples of arrays field by field) concatenated and
    taken in ``order``."""
    if isinstance(parts[0], tuple):
        return tuple(_in_order([part[field] for part in parts], order)
                     for field in range(len(parts[0])))
    xp = backend.get_array_module(parts[0])
    return _take(xp.concatenate(parts), order)


def random_split(dataset: Any, lengths: Sequence[int | float], seed: int | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    ``lengths`` are counts that sum to ``len(dataset)``, or fractions that sum to 1 (the
    leftover samples go one each to the first subsets, as PyTorch does). The permutation comes
    from ``seed``, else from tinynet's generator (``tn.manual_seed``).

    >>> train, val = random_split(TensorDataset(tn.arange(10)), [0.8, 0.2], seed=0)
    >>> len(train), len(val)
    (8, 2)
    """
    total = len(dataset)
    if all(isinstance(n, numbers.Integral) for n in lengths):
        counts = [int(n) for n in lengths]
    elif math.isclose(sum(lengths), 1.0) and all(0 <= f <= 1 for f in lengths):
        counts = [int(math.floor(total * f)) for f in lengths]
        for i in range(total - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        raise ValueError(f"random_split: lengths must be counts or fractions summing to 1, got {lengths}")
    if sum(counts) != total or min(counts, default=0) < 0:
        raise ValueError(f"random_split: lengths {counts} do not sum to the dataset's {total} samples")
    rng = numpy.random.default_rng(seed) if seed is not None else backend.generator("cpu")
    order = rng.permutation(total)
    bounds = numpy.cumsum([0] + counts)
    return [Subset(dataset, order[start:stop]) for start, stop in zip(bounds[:-1], bounds[1:])]


def targets_of(dataset: Any) -> numpy.ndarray:
    """All labels of a dataset of ``(input, label)`` samples: its ``targets`` when it has them,
    else read sample by sample."""
    if hasattr(dataset, "targets"):
        return numpy.asarray(backend.to_numpy(_raw_array(dataset.targets)))
    if isinstance(dataset, TensorDataset) and len(dataset.tensors) == 2:
        return backend.to_numpy(dataset.tensors[1].array)
    return backend.to_numpy(get_batch(dataset, numpy.arange(len(dataset)))[1])


class RandomLabels(Dataset):
    """``dataset`` with its labels randomised by ``seed``; inputs unchanged (Zhang et al., 2017,
    "Understanding deep learning requires rethinking generalization").

    ``mode='permute'`` shuffles the existing labels among the samples (class counts kept);
    ``mode='uniform'`` draws each label uniformly from ``num_classes`` classes (default: the
    largest label + 1). The new labels are in ``targets``, the old ones in ``original_targets``.

    >>> noisy = RandomLabels(TensorDataset(tn.randn(6, 2), tn.tensor([0, 0, 1, 1, 2, 2])), seed=0)
    >>> sorted(noisy.targets.tolist())
    [0, 0, 1, 1, 2, 2]
    """

    def __init__(self, dataset: Any, seed: int = 0, mode: str = "permute",
                 num_classes: int | None = None) -> None:
        self.dataset = dataset
        self.original_targets = targets_of(dataset).astype(numpy.int64)
        rng = numpy.random.default_rng(seed)
        if mode == "permute":
            self.targets = rng.permutation(self.original_targets)
        elif mode == "uniform":
            classes = num_classes if num_classes is not None else int(self.original_targets.max()) + 1
            self.targets = rng.integers(0, classes, size=len(self.original_targets), dtype=numpy.int64)
        else:
            raise ValueError(f"RandomLabels: mode must be 'permute' or 'uniform', got {mode!r}")

    @property
    def data(self) -> Any:
        """The inputs of the wrapped dataset (when it exposes them as ``data``)."""
        return self.dataset.data

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        return self.dataset[index][0], int(self.targets[index])

    def get_batch(self, indices: numpy.ndarray) -> tuple[Any, numpy.ndarray]:
        return get_batch(self.dataset, indices)[0], self.targets[indices]
