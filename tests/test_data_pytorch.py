"""tinynet.utils.data against torch.utils.data: default_collate/default_convert, the DataLoader's
arguments and errors, the samplers, IterableDataset, and tn.Generator.

Where PyTorch is deterministic (collated types, dtypes, shapes and values; sequential and batch
sampler orders; lengths; error types and texts) the results must be PyTorch's. Random orders
cannot be PyTorch's (another generator): they must be permutations, and repeat with the seed.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict, namedtuple

import numpy
import pytest

import tinynet as tn
from tinynet.data import dataloader as dataloader_module
from tinynet.utils.data import (BatchSampler, ChainDataset, DataLoader, Dataset, IterableDataset,
                                RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                                TensorDataset, WeightedRandomSampler, default_collate, default_convert,
                                get_worker_info, random_split)

Point = namedtuple("Point", ["x", "y"])


def torch_or_skip():
    return pytest.importorskip("torch")


def assert_same(ours, theirs, where="batch"):
    """``ours`` (tinynet) has the structure, container types, dtypes, shapes and values of
    ``theirs`` (PyTorch)."""
    torch = torch_or_skip()
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, tn.Tensor), f"{where}: expected a Tensor, got {type(ours).__name__}"
        assert numpy.dtype(ours.dtype).name == str(theirs.dtype).removeprefix("torch."), \
            f"{where}: dtype {ours.dtype} != {theirs.dtype}"
        assert tuple(ours.shape) == tuple(theirs.shape), f"{where}: shape {ours.shape} != {theirs.shape}"
        numpy.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=where)
        return
    assert type(ours) is type(theirs), f"{where}: {type(ours).__name__} != {type(theirs).__name__}"
    if isinstance(theirs, numpy.ndarray):
        assert ours.dtype == theirs.dtype, where
        numpy.testing.assert_array_equal(ours, theirs, err_msg=where)
    elif isinstance(theirs, dict):
        assert list(ours) == list(theirs), where
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{where}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert ours == theirs, where


def samples(lib):
    """Lists of samples of every element type default_collate knows, with ``lib``'s tensors."""
    return {
        "floats": [1.5, 2.0, -3.25],
        "ints": [1, 2, 3],
        "bools": [True, False, True],
        "ints_then_float": [1, 2.5],
        "bool_and_int": [True, 2],
        "np_float64": [numpy.float64(1.5), numpy.float64(2.5)],
        "np_float32": [numpy.float32(1.5), numpy.float32(2.5)],
        "np_int32": [numpy.int32(1), numpy.int32(-2)],
        "np_bool": [numpy.bool_(True), numpy.bool_(False)],
        "np_float32_and_float": [numpy.float32(1.5), 2.5],
        "np_arrays_f64": [numpy.array([1.0, 2.0]), numpy.array([3.0, 4.0])],
        "np_arrays_i16": [numpy.array([[1, 2]], numpy.int16), numpy.array([[3, 4]], numpy.int16)],
        "np_0d": [numpy.array(1.5), numpy.array(2.5)],
        "tensors": [lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])],
        "int_tensors": [lib.tensor([[1]]), lib.tensor([[2]])],
        "strings": ["a", "bc"],
        "bytes": [b"a", b"bc"],
        "tuples": [(lib.tensor([1.0]), 0), (lib.tensor([2.0]), 1)],
        "lists": [[1, 2.0], [3, 4.0]],
        "dicts": [{"x": numpy.zeros(2, numpy.float32), "label": 1, "name": "a"},
                  {"x": numpy.ones(2, numpy.float32), "label": 0, "name": "b"}],
        "ordered_dicts": [OrderedDict(b=1, a=2.0), OrderedDict(b=3, a=4.0)],
        "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
        "strings_in_tuples": [("a", 1), ("b", 2)],
        "nested": [{"pair": (1, [2.0, "s"]), "p": Point(numpy.int64(1), lib.tensor(0.5))},
                   {"pair": (3, [4.0, "t"]), "p": Point(numpy.int64(2), lib.tensor(1.5))}],
        "ranges": [range(2), range(2)],
    }


