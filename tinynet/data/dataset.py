"""Datasets: indexable collections of samples, and ways to take parts of them.

A dataset has ``__len__`` and ``__getitem__(i)`` (one sample, usually an ``(input, label)``
tuple), as in PyTorch. tinynet adds one method, :meth:`Dataset.get_batch`, which returns a
whole batch of samples as stacked arrays. The base class builds a batch sample by sample; the
datasets that hold their data as arrays (:class:`TensorDataset`, ``MNIST``…) override it with
one fancy-index per array, so the :class:`~tinynet.data.DataLoader` never loops over samples.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import math
import numbers
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, MutableSequence, Sequence
from typing import Any

import numpy

from tinynet import backend
from tinynet.generator import Generator, numpy_generator
from tinynet.tensor import Tensor, _host_array


class Dataset:
    """Base class of datasets: subclasses define ``__len__`` and ``__getitem__``.

    >>> class Squares(Dataset):
    ...     def __len__(self): return 10
    ...     def __getitem__(self, i): return float(i), float(i * i)
    >>> Squares().get_batch(numpy.array([2, 3]))
    (array([2., 3.]), array([4., 9.]))

    ``Dataset[T]`` is accepted in type hints and base classes, as PyTorch's generic Dataset.
    """

    def __class_getitem__(cls, item: Any) -> type:
        """``Dataset[tuple[Tensor, int]]``: the class itself (tinynet's datasets are not generic)."""
        return cls

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


class IterableDataset(Dataset):
    """Base class of datasets that are streams: subclasses define ``__iter__`` (yielding samples),
    as ``torch.utils.data.IterableDataset``. A DataLoader iterates it and batches what it yields;
    it takes no ``shuffle``, ``sampler`` or ``batch_sampler``. ``len()`` works only where the
    subclass defines ``__len__``.

    >>> class Count(IterableDataset):
    ...     def __iter__(self): return iter(range(5))
    >>> [b.tolist() for b in DataLoader(Count(), batch_size=2)]
    [[0, 1], [2, 3], [4]]
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __len__(self) -> int:
        raise TypeError(f"object of type '{type(self).__name__}' has no len()")

    def __add__(self, other: Any) -> ChainDataset:
        """``a + b``: the samples of ``a``, then those of ``b`` (a ``ChainDataset``)."""
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """The samples of several iterable datasets, one stream after another, as PyTorch's.

    >>> class Count(IterableDataset):
    ...     def __init__(self, n): self.n = n
    ...     def __iter__(self): return iter(range(self.n))
    >>> list(ChainDataset([Count(2), Count(3)]))
    [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from dataset

    def __len__(self) -> int:
        total = 0
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(dataset)
        return total


_STRING_OR_OBJECT = re.compile(r"[SaUO]")  # NumPy dtypes default_collate refuses (dtype.str)
COLLATE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                 "found {}")


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def _check_same_shapes(arrays: Sequence[Any]) -> None:
    """PyTorch's error for a batch of tensors of different shapes (which torch.stack refuses)."""
    first = tuple(arrays[0].shape)
    for entry, array in enumerate(arrays):
        if tuple(array.shape) != first:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(first)} at "
                               f"entry 0 and {list(array.shape)} at entry {entry}")


def _numpy_scalars(batch: Sequence[Any]) -> numpy.ndarray:
    """NumPy scalars (maybe with Python numbers among them) as one array, as torch.as_tensor."""
    if all(isinstance(b, numpy.generic) for b in batch):
        return numpy.asarray(batch)
    # Python numbers are "weak" in NumPy 2's promotion, as in PyTorch's: np.float32 + 2.5 -> float32
    return numpy.asarray(batch, dtype=numpy.result_type(*{type(b): b for b in batch}.values()))


def _rebuild_mapping(elem: Mapping, collated: dict) -> Any:
    """``collated`` in the mapping type of ``elem`` where it can be, as default_collate does."""
    try:
        if isinstance(elem, MutableMapping):
            clone = copy.copy(elem)
            clone.update(collated)
            return clone
        return type(elem)(collated)
    except TypeError:
        return collated


