"""tn.save / tn.load: round trips, the file format, atomic writes and clear errors."""

from __future__ import annotations

import copy
import io
import math
import os
import subprocess
import sys
import zipfile

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet import optim, serialization
from tinynet.optim.lr_scheduler import StepLR

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

cuda_only = pytest.mark.skipif(not tn.cuda.is_available(), reason="needs CuPy and a CUDA GPU")


def convnet(seed: int) -> nn.Sequential:
    tn.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(3 * 4 * 4, 2))


def assert_same(a, b, path="root"):
    """Structural equality: same container types, key types, values and tensor dtypes."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for key in a:
            assert type(key) is type(next(k for k in b if k == key))
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, tn.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        numpy.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=path)
    elif isinstance(a, numpy.ndarray):
        assert a.dtype == b.dtype, path
        numpy.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), path
    else:
        assert a == b, path


def test_model_state_dict_round_trip(tmp_path):
    model = convnet(0)
    model(tn.randn(4, 1, 6, 6))  # running statistics away from their initial values
    path = tmp_path / "model.npz"
    tn.save(model.state_dict(), path)
    loaded = tn.load(path)
    assert_same(model.state_dict(), loaded)
    assert loaded["1.num_batches_tracked"].dtype == numpy.int64
    other = convnet(1).eval()
    other.load_state_dict(loaded)
    x = tn.randn(2, 1, 6, 6)
    numpy.testing.assert_array_equal(model.eval()(x).detach().numpy(), other(x).detach().numpy())


def test_optimizer_state_dict_round_trip_keeps_key_and_value_types(tmp_path):
    model = convnet(0)
    optimizer = optim.Adam([{"params": list(model.parameters())[:2], "lr": 0.1},
                            {"params": list(model.parameters())[2:]}], amsgrad=True)
    F.cross_entropy(model(tn.randn(4, 1, 6, 6)), tn.tensor([0, 1, 1, 0])).backward()
    optimizer.step()
    state = optimizer.state_dict()
    tn.save(state, tmp_path / "opt.npz")
    loaded = tn.load(tmp_path / "opt.npz")
    assert_same(state, loaded)
    assert all(isinstance(key, int) for key in loaded["state"])
    assert loaded["param_groups"][0]["betas"] == (0.9, 0.999)
    assert loaded["param_groups"][0]["amsgrad"] is True


def test_plain_values_round_trip(tmp_path):
    obj = {"none": None, "ints": [0, -3, 2 ** 40], "floats": (1.5, float("inf"), float("nan")),
           "text": "épsilon", "flag": False, 7: {"nested": [[], {}, ()]},
           "array": numpy.arange(6, dtype=numpy.int16).reshape(2, 3), "half": tn.ones(2, dtype=tn.float16),
           "scalar": numpy.float32(0.25)}
    tn.save(obj, tmp_path / "values.npz")
    loaded = tn.load(tmp_path / "values.npz")
    expected = {**obj, "scalar": 0.25}  # NumPy scalars come back as Python numbers
    assert_same(expected, loaded)


def test_paths_that_spell_the_same_name_both_survive(tmp_path):
    obj = {"a.b": tn.tensor([1.0]), "a": {"b": tn.tensor([2.0])}, "__tinynet_structure__": tn.zeros(1)}
    tn.save(obj, tmp_path / "clash.npz")
    assert_same(obj, tn.load(tmp_path / "clash.npz"))


@given(st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 62, 2 ** 62) | st.floats(allow_nan=False)
    | st.text(max_size=5)
    | st.lists(st.floats(-1e6, 1e6, width=32), min_size=1, max_size=4).map(
        lambda xs: tn.tensor(numpy.array(xs, dtype=numpy.float32))),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=3) | st.integers(0, 9), children, max_size=3)
    | st.lists(children, max_size=2).map(tuple),
    max_leaves=8))
def test_any_nest_of_supported_values_round_trips(tmp_path_factory, obj):
    path = tmp_path_factory.mktemp("nest") / "obj.npz"
    tn.save(obj, path)
    assert_same(obj, tn.load(path))


def test_the_file_is_a_plain_npz_with_dotted_keys(tmp_path):
    model = convnet(0)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    F.cross_entropy(model(tn.randn(2, 1, 6, 6)), tn.tensor([0, 1])).backward()
    optimizer.step()
    tn.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "ckpt")
    assert os.listdir(tmp_path) == ["ckpt"]  # the path is used as given
    with numpy.load(tmp_path / "ckpt", allow_pickle=False) as archive:
        names = set(archive.files)
        numpy.testing.assert_array_equal(archive["model.0.weight"], model[0].weight.detach().numpy())
        assert archive["model.1.num_batches_tracked"].dtype == numpy.int64
    assert {"model.1.running_mean", "optimizer.state.0.momentum_buffer",
            serialization.STRUCTURE_KEY} <= names


def test_a_plain_numpy_archive_loads_as_a_dict_of_tensors(tmp_path):
    numpy.savez(tmp_path / "plain.npz", weight=numpy.ones((2, 2)), step=numpy.array(3))
    loaded = tn.load(tmp_path / "plain.npz")
    assert set(loaded) == {"weight", "step"} and isinstance(loaded["weight"], tn.Tensor)
    assert loaded["step"].item() == 3


def test_resume_training_through_a_file(tmp_path):
    tn.manual_seed(5)
    batches = [(tn.randn(8, 1, 6, 6), tn.randint(0, 2, (8,))) for _ in range(4)]

    def train(model, optimizer, scheduler, batches):
        for x, y in batches:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
            scheduler.step()

    def build(seed):
        model = convnet(seed)
        optimizer = optim.AdamW(model.parameters(), lr=0.01)
        return model, optimizer, StepLR(optimizer, step_size=1, gamma=0.5)

    model, optimizer, scheduler = build(0)
    train(model, optimizer, scheduler, batches[:2])
    tn.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict()}, tmp_path / "ckpt.npz")
    train(model, optimizer, scheduler, batches[2:])

    checkpoint = tn.load(tmp_path / "ckpt.npz")
    resumed, resumed_optimizer, resumed_scheduler = build(1)
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    resumed_scheduler.load_state_dict(checkpoint["scheduler"])
    train(resumed, resumed_optimizer, resumed_scheduler, batches[2:])
    assert_same(model.state_dict(), resumed.state_dict())
    assert resumed_scheduler.get_last_lr() == scheduler.get_last_lr()


# ---------------------------------------------------------------------------- atomic writes
def crash_on_second_array(monkeypatch):
    """Make the array writer put some bytes down, then fail, on its second array."""
    real = numpy.lib.format.write_array
    calls = []

    def failing(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            fp.write(b"\x93NUMPY partial")
            raise OSError("disk full (simulated)")
        return real(fp, array, *args, **kwargs)

    monkeypatch.setattr(numpy.lib.format, "write_array", failing)


def test_a_crash_mid_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    tn.save({"w": tn.ones(3)}, path)
    before = path.read_bytes()
    crash_on_second_array(monkeypatch)
    with pytest.raises(OSError, match="disk full"):
        tn.save({"w": tn.zeros(3), "b": tn.zeros(2)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind
    monkeypatch.undo()
    assert tn.load(path)["w"].tolist() == [1.0, 1.0, 1.0]


def test_a_crash_mid_write_leaves_no_file(tmp_path, monkeypatch):
    crash_on_second_array(monkeypatch)
    with pytest.raises(OSError):
        tn.save({"w": tn.zeros(3), "b": tn.zeros(2)}, tmp_path / "new.npz")
    assert os.listdir(tmp_path) == []


def test_a_save_removes_the_temporary_files_of_killed_writes(tmp_path):
    path = tmp_path / "model.npz"
    writer = ("import sys, time, numpy, tinynet as tn\n"
              "real = numpy.lib.format.write_array\n"
              "def stall(fp, array, *args, **kwargs):\n"
              "    real(fp, array, *args, **kwargs)\n"
              "    print('writing', flush=True)\n"
              "    time.sleep(600)\n"
              "numpy.lib.format.write_array = stall\n"
              "tn.save({'w': tn.ones(1000)}, sys.argv[1])\n")
    for _ in range(2):  # two writes SIGKILLed mid-file
        process = subprocess.Popen([sys.executable, "-c", writer, str(path)], stdout=subprocess.PIPE,
                                   text=True)
        assert process.stdout.readline() == "writing\n"
        process.kill()
        process.wait()
        process.stdout.close()
    stale = sorted(name for name in os.listdir(tmp_path) if name.endswith(".tmp"))
    assert len(stale) == 2 and not path.exists()
    unrelated = [tmp_path / ".other.npz.0123456789ab.tmp", tmp_path / ".model.npz.notes.tmp"]
    for other in unrelated:
        other.write_bytes(b"not ours")
    in_progress = tmp_path / ".model.npz.abcdefabcdef.tmp"
    with open(in_progress, "xb") as live:
        if fcntl is not None:  # a write in progress holds its lock (on Windows: it is open)
            fcntl.flock(live, fcntl.LOCK_EX)
        tn.save({"w": tn.zeros(3)}, path)
        kept = [path.name, in_progress.name, *(other.name for other in unrelated)]
        assert sorted(os.listdir(tmp_path)) == sorted(kept)
    assert tn.load(path)["w"].tolist() == [0.0, 0.0, 0.0]


def test_save_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tn.save({}, tmp_path / "missing" / "x.npz")
    with pytest.raises(TypeError, match=r"cannot save a set at 'a\.0'"):
        tn.save({"a": [{1, 2}]}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys must be str or int"):
        tn.save({(1, 2): 3}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match=r"cannot save a Linear at 'the top level'.*save its "
                                        r"state_dict\(\) instead.*new Linear"):
        tn.save(tn.nn.Linear(2, 3), tmp_path / "x.npz")  # torch.save(model, f) pickles it
    with pytest.raises(TypeError, match="dtype object"):
        tn.save({"a": numpy.array([None])}, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------- loading errors
def test_loading_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        tn.load(tmp_path / "nothing.npz")


def test_loading_corrupt_or_truncated_files(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not an archive at all" * 10)
    with pytest.raises(ValueError, match="not a readable .npz file"):
        tn.load(garbage)
    good = tmp_path / "good.npz"
    tn.save({"w": tn.ones(1000)}, good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(ValueError, match="not a readable .npz file"):
        tn.load(truncated)
    single = tmp_path / "single.npy"
    numpy.save(single, numpy.ones(3))
    with pytest.raises(ValueError, match="single .npy array"):
        tn.load(single)


def test_loading_a_damaged_structure_entry(tmp_path):
    path = tmp_path / "damaged.npz"
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open(serialization.STRUCTURE_KEY + ".npy", "w") as member:
            numpy.lib.format.write_array(member, numpy.array("{not json"))
    with pytest.raises(ValueError, match="damaged structure"):
        tn.load(path)


def npz_with(path, members: dict[str, bytes], compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def npy_bytes(array) -> bytes:
    buffer = io.BytesIO()
    numpy.lib.format.write_array(buffer, numpy.asarray(array))
    return buffer.getvalue()


def test_loading_refuses_members_that_are_not_npy_arrays(tmp_path):
    good = tmp_path / "good.npz"
    tn.save({"w": tn.ones(3)}, good)
    with zipfile.ZipFile(good) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    for extra in ("payload.pkl", "notes"):
        path = npz_with(tmp_path / "extra.npz", {**members, extra: b"\x80\x04anything"})
        with pytest.raises(ValueError, match=f"member '{extra}' is not a .npy array"):
            tn.load(path)


def test_loading_refuses_arrays_declared_larger_than_their_member(tmp_path):
    small = npy_bytes(numpy.zeros(10))
    buffer = io.BytesIO()  # the header of a terabyte array, followed by 10 values
    numpy.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False,
                                                     "shape": (10 ** 12,)})
    header = buffer.getvalue() + bytes(80)
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        path = npz_with(tmp_path / "lying.npz", {"w.npy": header}, compression)
        with pytest.raises(ValueError, match=r"member 'w.npy' declares 8000000000000 bytes of values "
                                             r"\(shape \(1000000000000,\), float64\) but holds at most 80"):
            tn.load(path)
    cut = npz_with(tmp_path / "cut.npz", {"w.npy": small[:-8]})  # one value short
    with pytest.raises(ValueError, match="declares 80 bytes of values .* but holds at most 72"):
        tn.load(cut)
    packed = tmp_path / "packed.npz"
    numpy.savez_compressed(packed, w=numpy.zeros(100000))  # compresses 800 kB to under 1 kB
    assert tn.load(packed)["w"].shape == (100000,)


def structure_entry(path, root_json: str):
    header = f'{{"format": "{serialization.FORMAT}", "version": 1, "root": {root_json}}}'
    return npz_with(path, {serialization.STRUCTURE_KEY + ".npy": npy_bytes(numpy.array(header))})


@pytest.mark.parametrize("depth", [serialization.MAX_DEPTH + 5, 100000])
def test_loading_a_structure_nested_too_deep_is_a_value_error(tmp_path, depth):
    nested = '{"list": [' * depth + '{"value": 1}' + "]}" * depth
    with pytest.raises(ValueError, match=f"damaged structure.*nested deeper than {serialization.MAX_DEPTH}"):
        tn.load(structure_entry(tmp_path / "deep.npz", nested))


def test_save_and_load_agree_on_the_deepest_nesting(tmp_path):
    deepest = 1
    for _ in range(serialization.MAX_DEPTH):
        deepest = [deepest]
    tn.save(deepest, tmp_path / "deepest.npz")
    assert tn.load(tmp_path / "deepest.npz") == deepest
    with pytest.raises(ValueError, match=f"tn.save: containers nested deeper than {serialization.MAX_DEPTH}"):
        tn.save([deepest], tmp_path / "deep-save.npz")
    assert not (tmp_path / "deep-save.npz").exists()


def test_load_accepts_weights_only_like_pytorch(tmp_path):
    path = tmp_path / "model.npz"
    tn.save({"w": tn.ones(2)}, path)
    for weights_only in (None, True, False):  # tinynet never unpickles, whatever is asked
        assert tn.load(path, weights_only=weights_only)["w"].tolist() == [1.0, 1.0]
    assert tn.load(path, "cpu", weights_only=True)["w"].device == "cpu"
    with pytest.raises(TypeError, match="weights_only must be a bool or None"):
        tn.load(path, weights_only="yes")


# ---------------------------------------------------------------------------- devices
@cuda_only
def test_a_model_saved_on_cuda_loads_on_the_cpu(tmp_path):
    model = convnet(0).to("cuda")
    tn.save(model.state_dict(), tmp_path / "gpu.npz")
    loaded = tn.load(tmp_path / "gpu.npz")
    assert {t.device for t in loaded.values()} == {"cpu"}
    cpu_model = convnet(1)
    cpu_model.load_state_dict(loaded)
    reference = copy.deepcopy(model).to("cpu")
    assert_same(reference.state_dict(), cpu_model.state_dict())
    assert tn.load(tmp_path / "gpu.npz", map_location="cuda")["0.weight"].device == "cuda"


def test_an_interruption_as_a_member_opens_raises_itself_and_leaves_the_old_file(tmp_path,
                                                                                 monkeypatch):
    """Ctrl-C (or a SIGTERM raised as an exception) can land after the archive opened a member
    but before the ``with`` took it: zipfile's close then fails with its own ValueError."""
    import zipfile

    path = tmp_path / "model.npz"
    tn.save({"w": tn.ones(2)}, path)
    opened, handles = zipfile.ZipFile.open, []

    def interrupted(self, *args, **kwargs):
        handles.append(opened(self, *args, **kwargs))  # open, and never closed
        raise KeyboardInterrupt

    monkeypatch.setattr(zipfile.ZipFile, "open", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tn.save({"w": tn.zeros(2)}, path)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    assert tn.load(path)["w"].tolist() == [1.0, 1.0]
