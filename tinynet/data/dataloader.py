"""The DataLoader: a dataset served in (shuffled) batches of tn Tensors, as PyTorch's."""

from __future__ import annotations

import copy
import itertools
import multiprocessing
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy

from tinynet import backend
from tinynet.data.dataset import (IterableDataset, batches_itself, default_collate, default_convert,
                                  get_batch)
from tinynet.data.sampler import (BatchSampler, InfiniteConstantSampler, RandomSampler, Sampler,
                                  SeededShuffle, SequentialSampler)
from tinynet.generator import Generator
from tinynet.tensor import Tensor

# Attributes PyTorch's DataLoader refuses to change once made (its batching is built from them).
_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")
_warned_in_process = False  # the num_workers warning is given once per process


def get_worker_info() -> None:
    """Information about the current DataLoader worker process: always None in tinynet, which
    loads in the main process (``num_workers`` starts no workers), as PyTorch's outside a worker.

    An ``IterableDataset`` that splits its stream by ``get_worker_info()`` therefore yields all of
    it once, as with ``num_workers=0``."""
    return None


class DataLoader:
    """Iterate over ``dataset`` in batches, as ``torch.utils.data.DataLoader`` (same arguments).

    Batches are made by ``collate_fn``, :func:`default_collate` unless given: a sample
    ``(image, label)`` gives a **list** ``[images, labels]`` of Tensors, a dict a dict, Python
    floats a float64 Tensor, ints int64 (PyTorch's rules). ``sampler`` or ``batch_sampler``
    choose the indices; ``shuffle=True`` draws from ``generator`` (a ``tn.Generator``) when given.
    ``batch_size=None`` serves samples one by one, converted by :func:`default_convert`. An
    :class:`IterableDataset` is iterated and its stream batched.

    tinynet additions (keyword-only):

    - With the default collate, a tinynet dataset is fetched with one ``get_batch(indices)`` call
      per batch (array-backed datasets, ``TensorDataset``, ``MNIST``…, do one fancy-index per
      array, with no per-sample loop); the batch is the one ``default_collate`` would make.
    - ``shuffle=True`` without ``generator`` is reproducible per epoch: epoch ``k`` has the same
      order for the same ``seed``, whatever happened before it. Iterating the loader runs epoch
      ``loader.epoch`` and then advances it; ``set_epoch(k)`` chooses the next epoch, so a resumed
      run repeats epoch ``k``'s order exactly. Without ``seed`` (and without ``generator``) one is
      drawn from tinynet's generator (``tn.manual_seed``) when the loader is made (``loader.seed``).
    - ``device`` moves each batch to ``'cpu'`` or ``'cuda'`` once, as a whole.

    Differences from PyTorch: ``num_workers > 0`` starts no worker processes: batches are loaded
    in the main process, exactly as with ``num_workers=0`` (a warning says so once), and
    ``worker_init_fn`` is not called, as PyTorch does not call it with ``num_workers=0``;
    ``timeout``, ``prefetch_factor``, ``persistent_workers``, ``multiprocessing_context`` and
    ``in_order`` are checked as PyTorch checks them, then have nothing to do. ``pin_memory`` is
    accepted and does nothing (with no GPU it warns, as PyTorch does with no accelerator).

    >>> ds = TensorDataset(tn.randn(10, 3), tn.arange(10))
    >>> loader = DataLoader(ds, batch_size=4, shuffle=True, seed=0)
    >>> [tuple(x.shape) for x, y in loader]
    [(4, 3), (4, 3), (2, 3)]
    >>> len(DataLoader(ds, batch_size=4, drop_last=True))
    2
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable[Any] | None = None,
                 batch_sampler: Sampler | Iterable[list[Any]] | None = None, num_workers: int = 0,
                 collate_fn: Callable[[Any], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None, multiprocessing_context: Any = None,
                 generator: Generator | None = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "", in_order: bool = True,
                 seed: int | None = None, device: str | None = None) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let "
                             "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor "
                             "to None.")
        elif num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.multiprocessing_context = _checked_context(multiprocessing_context, num_workers)
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"DataLoader: generator must be a tn.Generator (or None), got "
                            f"{type(generator).__name__}")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: give generator= (PyTorch's) or seed= (tinynet's reproducible "
                             "epochs), not both")

        for name, value in (("sampler", sampler), ("batch_sampler", batch_sampler)):
            if value is not None and (isinstance(value, bool) or not hasattr(value, "__iter__")):
                raise TypeError(f"DataLoader: {name} must be a Sampler or an iterable of indices, "
                                f"got {value!r}; PyTorch's 4th argument is sampler, so pass "
                                "drop_last= by name")
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle option, "
                                 f"but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler option, "
                                 f"but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler "
                                 f"option, but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        own_order = sampler is None and batch_sampler is None and not iterable
        given_batch_sampler = batch_sampler is not None
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")
        if seed is None and generator is None:
            seed = int(backend.generator("cpu").integers(2**63))
        if sampler is None:
            if iterable:
                sampler = InfiniteConstantSampler()
            elif shuffle and generator is not None:
                sampler = RandomSampler(dataset, generator=generator)
            elif shuffle:
                sampler = SeededShuffle(dataset, seed)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.shuffle = shuffle
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.in_order = in_order
        self.persistent_workers = persistent_workers
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self.seed = None if seed is None else int(seed)
        self.device = backend.check_device(device) if device is not None else None
        self.epoch = 0
        self._iterable = iterable
        self._own_order = own_order
        self._given_batch_sampler = given_batch_sampler
        self._initialized = True
        if num_workers > 0:
            _warn_in_process(num_workers, worker_init_fn is not None, iterable)

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_initialized") and name in _FROZEN:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is "
                             "initialized")
        super().__setattr__(name, value)

    # ------------------------------------------------------------------ epochs (tinynet)
    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration run epoch ``epoch`` (0-based), with that epoch's order.

        The order of the loader's own shuffle (``shuffle=True`` without ``generator``) depends on
        ``seed`` and the epoch only; a ``sampler`` or ``batch_sampler`` with a ``set_epoch`` method
        of its own is told the epoch too. Other orders drawn from a generator cannot be set to an
        epoch, and say so."""
        if epoch < 0:
            raise ValueError(f"DataLoader.set_epoch: epoch must be >= 0, got {epoch}")
        if not isinstance(self.sampler, SeededShuffle) and not (self._own_order and not self.shuffle):
            driver = (self.dataset if self._iterable else
                      self.batch_sampler if self._given_batch_sampler else self.sampler)
            if hasattr(driver, "set_epoch"):
                driver.set_epoch(epoch)
            elif type(driver) is not SequentialSampler:
                source = "its generator" if self._own_order else f"its {type(driver).__name__}"
                raise ValueError(f"DataLoader.set_epoch: this loader's order comes from {source}, which "
                                 "cannot be set to an epoch; for resumable epochs shuffle with seed= "
                                 "instead of generator=, or use a sampler with a set_epoch method")
        self.epoch = int(epoch)

    def order(self, epoch: int) -> numpy.ndarray:
        """The sample indices of epoch ``epoch``, in the order they are served (for the loader's
        own order: sequential, or its seeded shuffle)."""
        if isinstance(self.sampler, SeededShuffle):
            return self.sampler.order(epoch)
        if self._own_order and not self.shuffle:
            return numpy.arange(len(self.dataset))
        raise ValueError("DataLoader.order: this loader's order comes from its sampler or generator, "
                         "so it is not known before the epoch runs")

    # ------------------------------------------------------------------ iteration
    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else -(-length // self.batch_size)
            return length
        return len(self._index_sampler)

    def __iter__(self) -> Iterator[Any]:
        epoch = self.epoch
        self.epoch += 1  # now, not at the first batch: iter(loader) starts an epoch
        if self.pin_memory and self.pin_memory_device:
            warnings.warn("pin_memory_device is deprecated, the current accelerator will be used as the "
                          f"device,ignore pin_memory_device='{self.pin_memory_device}'.", stacklevel=2)
        if self.pin_memory and not backend.cuda_is_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device "
                          "pinned memory won't be used.", stacklevel=2)
        if self._iterable:
            return self._stream_batches()
        if isinstance(self.sampler, SeededShuffle):
            self.sampler.set_epoch(epoch)
            order = self.sampler.order(epoch).tolist()
            indices: Iterable[Any] = (BatchSampler(order, self.batch_size, self.drop_last)
                                      if self._auto_collation else order)
        else:
            indices = self._index_sampler
        return self._map_batches(indices)

    def _map_batches(self, indices: Iterable[Any]) -> Iterator[Any]:
        fast = self.collate_fn is default_collate and batches_itself(self.dataset)
        for index in indices:
            if not self._auto_collation:
                yield self._moved(self.collate_fn(self.dataset[index]))
            elif fast:
                yield self._tensors(get_batch(self.dataset, _index_array(index)))
            else:
                if callable(getattr(self.dataset, "__getitems__", None)):
                    samples = self.dataset.__getitems__(index)
                else:
                    samples = [self.dataset[i] for i in index]
                yield self._moved(self.collate_fn(samples))

    def _stream_batches(self) -> Iterator[Any]:
        stream = iter(self.dataset)
        if not self._auto_collation:
            for sample in stream:
                yield self._moved(self.collate_fn(sample))
            return
        while samples := list(itertools.islice(stream, self.batch_size)):
            if self.drop_last and len(samples) < self.batch_size:
                return
            yield self._moved(self.collate_fn(samples))

    def _tensors(self, batch: Any) -> Any:
        """A ``get_batch`` result in ``default_collate``'s form: arrays become Tensors (on
        ``device``), tuples of batches lists."""
        if isinstance(batch, Tensor) or backend.is_array(batch):
            return self._moved(batch if isinstance(batch, Tensor) else Tensor(batch))
        if isinstance(batch, tuple) and hasattr(batch, "_fields"):
            return type(batch)(*(self._tensors(part) for part in batch))
        if isinstance(batch, tuple) and batch and all(isinstance(part, (str, bytes)) for part in batch):
            return batch  # a field of strings, which default_collate leaves as it is
        if isinstance(batch, (tuple, list)):
            return [self._tensors(part) for part in batch]
        if isinstance(batch, Mapping):
            return _mapping_like(batch, {key: self._tensors(value) for key, value in batch.items()})
        return batch

    def _moved(self, batch: Any) -> Any:
        """``batch`` with its Tensors on ``device`` (unchanged without one)."""
        if self.device is None:
            return batch
        if isinstance(batch, Tensor):
            return batch if batch.device == self.device else batch.to(self.device)
        if isinstance(batch, tuple) and hasattr(batch, "_fields"):
            return type(batch)(*(self._moved(part) for part in batch))
        if isinstance(batch, (tuple, list)):
            return type(batch)(self._moved(part) for part in batch)
        if isinstance(batch, Mapping):
            return _mapping_like(batch, {key: self._moved(value) for key, value in batch.items()})
        return batch


