"""``tn.Generator``: a random number generator with its own state, as ``torch.Generator``.

A Generator holds a NumPy ``PCG64`` bit generator; code that takes ``generator=`` (the DataLoader,
the samplers, ``random_split``, ``tn.randn``/``rand``/``randint``/``randperm``) draws from it
instead of from tinynet's shared generator (the one ``tn.manual_seed`` seeds). The same seed
always gives the same numbers, but not PyTorch's numbers: the two libraries' generators differ.
"""

from __future__ import annotations

import numbers
import os
from typing import Any

import numpy

from tinynet import backend
from tinynet.devices import device as _device

# torch.Generator()'s seed before manual_seed (c10's default_rng_seed_val): a fresh Generator is
# deterministic, as in PyTorch.
DEFAULT_SEED = 67280421310721
_MAGIC = b"tnG1"  # the first bytes of a state from get_state, and its format's version
STATE_SIZE = len(_MAGIC) + 8 + 16 + 16 + 1 + 4


class Generator:
    """A source of random numbers with a state of its own, as ``torch.Generator``.

    ``device`` is ``'cpu'`` or ``'cuda'``; tinynet draws every random number on the CPU and moves
    it, so the device is recorded (``g.device``) but the numbers are the same on either. A fresh
    Generator starts from the same seed every time (``initial_seed()`` is PyTorch's 67280421310721).

    >>> g = tn.Generator().manual_seed(42)
    >>> a = tn.randn(3, generator=g)
    >>> bool((tn.randn(3, generator=tn.Generator().manual_seed(42)) == a).all())
    True
    """

    def __init__(self, device: Any = "cpu") -> None:
        self.device = _device(backend.check_device(device))
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Seed the generator and return it (so ``g = tn.Generator().manual_seed(0)`` works).

        ``seed`` is an int in [-2**63, 2**64); negative seeds wrap around to 64-bit unsigned, as in
        PyTorch (``manual_seed(-1).initial_seed()`` is 2**64 - 1)."""
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise RuntimeError(f"Generator.manual_seed: manual_seed expected a long, but got "
                               f"{type(seed).__name__}")
        seed = int(seed)
        if not -2**63 <= seed < 2**64:
            raise ValueError(f"Generator.manual_seed: Overflow when unpacking long long: seed {seed} "
                             "is outside [-2**63, 2**64)")
        self._seed = seed % 2**64
        self._numpy = numpy.random.Generator(numpy.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        """Seed the generator with a non-deterministic number (from the OS) and return it."""
        seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """The seed the generator was last seeded with (``manual_seed`` or ``seed``)."""
        return self._seed

    def get_state(self) -> Any:
        """The generator's state, a 1-D uint8 Tensor to give back to :meth:`set_state`.

        The bytes are tinynet's own format (a tag, the initial seed and NumPy's PCG64 state),
        not PyTorch's 5056-byte Mersenne Twister state: the two cannot be exchanged.
        """
        from tinynet.tensor import Tensor

        state = self._numpy.bit_generator.state
        raw = (_MAGIC + self._seed.to_bytes(8, "little")
               + state["state"]["state"].to_bytes(16, "little")
               + state["state"]["inc"].to_bytes(16, "little")
               + bytes([state["has_uint32"]]) + int(state["uinteger"]).to_bytes(4, "little"))
        return Tensor(numpy.frombuffer(raw, dtype=numpy.uint8).copy())

    def set_state(self, new_state: Any) -> Generator:
        """Restore a state from :meth:`get_state` (a uint8 Tensor) and return the generator."""
        from tinynet.tensor import Tensor

        if not isinstance(new_state, Tensor):
            raise TypeError(f"Generator.set_state: expected a torch.ByteTensor (a uint8 Tensor from "
                            f"Generator.get_state), but got {type(new_state).__name__}")
        if new_state.dtype != numpy.uint8:
            raise TypeError(f"Generator.set_state: RNG state must be a torch.ByteTensor (uint8), got "
                            f"dtype {new_state.dtype}")
        raw = backend.to_numpy(new_state.array).reshape(-1).tobytes()
        if len(raw) != STATE_SIZE or not raw.startswith(_MAGIC):
            raise RuntimeError(f"Generator.set_state: Expected a tinynet Generator state of size "
                               f"{STATE_SIZE} (from Generator.get_state) but found the input RNG "
                               f"state size to be {len(raw)}"
                               + ("" if len(raw) != STATE_SIZE else " with an unknown tag"))
        at = len(_MAGIC)
        seed = int.from_bytes(raw[at:at + 8], "little")
        bits = numpy.random.PCG64()
        bits.state = {"bit_generator": "PCG64",
                          "state": {"state": int.from_bytes(raw[at + 8:at + 24], "little"),
                                    "inc": int.from_bytes(raw[at + 24:at + 40], "little")},
                          "has_uint32": raw[at + 40],
                          "uinteger": int.from_bytes(raw[at + 41:at + 45], "little")}
        self._seed, self._numpy = seed, numpy.random.Generator(bits)
        return self

    def __repr__(self) -> str:
        return f"<tinynet.Generator device='{self.device}' initial_seed={self._seed}>"


def numpy_generator(generator: Generator | None, function: str) -> numpy.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, or tinynet's shared CPU generator (the
    one ``tn.manual_seed`` seeds) when it is None. ``function`` names the caller in the error."""
    if generator is None:
        return backend.generator("cpu")
    if not isinstance(generator, Generator):
        raise TypeError(f"{function}: generator must be a tn.Generator (or None), got "
                        f"{type(generator).__name__}")
    return generator._numpy