@pytest.mark.parametrize("kind", list(samples(tn)))
def test_default_collate_matches_pytorch_for_every_element_type(kind):
    torch = torch_or_skip()
    ours = default_collate(samples(tn)[kind])
    theirs = torch.utils.data.default_collate(samples(torch)[kind])
    assert_same(ours, theirs, kind)


@pytest.mark.parametrize("kind", ["tensors", "np_arrays_f64", "np_0d", "np_float64", "dicts", "tuples",
                                  "namedtuples", "strings", "lists", "ints"])
def test_default_convert_matches_pytorch(kind):
    torch = torch_or_skip()
    for ours_sample, their_sample in zip(samples(tn)[kind], samples(torch)[kind]):
        assert_same(default_convert(ours_sample), torch.utils.data.default_convert(their_sample), kind)
    text = numpy.array(["a", "b"])
    assert default_convert(text) is text  # arrays of strings stay arrays, as PyTorch's
    shared = numpy.zeros(3)
    converted = default_convert(shared)  # as torch.as_tensor: shares memory with the array
    converted.numpy()[1] = 7.0
    assert shared[1] == 7.0


@pytest.mark.parametrize("make", [
    lambda lib: [lib.zeros(2), lib.zeros(3)],
    lambda lib: [numpy.zeros(2), numpy.zeros((3, 1))],
    lambda lib: [lib.zeros(2, 2), lib.zeros(2, 2), lib.zeros(2, 3)],
    lambda lib: [(1, 2), (1,)],
    lambda lib: [object()],
    lambda lib: [None, None],
    lambda lib: [numpy.array(["a"])],
    lambda lib: [numpy.array([object()])],
], ids=["tensor_shapes", "array_shapes", "third_entry", "tuple_sizes", "object", "none", "str_array",
        "object_array"])
def test_default_collate_errors_are_pytorchs(make):
    torch = torch_or_skip()
    with pytest.raises(Exception) as theirs:
        torch.utils.data.default_collate(make(torch))
    with pytest.raises(type(theirs.value)) as ours:
        default_collate(make(tn))
    assert str(ours.value) == str(theirs.value)


def test_default_collate_stacks_tensors_in_the_graph_and_empty_batches_fail():
    w = tn.tensor([1.0, 2.0], requires_grad=True)
    default_collate([w * 2, w * 3]).sum().backward()  # torch.stack keeps the graph too
    assert w.grad.tolist() == [5.0, 5.0]
    with pytest.raises(IndexError, match="default_collate: got an empty batch"):
        default_collate([])


# ----------------------------------------------------------------------------- DataLoader
class Items(Dataset):
    """A map-style dataset with no batch method of its own: samples from a list."""

    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def loader_pair(make_samples, **arguments):
    """The batches of tinynet's and PyTorch's DataLoader over the same samples and arguments."""
    torch = torch_or_skip()
    ours = list(DataLoader(Items(make_samples(tn)), **arguments))
    theirs = list(torch.utils.data.DataLoader(make_samples(torch), **arguments))
    return ours, theirs


@pytest.mark.parametrize("arguments", [
    dict(batch_size=2), dict(batch_size=2, drop_last=True), dict(batch_size=5), dict(batch_size=None),
    dict(batch_size=3, sampler=[4, 0, 2, 1]), dict(batch_sampler=[[0, 3], [1], [4, 2, 0]]),
    dict(batch_size=2, collate_fn=lambda batch: batch), dict(batch_size=None, collate_fn=lambda s: s),
    dict(batch_size=2, sampler=SequentialSampler(range(5))),
], ids=["batch2", "drop_last", "one_batch", "no_batching", "sampler", "batch_sampler", "collate_fn",
        "convert_fn", "sequential_sampler"])
@pytest.mark.parametrize("kind", ["tuples_mixed", "dicts", "namedtuples", "floats", "arrays"])
def test_dataloader_batches_match_pytorch(arguments, kind):
    def make(lib):
        return {
            "tuples_mixed": [(lib.tensor([float(i), -1.0]), i, float(i) / 2, f"s{i}") for i in range(5)],
            "dicts": [{"x": numpy.full(2, i, numpy.float32), "y": i % 2 == 0} for i in range(5)],
            "namedtuples": [Point(numpy.float64(i), lib.tensor(i)) for i in range(5)],
            "floats": [i / 4 for i in range(5)],
            "arrays": [numpy.arange(3, dtype=numpy.int32) + i for i in range(5)],
        }[kind]

    if isinstance(arguments.get("sampler"), SequentialSampler):
        torch = torch_or_skip()
        ours = list(DataLoader(Items(make(tn)), batch_size=2, sampler=SequentialSampler(range(5))))
        theirs = list(torch.utils.data.DataLoader(make(torch), batch_size=2,
                                                  sampler=torch.utils.data.SequentialSampler(range(5))))
    else:
        ours, theirs = loader_pair(make, **arguments)
    assert_same(ours, theirs, kind)