def _mapping_like(original: Mapping, values: dict) -> Any:
    """``values`` in ``original``'s mapping type where that type can be copied, else a dict."""
    try:
        clone = copy.copy(original)
        clone.update(values)  # type: ignore[attr-defined]
        return clone
    except (TypeError, AttributeError):
        return values


def _index_array(indices: Any) -> numpy.ndarray:
    """A batch of indices (a list from a BatchSampler, an array, a Tensor) as an int64 array."""
    if isinstance(indices, Tensor):
        indices = backend.to_numpy(indices.array)
    return numpy.asarray(indices, dtype=numpy.int64).reshape(-1)


def _checked_context(context: Any, num_workers: int) -> Any:
    """``multiprocessing_context`` checked as PyTorch checks it (it is not used: no workers)."""
    if context is None:
        return None
    if num_workers <= 0:
        raise ValueError("multiprocessing_context can only be used with multi-process loading "
                         f"(num_workers > 0), but got num_workers={num_workers}")
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                             f"{methods!r}, but got multiprocessing_context={context!r}")
        context = multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError("multiprocessing_context option should be a valid context object or a string "
                        f"specifying the start method, but got multiprocessing_context={context}")
    return context


def _warn_in_process(num_workers: int, has_init_fn: bool, iterable: bool) -> None:
    """Say once per process that ``num_workers`` starts no workers in tinynet."""
    global _warned_in_process
    if _warned_in_process:
        return
    _warned_in_process = True
    notes = ["worker_init_fn is not called (as in PyTorch with num_workers=0)"] if has_init_fn else []
    if iterable:
        notes.append("an IterableDataset is iterated once, not once per worker")
    warnings.warn(f"DataLoader: num_workers={num_workers}: tinynet starts no worker processes; it loads "
                  "every batch in the main process, so the batches are exactly those of num_workers=0"
                  + "".join(f"; {note}" for note in notes) + ".", UserWarning, stacklevel=3)

