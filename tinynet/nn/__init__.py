"""Neural-network building blocks: ``tinynet.nn.functional`` (functions)."""

from tinynet.nn import functional

__all__ = ["functional"]