def _collate(batch: Sequence[Any], arrays: bool) -> Any:
    """``default_collate``'s rules. With ``arrays`` the leaves are NumPy/CuPy arrays and tuple
    samples give tuples (tinynet's ``get_batch`` convention); else Tensors and lists, as PyTorch."""
    if len(batch) == 0:
        raise IndexError("default_collate: got an empty batch (a list of no samples)")
    elem = batch[0]
    if isinstance(elem, Tensor):
        _check_same_shapes(batch)
        if arrays:
            parts = [b.array if isinstance(b, Tensor) else b for b in batch]
            return backend.get_array_module(parts[0]).stack(parts)
        from tinynet.ops import stack  # keeps the samples' graph, as torch.stack does

        return stack(list(batch))
    if backend.is_array(elem):
        if _STRING_OR_OBJECT.search(elem.dtype.str) is not None:
            raise TypeError(COLLATE_ERROR.format(elem.dtype))
        parts = [b.array if isinstance(b, Tensor) else b if backend.is_array(b) else numpy.asarray(b)
                 for b in batch]
        _check_same_shapes(parts)
        stacked = backend.get_array_module(parts[0]).stack(parts)
        return stacked if arrays else Tensor(stacked)
    if isinstance(elem, (numpy.bool_, numpy.number, numpy.object_)):
        array = _numpy_scalars(batch)
    elif isinstance(elem, float):
        array = numpy.asarray(batch, dtype=numpy.float64)
    elif isinstance(elem, int):  # and bool: torch.tensor(batch)'s dtype (bool, int64, or float)
        array = _host_array(list(batch))
    elif isinstance(elem, (str, bytes)):
        return batch
    elif isinstance(elem, Mapping):
        return _rebuild_mapping(elem, {key: _collate([d[key] for d in batch], arrays) for key in elem})
    elif _is_namedtuple(elem):
        return type(elem)(*(_collate(field, arrays) for field in zip(*batch)))
    elif isinstance(elem, Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [_collate(field, arrays) for field in zip(*batch)]  # tuples, as PyTorch passes them
        if isinstance(elem, tuple):
            return tuple(fields) if arrays else fields
        return _same_kind(elem, fields)
    else:
        raise TypeError(COLLATE_ERROR.format(type(elem)))
    return array if arrays else Tensor(array)


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, field by field, as ``torch.utils.data.default_collate``.

    Tensors and NumPy arrays are stacked along a new first dimension (all samples need the same
    shape); Python floats become a float64 Tensor, ints int64, bools bool, NumPy scalars keep their
    dtype; strings and bytes stay a list. Samples that are dicts give a dict of batches,
    namedtuples the namedtuple, and tuples or lists a **list** of batches (PyTorch's rule). This is
    the DataLoader's ``collate_fn`` unless another is given.

    >>> default_collate([(1.5, 0), (2.5, 1)])
    [tensor([1.5000, 2.5000], dtype=tinynet.float64), tensor([0, 1])]
    >>> default_collate([{"x": tn.zeros(2), "name": "a"}, {"x": tn.ones(2), "name": "b"}])["name"]
    ['a', 'b']
    """
    return _collate(batch, arrays=False)


def _same_kind(sequence: Sequence, items: list[Any]) -> Any:
    """``items`` in a sequence of ``sequence``'s own type where it can be made (a mutable one is
    copied and filled, as PyTorch does), else the list."""
    try:
        if isinstance(sequence, MutableSequence):
            clone = copy.copy(sequence)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(sequence)(items)
    except TypeError:
        return items


def default_convert(data: Any) -> Any:
    """Turn the NumPy arrays and scalars in ``data`` into Tensors (sharing memory), through dicts,
    namedtuples, tuples (which become lists) and lists, as ``torch.utils.data.default_convert``.
    Everything else, and arrays of strings or objects, is left as it is. This is the DataLoader's
    ``collate_fn`` with ``batch_size=None``.

    >>> default_convert((numpy.array([1, 2]), "a"))
    [tensor([1, 2]), 'a']
    """
    if isinstance(data, Tensor):
        return data
    if backend.is_array(data) or (type(data).__module__ == "numpy"
                                  and type(data).__name__ not in ("str_", "bytes_")):
        if backend.is_array(data) and _STRING_OR_OBJECT.search(data.dtype.str) is not None:
            return data
        return Tensor(data if backend.is_array(data) else numpy.asarray(data))
    if isinstance(data, Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return _same_kind(data, [default_convert(d) for d in data])
    return data


def collate(samples: Sequence[Any]) -> Any:
    """Stack a list of samples into arrays, field by field: :func:`default_collate`'s rules, with
    NumPy/CuPy arrays for Tensors and a tuple of batches for tuple samples (the form
    :meth:`Dataset.get_batch` returns; the DataLoader turns it into PyTorch's list of Tensors).

    >>> collate([(numpy.zeros(2), 1), (numpy.ones(2), 0)])
    (array([[0., 0.],
           [1., 1.]]), array([1, 0]))
    """
    return _collate(samples, arrays=True)


def _definer(cls: type, name: str) -> type | None:
    """The class in ``cls``'s MRO that defines ``name``."""
    return next((klass for klass in cls.__mro__ if name in vars(klass)), None)


def batches_itself(dataset: Any) -> bool:
    """Whether ``dataset.get_batch`` gives the samples its ``__getitem__`` gives: true when it has
    a ``get_batch`` of its own, and no class outside tinynet changed ``__getitem__`` below the
    class that wrote that ``get_batch`` (a user's subclass of ``TensorDataset`` that changes only
    ``__getitem__`` must be read sample by sample). tinynet's own classes keep the two in step."""
    if not callable(getattr(dataset, "get_batch", None)):
        return False
    batcher, getter = _definer(type(dataset), "get_batch"), _definer(type(dataset), "__getitem__")
    if batcher is None or batcher is Dataset:
        return False
    return getter is None or issubclass(batcher, getter) or getter.__module__.startswith("tinynet.")


def get_batch(dataset: Any, indices: numpy.ndarray) -> Any:
    """``dataset.get_batch(indices)``, or the batch built sample by sample (with :func:`collate`)
    for a dataset that has no batch method of its own, or whose ``__getitem__`` was changed in a
    subclass after its ``get_batch`` was written (see :func:`batches_itself`)."""
    if batches_itself(dataset):
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


def random_split(dataset: Any, lengths: Sequence[int | float], generator: Generator | None = None, *,
                 seed: int | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    ``lengths`` are counts that sum to ``len(dataset)``, or fractions that sum to 1 (the
    leftover samples go one each to the first subsets, as PyTorch does). The permutation comes
    from ``generator`` (a ``tn.Generator``, as PyTorch's argument), or from ``seed`` (tinynet's
    shortcut), else from tinynet's shared generator (``tn.manual_seed``).

    >>> train, val = random_split(TensorDataset(tn.arange(10)), [0.8, 0.2], seed=0)
    >>> len(train), len(val)
    (8, 2)
    >>> a, b = random_split(range(10), [3, 7], generator=tn.Generator().manual_seed(42))
    """
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"random_split: generator must be a tn.Generator, got {type(generator).__name__}"
                        + ("; give a seed as seed=" if isinstance(generator, numbers.Integral) else ""))
    if generator is not None and seed is not None:
        raise ValueError("random_split: give generator or seed, not both")
    total = len(dataset)
    if all(isinstance(n, numbers.Integral) for n in lengths):
        counts = [int(n) for n in lengths]
    elif math.isclose(sum(lengths), 1.0) and all(0 <= f <= 1 for f in lengths):
        counts = [int(math.floor(total * f)) for f in lengths]
        for i in range(total - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
    else:
        raise ValueError(f"random_split: lengths must be counts or fractions summing to 1, got {lengths}")
    if sum(counts) != total or min(counts, default=0) < 0:
        raise ValueError(f"random_split: lengths {counts} do not sum to the dataset's {total} samples "
                         "(Sum of input lengths does not equal the length of the input dataset!)")
    if seed is not None:
        rng = numpy.random.default_rng(seed)
    else:
        rng = numpy_generator(generator, "random_split")
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