def test_dataloader_over_tinynet_datasets_gives_pytorchs_structure():
    torch = torch_or_skip()
    x, y = numpy.arange(12, dtype=numpy.float32).reshape(6, 2), numpy.arange(6)
    ours = list(DataLoader(TensorDataset(tn.tensor(x), tn.tensor(y)), batch_size=4))
    theirs = list(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x),
                                                                            torch.tensor(y)), batch_size=4))
    assert_same(ours, theirs)  # [x, y] lists, as PyTorch's, from the one-fancy-index fast path
    assert_same(list(DataLoader(TensorDataset(tn.tensor(x)), batch_size=None)),
                list(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x)),
                                                 batch_size=None)))
    # plain Python containers as datasets, as tutorials use them
    assert_same(list(DataLoader([(1.0, 2), (3.0, 4), (5.0, 6)], batch_size=2)),
                list(torch.utils.data.DataLoader([(1.0, 2), (3.0, 4), (5.0, 6)], batch_size=2)))
    assert_same(list(DataLoader(range(5), batch_size=2)),
                list(torch.utils.data.DataLoader(range(5), batch_size=2)))


def test_a_subclass_that_changes_getitem_is_read_sample_by_sample():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            (x,) = super().__getitem__(i)
            return (x * 2,)

    (batch,) = next(iter(DataLoader(Doubled(tn.arange(4)), batch_size=4)))
    assert batch.tolist() == [0, 2, 4, 6]
    from tinynet.data import Subset
    (batch,) = next(iter(DataLoader(Subset(Doubled(tn.arange(4)), [3, 1]), batch_size=2)))
    assert batch.tolist() == [6, 2]


def test_dataloader_calls_getitems_and_passes_indices_as_given():
    torch = torch_or_skip()

    class Keyed:
        def __init__(self):
            self.seen = []

        def __getitem__(self, key):
            self.seen.append(key)
            return {"key": key, "value": len(key)}

        def __len__(self):
            return 3

    ours, theirs = Keyed(), Keyed()
    sampler = ["a", "bb", "ccc"]
    got = list(DataLoader(ours, batch_size=2, sampler=sampler))
    expected = list(torch.utils.data.DataLoader(theirs, batch_size=2, sampler=sampler))
    assert_same(got, expected)
    assert ours.seen == theirs.seen == sampler

    class Batched(Items):
        def __getitems__(self, indices):
            return [self.items[i] * 10 for i in indices]

    assert [b.tolist() for b in DataLoader(Batched([1, 2, 3]), batch_size=2)] == [[10, 20], [30]]


ERROR_CASES = [
    dict(sampler=[0], shuffle=True), dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True), dict(batch_sampler=[[0]], sampler=[0]),
    dict(batch_sampler=[[0]], drop_last=True), dict(batch_size=None, drop_last=True),
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
    dict(num_workers=1, prefetch_factor=-1), dict(multiprocessing_context="fork"),
    dict(num_workers=1, multiprocessing_context="no-such-method"),
    dict(num_workers=1, multiprocessing_context=3), dict(batch_size=0), dict(batch_size=-2),
    dict(batch_size=2.5), dict(batch_size=True), dict(batch_size=2, drop_last=1),
]


@pytest.mark.parametrize("arguments", ERROR_CASES, ids=[",".join(case) + f"-{i}"
                                                          for i, case in enumerate(ERROR_CASES)])
def test_dataloader_argument_errors_are_pytorchs(arguments):
    torch = torch_or_skip()
    with pytest.raises(Exception) as theirs:
        torch.utils.data.DataLoader(list(range(5)), **arguments)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(type(theirs.value)) as ours:
            DataLoader(list(range(5)), **arguments)
    assert str(ours.value) == str(theirs.value)


