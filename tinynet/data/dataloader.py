"""The DataLoader: a dataset served in (shuffled) batches of tn Tensors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy

from tinynet import backend
from tinynet.data.dataset import get_batch
from tinynet.tensor import Tensor


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples, as tn Tensors.

    Each batch is fetched with one call to ``dataset.get_batch(indices)``, which for array-backed
    datasets (``TensorDataset``, ``MNIST``…) is one fancy-index per array, with no per-sample loop.
    A batch is a tuple of Tensors when samples are tuples (``for x, y in loader``), else a Tensor.

    Shuffling is reproducible: epoch ``k`` always has the same order for the same ``seed``,
    whatever happened before it. Iterating the loader runs the epoch ``loader.epoch`` and then
    advances it; ``set_epoch(k)`` chooses the next epoch, so a resumed run repeats epoch ``k``'s
    order exactly. Without ``seed``, one is drawn from tinynet's generator (``tn.manual_seed``)
    when the loader is made, and kept in ``loader.seed``.

    ``device`` (not in PyTorch) moves each batch to ``'cpu'`` or ``'cuda'`` once, as a whole.

    >>> ds = TensorDataset(tn.randn(10, 3), tn.arange(10))
    >>> loader = DataLoader(ds, batch_size=4, shuffle=True, seed=0)
    >>> [tuple(x.shape) for x, y in loader]
    [(4, 3), (4, 3), (2, 3)]
    >>> len(DataLoader(ds, batch_size=4, drop_last=True))
    2
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, device: str | None = None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, numpy.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.device = backend.check_device(device) if device is not None else None
        if seed is None:
            seed = int(backend.generator("cpu").integers(2**63))
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration run epoch ``epoch`` (0-based), with that epoch's order."""
        if epoch < 0:
            raise ValueError(f"DataLoader.set_epoch: epoch must be >= 0, got {epoch}")
        self.epoch = int(epoch)

    def order(self, epoch: int) -> numpy.ndarray:
        """The sample indices of epoch ``epoch``, in the order they are served."""
        if not self.shuffle:
            return numpy.arange(len(self.dataset))
        return numpy.random.default_rng((self.seed, epoch)).permutation(len(self.dataset))

    def __len__(self) -> int:
        full, remainder = divmod(len(self.dataset), self.batch_size)
        return full + (1 if remainder and not self.drop_last else 0)

    def __iter__(self) -> Iterator[Any]:
        indices = self.order(self.epoch)
        self.epoch += 1  # now, not at the first batch: iter(loader) starts an epoch
        return self._batches(indices)

    def _batches(self, indices: numpy.ndarray) -> Iterator[Any]:
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield self._to_tensors(get_batch(self.dataset, indices[start:start + self.batch_size]))

    def _to_tensors(self, batch: Any) -> Any:
        if isinstance(batch, tuple):
            return tuple(self._to_tensors(part) for part in batch)
        array = batch.array if isinstance(batch, Tensor) else batch
        if self.device is not None:
            array = backend.to_device(array, self.device)
        return Tensor(array)
