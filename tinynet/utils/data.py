"""``torch.utils.data``'s names for tinynet's data tools (``tinynet.data``): Dataset,
TensorDataset, Subset, random_split and DataLoader."""

from tinynet.data import DataLoader, Dataset, Subset, TensorDataset, random_split

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "random_split"]
