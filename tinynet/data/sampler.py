"""Samplers: the order in which a DataLoader visits a dataset's indices, as ``torch.utils.data``'s.

A sampler is an iterable of indices (``SequentialSampler``, ``RandomSampler``…) or of lists of
indices (``BatchSampler``). The random ones draw from their ``generator`` (a ``tn.Generator``),
else from tinynet's shared generator (``tn.manual_seed``): the same seeds give the same orders,
though not PyTorch's orders (the generators differ).

>>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
[[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

import numpy

from tinynet import backend
from tinynet.generator import Generator, numpy_generator
from tinynet.tensor import Tensor


class Sampler:
    """Base class of samplers: subclasses define ``__iter__`` (indices, or lists of indices for a
    batch sampler) and, for ``len(loader)``, ``__len__``.

    >>> class Backwards(Sampler):
    ...     def __init__(self, data): self.data = data
    ...     def __len__(self): return len(self.data)
    ...     def __iter__(self): return iter(range(len(self.data) - 1, -1, -1))
    >>> list(Backwards(range(3)))
    [2, 1, 0]
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __class_getitem__(cls, item: Any) -> type:
        """``Sampler[int]``, as in type hints written for PyTorch's generic Sampler."""
        return cls


class SequentialSampler(Sampler):
    """The indices 0, 1, …, ``len(data_source) - 1``, in order.

    >>> list(SequentialSampler(range(4)))
    [0, 1, 2, 3]
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _positive_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


def _rng(generator: Generator | None, where: str) -> numpy.random.Generator:
    """The NumPy generator ``where`` draws from: ``generator``'s, else a fresh one seeded from
    tinynet's shared generator (as PyTorch seeds a new Generator from its default one)."""
    if generator is not None:
        return numpy_generator(generator, where)
    return numpy.random.default_rng(int(backend.generator("cpu").integers(2**63)))


class RandomSampler(Sampler):
    """A random order of ``data_source``'s indices: a permutation (repeated as needed for
    ``num_samples`` indices), or ``num_samples`` draws with replacement.

    Without ``generator``, each iteration seeds a new generator from tinynet's shared one
    (``tn.manual_seed``), so every epoch has a new order.

    >>> g = tn.Generator().manual_seed(0)
    >>> sorted(RandomSampler(range(5), generator=g))
    [0, 1, 2, 3, 4]
    >>> len(RandomSampler(range(5), replacement=True, num_samples=12))
    12
    """

    def __init__(self, data_source: Sized, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | None = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError("replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not _positive_int(self.num_samples):
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")
        if generator is not None:
            numpy_generator(generator, "RandomSampler")  # a wrong type fails here, not mid-epoch

    @property
    def num_samples(self) -> int:
        """How many indices one iteration yields (``len(data_source)`` unless given)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        rng = _rng(self.generator, "RandomSampler")
        count = int(self.num_samples)
        if self.replacement:
            yield from rng.integers(0, n, size=count).tolist()
        else:
            for _ in range(count // n):
                yield from rng.permutation(n).tolist()
            yield from rng.permutation(n)[:count % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order (a new one each iteration).

    >>> sorted(SubsetRandomSampler([7, 3, 5]))
    [3, 5, 7]
    """

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[Any]:
        rng = numpy_generator(self.generator, "SubsetRandomSampler")
        for i in rng.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices of ``[0, len(weights))``, index ``i`` drawn with probability
    proportional to ``weights[i]``; without ``replacement`` each index is drawn at most once.

    >>> g = tn.Generator().manual_seed(0)
    >>> list(WeightedRandomSampler([0.0, 1.0, 0.0], 4, generator=g))
    [1, 1, 1, 1]
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Generator | None = None) -> None:
        if not _positive_int(num_samples):
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        values = backend.to_numpy(weights.array) if isinstance(weights, Tensor) else weights
        weights_array = numpy.asarray(values, dtype=numpy.float64)
        if weights_array.ndim != 1:
            raise ValueError("weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_array.shape)}")
        self.weights = Tensor(weights_array)
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        weights = self.weights.array
        where = "WeightedRandomSampler (multinomial)"
        if (weights < 0).any() or numpy.isnan(weights).any():
            raise RuntimeError(f"{where}: invalid multinomial distribution (encountering probability "
                               "entry < 0)")
        if numpy.isinf(weights).any():
            raise RuntimeError(f"{where}: invalid multinomial distribution (encountering probability "
                               "entry = infinity or NaN)")
        if weights.sum() <= 0:
            raise RuntimeError(f"{where}: invalid multinomial distribution (sum of probabilities <= 0)")
        if not self.replacement and self.num_samples > weights.size:
            raise RuntimeError(f"{where}: cannot sample n_sample > prob_dist.size(-1) samples without "
                               f"replacement (num_samples={self.num_samples}, {weights.size} weights)")
        rng = numpy_generator(self.generator, "WeightedRandomSampler")
        if self.replacement:
            drawn = rng.choice(weights.size, size=self.num_samples, p=weights / weights.sum())
        else:  # the largest w / Exp(1) keys: sampling without replacement, as torch.multinomial
            keys = weights / rng.exponential(size=weights.size)
            drawn = numpy.argsort(-keys, kind="stable")[:self.num_samples]
        yield from drawn.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler`` (any iterable of indices); the last,
    shorter list is dropped when ``drop_last``.

    >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=True))
    [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not _positive_int(batch_size):
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[Any]]:
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size  # type: ignore[arg-type]
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size  # type: ignore[arg-type]


class SeededShuffle(RandomSampler):
    """The DataLoader's own shuffle (``shuffle=True`` without a ``generator``): epoch ``k``'s
    order is a function of ``seed`` and ``k`` alone, so a resumed run can repeat any epoch.

    Iterating it yields the order of epoch ``epoch`` (set by the DataLoader, or ``set_epoch``).
    Unlike PyTorch's RandomSampler it accepts an empty data source (an empty order).

    >>> sampler = SeededShuffle(range(5), seed=0)
    >>> list(sampler) == sampler.order(0).tolist() != sampler.order(1).tolist()
    True
    """

    def __init__(self, data_source: Sized, seed: int) -> None:
        self.data_source, self.replacement, self._num_samples, self.generator = \
            data_source, False, None, None
        self.seed = int(seed)
        self.epoch = 0

    def order(self, epoch: int) -> numpy.ndarray:
        """The indices of epoch ``epoch``, in the order they are served."""
        return numpy.random.default_rng((self.seed, epoch)).permutation(len(self.data_source))

    def set_epoch(self, epoch: int) -> None:
        """Make iteration yield epoch ``epoch``'s order."""
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[int]:
        return iter(self.order(self.epoch).tolist())


class InfiniteConstantSampler(Sampler):
    """``None`` forever: the DataLoader's sampler for an ``IterableDataset``, whose samples come
    from iterating the dataset, not from indices (as PyTorch's ``_InfiniteConstantSampler``)."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)
