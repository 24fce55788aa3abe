"""``torch.utils.data``'s names for tinynet's data tools (``tinynet.data``): datasets
(Dataset, IterableDataset, TensorDataset, Subset, ConcatDataset, ChainDataset, random_split),
samplers (Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler, WeightedRandomSampler,
BatchSampler), the DataLoader and its collate functions (default_collate, default_convert), and
get_worker_info.

>>> from tinynet.utils.data import DataLoader, TensorDataset
>>> x, y = next(iter(DataLoader(TensorDataset(tn.randn(8, 2), tn.arange(8)), batch_size=4)))
"""

from tinynet.data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset,
                          RandomSampler, Sampler, SequentialSampler, Subset, SubsetRandomSampler,
                          TensorDataset, WeightedRandomSampler, default_collate, default_convert,
                          get_worker_info, random_split)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler",
           "TensorDataset", "WeightedRandomSampler", "default_collate", "default_convert",
           "get_worker_info", "random_split"]
