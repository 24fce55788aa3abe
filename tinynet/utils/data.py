"""``torch.utils.data``'s names for tinynet's data tools (``tinynet.data``): Dataset,
TensorDataset, Subset, ConcatDataset, random_split and DataLoader."""

from tinynet.data import ConcatDataset, DataLoader, Dataset, Subset, TensorDataset, random_split

__all__ = ["ConcatDataset", "DataLoader", "Dataset", "Subset", "TensorDataset", "random_split"]