def test_dataloader_attributes_are_frozen_and_defaults_are_pytorchs():
    torch = torch_or_skip()
    ours, theirs = DataLoader(list(range(5))), torch.utils.data.DataLoader(list(range(5)))
    for name in ("batch_size", "sampler", "batch_sampler", "drop_last", "dataset", "persistent_workers"):
        with pytest.raises(ValueError) as error:
            setattr(ours, name, None)
        assert str(error.value) == f"{name} attribute should not be set after DataLoader is initialized"
    assert type(ours.sampler).__name__ == type(theirs.sampler).__name__ == "SequentialSampler"
    assert type(ours.batch_sampler).__name__ == type(theirs.batch_sampler).__name__ == "BatchSampler"
    assert ours.collate_fn is default_collate
    assert DataLoader(range(3), batch_size=None).collate_fn is default_convert
    assert (ours.num_workers, ours.pin_memory, ours.timeout, ours.prefetch_factor) == (0, False, 0, None)
    assert isinstance(DataLoader(range(3), shuffle=True).sampler, RandomSampler)
    assert DataLoader(range(3), batch_sampler=[[0]]).batch_size is None
    ours.num_workers = 0  # other attributes may change, as in PyTorch


def test_num_workers_loads_in_process_with_the_same_batches(monkeypatch):
    monkeypatch.setattr(dataloader_module, "_warned_in_process", False)
    calls = []
    data = Items([(numpy.float32(i), i) for i in range(10)])
    with pytest.warns(UserWarning, match="num_workers=3: tinynet starts no worker processes.*"
                                         "worker_init_fn is not called"):
        loader = DataLoader(data, batch_size=3, shuffle=True, seed=4, num_workers=3, prefetch_factor=4,
                            persistent_workers=True, worker_init_fn=calls.append,
                            multiprocessing_context="spawn", timeout=5, in_order=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per process
        DataLoader(data, num_workers=2)
    plain = DataLoader(data, batch_size=3, shuffle=True, seed=4)
    for _ in range(2):  # two epochs
        for a, b in zip(loader, plain, strict=True):
            assert a[0].tolist() == b[0].tolist() and a[1].tolist() == b[1].tolist()
    assert calls == [] and get_worker_info() is None and loader.prefetch_factor == 4


def test_pin_memory_is_accepted_and_changes_nothing():
    data = TensorDataset(tn.arange(6))
    loader = DataLoader(data, batch_size=4, pin_memory=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batches = [b.tolist() for (b,) in loader]
    assert batches == [[0, 1, 2, 3], [4, 5]]
    if not tn.cuda.is_available():
        assert any("'pin_memory' argument is set as true but no accelerator is found" in str(w.message)
                   for w in caught)


def test_a_bool_in_the_sampler_place_is_refused():
    """PyTorch's 4th argument is sampler: a bool there (drop_last meant) is a clear error."""
    with pytest.raises(TypeError, match="sampler must be a Sampler or an iterable of indices, got True"):
        DataLoader(TensorDataset(tn.arange(5)), 2, False, True)


def test_generator_shuffles_deterministically_and_epochs_differ():
    data = TensorDataset(tn.arange(20))

    def epochs(loader, count):
        return [[int(v) for (b,) in loader for v in b.tolist()] for _ in range(count)]

    a = epochs(DataLoader(data, batch_size=6, shuffle=True, generator=tn.Generator().manual_seed(3)), 3)
    b = epochs(DataLoader(data, batch_size=6, shuffle=True, generator=tn.Generator().manual_seed(3)), 3)
    c = epochs(DataLoader(data, batch_size=6, shuffle=True, generator=tn.Generator().manual_seed(4)), 1)
    assert a == b and a[0] != a[1] and a[0] != c[0]
    assert all(sorted(order) == list(range(20)) for order in a)
    loader = DataLoader(data, batch_size=6, shuffle=True, generator=tn.Generator())
    assert loader.seed is None
    with pytest.raises(ValueError, match="set_epoch: this loader's order comes from its generator"):
        loader.set_epoch(2)
    with pytest.raises(ValueError, match="DataLoader.order: this loader's order comes from"):
        loader.order(0)
    with pytest.raises(ValueError, match="give generator= .* or seed="):
        DataLoader(data, shuffle=True, generator=tn.Generator(), seed=1)
    with pytest.raises(TypeError, match="DataLoader: generator must be a tn.Generator"):
        DataLoader(data, shuffle=True, generator=numpy.random.default_rng(0))
    sequential = DataLoader(data, batch_size=6, generator=tn.Generator())
    sequential.set_epoch(1)  # a sequential order has nothing to rewind
    assert sequential.order(1).tolist() == list(range(20))


def test_seeded_shuffle_still_resumes_by_epoch():
    data = TensorDataset(tn.arange(30))
    loader = DataLoader(data, batch_size=7, shuffle=True, seed=11)
    first = [[int(v) for (b,) in loader for v in b.tolist()] for _ in range(3)]
    resumed = DataLoader(data, batch_size=7, shuffle=True, seed=11)
    resumed.set_epoch(2)
    assert [int(v) for (b,) in resumed for v in b.tolist()] == first[2] == resumed.order(2).tolist()
    early, late = iter(loader), iter(loader)  # each iterator keeps its own epoch
    assert [int(v) for (b,) in late for v in b.tolist()] == loader.order(4).tolist()
    assert [int(v) for (b,) in early for v in b.tolist()] == loader.order(3).tolist()


def test_set_epoch_reaches_a_sampler_with_its_own_set_epoch():
    class EpochSampler(Sampler):
        def __init__(self):
            self.epoch = None

        def set_epoch(self, epoch):
            self.epoch = epoch

        def __iter__(self):
            return iter(range(3))

        def __len__(self):
            return 3

    sampler = EpochSampler()
    loader = DataLoader(range(3), sampler=sampler)
    loader.set_epoch(5)
    assert sampler.epoch == 5 and loader.epoch == 5
    with pytest.raises(ValueError, match="comes from its SubsetRandomSampler"):
        DataLoader(range(3), sampler=SubsetRandomSampler([0, 1])).set_epoch(1)


# ----------------------------------------------------------------------------- samplers
def test_sequential_and_batch_samplers_match_pytorch():
    torch = torch_or_skip()
    for n, size, drop in [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (2, 5, True),
                          (0, 2, False)]:
        ours = BatchSampler(SequentialSampler(range(n)), size, drop)
        theirs = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(n)), size, drop)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        assert list(SequentialSampler(range(n))) == list(torch.utils.data.SequentialSampler(range(n)))
    assert list(BatchSampler([5, 1, 4], 2, False)) == [[5, 1], [4]]
    assert Sampler[int] is Sampler


@pytest.mark.parametrize("make", [
    lambda data: data.RandomSampler(range(3), replacement=1),
    lambda data: data.RandomSampler(range(0)),
    lambda data: data.RandomSampler(range(3), num_samples=0),
    lambda data: data.RandomSampler(range(3), num_samples=2.0),
    lambda data: data.WeightedRandomSampler([[1.0, 2.0]], 2),
    lambda data: data.WeightedRandomSampler([1.0, 2.0], 0),
    lambda data: data.WeightedRandomSampler([1.0, 2.0], True),
    lambda data: data.WeightedRandomSampler([1.0, 2.0], 2, replacement=1),
    lambda data: data.BatchSampler(range(3), 0, False),
    lambda data: data.BatchSampler(range(3), 2, 1),
], ids=["replacement", "empty", "num_samples_0", "num_samples_float", "weights_2d", "weighted_0",
        "weighted_bool", "weighted_replacement", "batch_0", "drop_last_int"])
def test_sampler_argument_errors_are_pytorchs(make):
    torch = torch_or_skip()
    import tinynet.utils.data as ours_module
    with pytest.raises(Exception) as theirs:
        make(torch.utils.data)
    with pytest.raises(type(theirs.value)) as ours:
        make(ours_module)
    assert str(ours.value) == str(theirs.value)


def test_random_samplers_are_permutations_and_repeat_with_the_seed():
    torch = torch_or_skip()

    def draw(sampler_class, *args, seed, **kwargs):
        return list(sampler_class(*args, generator=tn.Generator().manual_seed(seed), **kwargs))

    for args, kwargs in [((range(10),), {}), ((range(4),), dict(num_samples=10)),
                         ((range(4),), dict(replacement=True, num_samples=40))]:
        ours = draw(RandomSampler, *args, seed=0, **kwargs)
        assert ours == draw(RandomSampler, *args, seed=0, **kwargs)
        assert ours != draw(RandomSampler, *args, seed=1, **kwargs)
        theirs = list(torch.utils.data.RandomSampler(*args, **kwargs))
        assert len(ours) == len(theirs) == len(RandomSampler(*args, **kwargs))
        if not kwargs.get("replacement"):  # whole permutations, then part of one: as PyTorch's
            n, count = len(args[0]), len(ours)
            for drawn in (ours, theirs):
                assert set(numpy.bincount(drawn, minlength=n).tolist()) <= {count // n, count // n + 1}
        assert set(ours) <= set(range(len(args[0])))
    subset = draw(SubsetRandomSampler, [7, 3, 9, 1], seed=2)
    assert sorted(subset) == [1, 3, 7, 9] and subset == draw(SubsetRandomSampler, [7, 3, 9, 1], seed=2)
    tn.manual_seed(8)
    unseeded = [list(RandomSampler(range(10))) for _ in range(2)]
    tn.manual_seed(8)
    assert [list(RandomSampler(range(10))) for _ in range(2)] == unseeded and unseeded[0] != unseeded[1]


def test_weighted_random_sampler():
    torch = torch_or_skip()
    g = tn.Generator().manual_seed(0)
    drawn = list(WeightedRandomSampler([0.0, 1.0, 3.0, 0.0], 4000, generator=g))
    counts = numpy.bincount(drawn, minlength=4)
    assert counts[0] == counts[3] == 0 and 0.2 < counts[1] / 4000 < 0.3
    once = list(WeightedRandomSampler([0.9, 0.4, 0.05, 0.2, 0.3, 0.1], 6, replacement=False, generator=g))
    assert sorted(once) == list(range(6))
    with_zero = list(WeightedRandomSampler([1.0, 0.0, 1.0], 3, replacement=False, generator=g))
    assert sorted(with_zero) == [0, 1, 2] and with_zero[2] == 1  # zero weight comes last
    seeded = [list(WeightedRandomSampler(tn.tensor([1.0, 2.0, 3.0]), 20,
                                         generator=tn.Generator().manual_seed(5))) for _ in range(2)]
    assert seeded[0] == seeded[1]
    sampler = WeightedRandomSampler([1, 2], 2)
    assert sampler.weights.dtype == numpy.float64 and len(sampler) == 2
    for weights, count, replacement in [([1.0, -1.0], 2, True), ([0.0, 0.0], 2, True),
                                        ([1.0, float("inf")], 2, True), ([1.0, float("nan")], 2, True),
                                        ([1.0, 1.0], 3, False)]:
        with pytest.raises(RuntimeError) as theirs:
            list(torch.utils.data.WeightedRandomSampler(weights, count, replacement))
        with pytest.raises(RuntimeError) as ours:
            list(WeightedRandomSampler(weights, count, replacement))
        assert str(theirs.value) in str(ours.value)


# ----------------------------------------------------------------------------- IterableDataset
class Stream(IterableDataset):
    """A stream with no len()."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        worker = get_worker_info()
        assert worker is None
        return iter([(float(i), i) for i in range(self.n)])


class SizedStream(Stream):
    """A stream with a len()."""

    def __len__(self):
        return self.n


@pytest.mark.parametrize("arguments", [dict(batch_size=2), dict(batch_size=2, drop_last=True),
                                       dict(batch_size=None), dict(batch_size=3, collate_fn=len)])
def test_iterable_dataset_batches_match_pytorch(arguments):
    torch = torch_or_skip()

    class TorchStream(torch.utils.data.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter([(float(i), i) for i in range(self.n)])

        def __len__(self):
            return self.n

    ours = DataLoader(SizedStream(5), **arguments)
    theirs = torch.utils.data.DataLoader(TorchStream(5), **arguments)
    assert_same(list(ours), list(theirs))
    assert len(ours) == len(theirs)


def test_iterable_dataset_refuses_orders_and_has_no_len():
    torch = torch_or_skip()

    class TorchStream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(3))

    for arguments in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
        with pytest.raises(ValueError) as theirs:
            torch.utils.data.DataLoader(TorchStream(), **arguments)
        with pytest.raises(ValueError) as ours:
            DataLoader(Stream(3), **arguments)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(TypeError, match="object of type 'Stream' has no len()"):
        len(DataLoader(Stream(3)))
    DataLoader(SizedStream(3), shuffle=False)  # an explicit False is allowed, as in PyTorch
    chained = SizedStream(2) + SizedStream(3)
    assert isinstance(chained, ChainDataset) and len(chained) == 5
    assert [x for x, _ in chained] == [0.0, 1.0, 0.0, 1.0, 2.0]
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(ChainDataset([range(3)]))


# ----------------------------------------------------------------------------- tn.Generator
def test_generator_api_matches_pytorch():
    torch = torch_or_skip()
    ours, theirs = tn.Generator(), torch.Generator()
    assert ours.initial_seed() == theirs.initial_seed() and str(ours.device) == str(theirs.device) == "cpu"
    assert ours.manual_seed(-1) is ours and ours.initial_seed() == theirs.manual_seed(-1).initial_seed()
    assert ours.manual_seed(2**64 - 1).initial_seed() == 2**64 - 1
    for bad, error in [(2**64, ValueError), (-2**63 - 1, ValueError), (1.5, RuntimeError),
                       ("a", RuntimeError)]:
        with pytest.raises(error, match="Overflow when unpacking long long|manual_seed expected a long"):
            ours.manual_seed(bad)
    seed = ours.seed()
    assert isinstance(seed, int) and ours.initial_seed() == seed and 0 <= seed < 2**64
    with pytest.raises(ValueError, match="unknown device"):
        tn.Generator(device="tpu")


def test_generator_state_round_trips_and_draws_repeat():
    g = tn.Generator().manual_seed(123)
    state = g.get_state()
    assert state.dtype == numpy.uint8 and state.ndim == 1
    first = [tn.randn(3, generator=g).tolist(), tn.rand(2, generator=g).tolist(),
             tn.randint(0, 100, (4,), generator=g).tolist(), tn.randperm(6, generator=g).tolist()]
    g.manual_seed(5)
    assert g.set_state(state) is g and g.initial_seed() == 123
    again = [tn.randn(3, generator=g).tolist(), tn.rand(2, generator=g).tolist(),
             tn.randint(0, 100, (4,), generator=g).tolist(), tn.randperm(6, generator=g).tolist()]
    assert again == first
    fresh = tn.Generator().manual_seed(123)
    assert tn.randn(3, generator=fresh).tolist() == first[0]
    tn.manual_seed(0)
    shared = tn.randn(2).tolist()
    tn.manual_seed(0)
    tn.randn(5, generator=tn.Generator())  # a private generator leaves the shared one alone
    assert tn.randn(2).tolist() == shared
    with pytest.raises(TypeError, match="Generator.set_state: expected a torch.ByteTensor"):
        g.set_state(5)
    with pytest.raises(TypeError, match="RNG state must be a torch.ByteTensor"):
        g.set_state(tn.zeros(3))
    with pytest.raises(RuntimeError, match="found the input RNG state size to be 3"):
        g.set_state(tn.zeros(3, dtype=tn.uint8))
    with pytest.raises(TypeError, match="randn: generator must be a tn.Generator"):
        tn.randn(2, generator=0)


def test_random_split_takes_a_generator():
    data = TensorDataset(tn.arange(10))
    parts = random_split(data, [3, 7], generator=tn.Generator().manual_seed(42))
    again = random_split(data, [3, 7], generator=tn.Generator().manual_seed(42))
    assert [p.indices.tolist() for p in parts] == [p.indices.tolist() for p in again]
    assert sorted(parts[0].indices.tolist() + parts[1].indices.tolist()) == list(range(10))
    assert [len(p) for p in random_split(range(30), [0.3, 0.3, 0.4], tn.Generator())] == [9, 9, 12]
    with pytest.raises(TypeError, match="random_split: generator must be a tn.Generator, got int; give"):
        random_split(data, [3, 7], 0)
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(2), [0.9, 0.1], seed=0)
