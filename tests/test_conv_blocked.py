"""The blocked convolution against the plain im2col formulation and PyTorch; pools against
PyTorch (ceil_mode, dilation, count_include_pad, adaptive, NaN, ties); the thread policy.

The op factory (tests/test_ops_nn.py) checks the same ops' gradients of first and second order
on random small cases; here the geometry is chosen to cross block edges: a tiny cache budget
splits rows into pieces, and several threads split the blocks (the input gradient: bands of rows).
"""

from __future__ import annotations

import ast
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet as tn
import tinynet.nn.functional as F
from tinynet import backend, parallel
from tinynet.autograd import graph_nodes
from tinynet.ops import conv, conv_kernels, pool

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- the plain formulation
def im2col(x, kernel, stride, dilation):
    """(N, C, H, W), already padded → (C·kh·kw, Ho·Wo·N): every window as one column."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ho, wo = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    cols = np.empty((c, kh, kw, ho, wo, n), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw]
            cols[:, i, j] = patch.transpose(1, 2, 3, 0)
    return cols.reshape(c * kh * kw, -1), (ho, wo)


def col2im(cols, shape, kernel, stride, dilation, out_hw):
    """The adjoint of im2col: add every column back onto its window of an (N, C, H, W) image."""
    n, c, h, w = shape
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    cols = cols.reshape(c, kh, kw, ho, wo, n)
    image = np.zeros((n, c, h, w), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            image[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw] += \
                cols[:, i, j].transpose(3, 0, 1, 2)
    return image


def plain_conv(x, w, b, g, stride, pads, dilation, groups):
    """Output, input gradient and weight gradient of a convolution with output gradient ``g``,
    each one GEMM per group over the whole batch's columns."""
    top, bottom, left, right = pads
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    cols, (ho, wo) = im2col(xp, w.shape[2:], stride, dilation)
    n, c_out = x.shape[0], w.shape[0]
    rows = cols.reshape(groups, -1, cols.shape[1])
    weights = w.reshape(groups, c_out // groups, -1)
    out = (weights @ rows).reshape(c_out, ho, wo, n).transpose(3, 0, 1, 2) + b[:, None, None]
    g_rows = g.transpose(1, 2, 3, 0).reshape(groups, c_out // groups, -1)
    gw = (g_rows @ rows.transpose(0, 2, 1)).reshape(w.shape)
    gx = col2im((weights.transpose(0, 2, 1) @ g_rows).reshape(cols.shape), xp.shape,
                w.shape[2:], stride, dilation, (ho, wo))
    return out, gx[:, :, top:top + x.shape[2], left:left + x.shape[3]], gw


GEOMETRIES = [  # n, c_in, c_out, groups, (h, w), kernel, stride, padding, dilation
    (3, 4, 6, 1, (9, 8), (3, 3), 1, 1, 1),
    (2, 4, 6, 2, (10, 7), (3, 2), 2, (1, 0), 1),
    (1, 3, 5, 1, (9, 9), (2, 4), (1, 2), 2, (2, 1)),
    (4, 6, 6, 6, (7, 7), (3, 3), 1, "same", 2),  # depthwise
    (2, 2, 3, 1, (6, 9), (2, 2), 1, "same", 1),  # asymmetric 'same' padding
    (3, 6, 4, 2, (5, 6), (1, 1), (2, 1), "valid", 1),
    (1, 1, 2, 1, (4, 4), (4, 4), 1, 0, 1),  # one output pixel
    (40, 2, 3, 1, (5, 8), (3, 3), 1, 1, 1),  # image rows of 320 numbers: col2im adds unbuffered
]


@pytest.fixture(params=[("one block", 1 << 30, 1), ("row pieces", 2000, 1),
                        ("row pieces, 3 threads", 2000, 3), ("rows, 2 threads", 20000, 2)],
                ids=lambda p: p[0])
def blocking(request, monkeypatch):
    """Blocks of every kind: the whole output at once, pieces of one row, several threads."""
    _, budget, threads = request.param
    monkeypatch.setattr(conv_kernels, "l2_bytes", lambda: budget)
    before = tn.get_num_threads()
    tn.set_num_threads(threads)
    yield
    tn.set_num_threads(before)


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
def test_blocked_ops_equal_the_plain_formulation(geometry, blocking):
    n, c_in, c_out, groups, hw, kernel, stride, padding, dilation = geometry
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((n, c_in) + hw), rng.standard_normal((c_out, c_in // groups) + kernel)
    b = rng.standard_normal(c_out)
    tx, tw, tb = (tn.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(tx, tw, tb, stride, padding, dilation, groups)
    g = rng.standard_normal(out.shape)
    out.backward(tn.tensor(g))
    pads = conv._padding("conv2d", padding, kernel, conv.pair(stride, ""), conv.pair(dilation, ""))
    expected = plain_conv(x, w, b, g, conv.pair(stride, ""), pads, conv.pair(dilation, ""), groups)
    for name, mine, plain in zip(("output", "input gradient", "weight gradient"),
                                 (out.detach(), tx.grad, tw.grad), expected):
        np.testing.assert_allclose(mine.numpy(), plain, rtol=1e-10, atol=1e-10, err_msg=name)
    np.testing.assert_allclose(tb.grad.numpy(), g.sum((0, 2, 3)), rtol=1e-10)


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_blocked_ops_match_pytorch_in_float32_and_to_second_order(geometry, blocking):
    torch = pytest.importorskip("torch")
    n, c_in, c_out, groups, hw, kernel, stride, padding, dilation = geometry
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((n, c_in) + hw), rng.standard_normal((c_out, c_in // groups) + kernel),
              rng.standard_normal(c_out)]
    for dtype, tol in ((np.float32, 1e-4), (np.float64, 1e-10)):
        mine = [tn.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        theirs = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        out = F.conv2d(*mine, stride, padding, dilation, groups)
        t_out = torch.nn.functional.conv2d(*theirs, stride, padding, dilation, groups)
        np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=tol, atol=tol)
        g = rng.standard_normal(out.shape).astype(dtype)
        grads = tn.grad(out, mine[:2], tn.tensor(g), create_graph=True)
        t_grads = torch.autograd.grad(t_out, theirs[:2], torch.tensor(g), create_graph=True)
        v = [rng.standard_normal(a.shape).astype(dtype) for a in arrays[:2]]
        hvp = tn.grad(sum((gr * tn.tensor(vi)).sum() for gr, vi in zip(grads, v)), mine[:2])
        t_hvp = torch.autograd.grad(sum((gr * torch.tensor(vi)).sum() for gr, vi in zip(t_grads, v)),
                                    theirs[:2])
        for a, t in zip(list(grads) + list(hvp), list(t_grads) + list(t_hvp)):
            np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def test_conv_transpose2d_with_groups_and_unbatched_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 4, 4, 5)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(6)
    for args in [(2, 1, 1, 2, 1), (1, 0, 0, 1, 2), ((2, 1), (1, 0), (1, 0), 2, 1)]:
        bias = b if args[3] == 2 else b[:3]
        mine = F.conv_transpose2d(tn.tensor(x), tn.tensor(w), tn.tensor(bias), *args)
        theirs = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(w),
                                                      torch.tensor(bias), *args)
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-10)
        single = F.conv_transpose2d(tn.tensor(x[0]), tn.tensor(w), tn.tensor(bias), *args)
        np.testing.assert_allclose(single.numpy(), theirs.numpy()[0], atol=1e-10)


def test_unbatched_conv_is_the_batch_of_one():
    rng = np.random.default_rng(3)
    x, w = tn.tensor(rng.standard_normal((3, 7, 6)), requires_grad=True), tn.randn(4, 3, 3, 3).double()
    out = F.conv2d(x, w, padding="same")
    assert out.shape == (4, 7, 6)
    np.testing.assert_allclose(out.detach().numpy(), F.conv2d(x.detach()[None], w, padding=1).numpy()[0])
    out.sum().backward()
    assert x.grad.shape == (3, 7, 6)


def test_the_graph_keeps_the_padded_input_not_the_columns():
    x = tn.randn(2, 3, 8, 8, requires_grad=True)
    w = tn.randn(4, 3, 3, 3, requires_grad=True)
    out = F.conv2d(x, w, padding=1)
    node = out.grad_fn
    assert type(node).__name__ == "Convolution"
    assert node.inputs[0].shape == (2, 3, 10, 10)  # the padded input, as the graph's tensor
    saved = [v for v in vars(node).values() if tn.backend.is_array(v)]
    assert saved == []  # no columns, no copy of anything: the op keeps only its inputs
    assert {type(fn).__name__ for fn in graph_nodes(out)} == {"Convolution", "ConvolutionInput"}


@pytest.mark.parametrize("shape", [(16, 4, 16, 16), (16, 2, 8, 8), (12, 3, 7, 5), (3, 4, 16, 16)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_inner_copies_equal_a_plain_transpose(shape, dtype):
    """Samples a multiple of 2 or 4 KiB apart take the staged path; the others, the plain one."""
    x = np.random.default_rng(3).standard_normal(shape).astype(dtype)
    expected = np.ascontiguousarray(x.transpose(1, 2, 3, 0))
    for source in (x, np.ascontiguousarray(x[:, :, ::-1])[:, :, ::-1]):  # and a strided view
        made = conv_kernels.batch_inner(source)
        np.testing.assert_array_equal(made, expected)
        assert made.flags.c_contiguous
        n, c, h, w = shape
        padded = np.zeros((c, h + 2, w + 3, n), dtype)
        conv_kernels.batch_inner(source, out=padded[:, 1:h + 1, 2:w + 2])
        np.testing.assert_array_equal(padded[:, 1:h + 1, 2:w + 2], expected)
        assert not padded[:, 0].any() and not padded[:, :, :2].any() and not padded[:, :, -1].any()
    staged = shape[0] > 8 and conv_kernels._same_sets(x.strides[0])  # both paths are covered
    assert staged == (shape == (16, 4, 16, 16) or shape == (16, 2, 8, 8) and dtype == np.float64)


@pytest.mark.parametrize("groups", [1, 2])
def test_outputs_whose_channels_would_share_cache_sets_lie_apart_and_feed_the_next_conv(groups):
    """(16, 4, 16, 16) float64 outputs are 16 KiB per channel: the forward spaces the channels
    out; an unpadded conv reads that layout as it is, without a ConvolutionInput copy, and so do
    the gradient kernels when such an output comes back as a gradient."""
    rng = np.random.default_rng(5)
    x = tn.tensor(rng.standard_normal((16, 4, 16, 16)), requires_grad=True)
    w1 = tn.tensor(rng.standard_normal((4, 4 // groups, 3, 3)), requires_grad=True)
    w2 = tn.tensor(rng.standard_normal((4, 4 // groups, 1, 1)), requires_grad=True)
    hidden = F.conv2d(x, w1, padding=1, groups=groups)
    inner = hidden.array.transpose(1, 2, 3, 0)
    assert inner.strides[0] > inner[0].nbytes and conv_kernels.is_batch_inner(hidden.array)
    out = F.conv2d(hidden, w2, groups=groups)
    assert sorted(type(fn).__name__ for fn in graph_nodes(out)) == [
        "Convolution", "Convolution", "ConvolutionInput"]  # the first conv's padding only
    seed = F.conv2d(x.detach(), w1.detach(), padding=1, groups=groups)  # laid out like hidden
    out.backward(seed)
    theirs = [a.detach().numpy().copy() for a in (x, w1, w2)]
    mine = [x.grad.numpy(), w1.grad.numpy(), w2.grad.numpy()]
    x.grad = w1.grad = w2.grad = None
    F.conv2d(F.conv2d(x, w1, padding=1, groups=groups), w2, groups=groups).backward(
        tn.tensor(seed.numpy().copy()))  # the same seed, NCHW and contiguous
    for a, b in zip(mine, (x.grad, w1.grad, w2.grad)):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-12, atol=1e-12)
    expected = plain_conv(theirs[0], theirs[1], np.zeros(4), np.zeros(hidden.shape), (1, 1),
                          (1, 1, 1, 1), (1, 1), groups)[0]
    np.testing.assert_allclose(hidden.detach().numpy(), expected, rtol=1e-12, atol=1e-12)


def test_grad_fn_names_are_pytorchs():
    x, w = tn.randn(1, 2, 5, 5, requires_grad=True), tn.randn(2, 2, 3, 3, requires_grad=True)
    assert F.conv2d(x, w).grad_fn.name() == "ConvolutionBackward0"
    assert F.conv_transpose2d(x, w).grad_fn.name() == "ConvolutionBackward0"
    assert F.max_pool2d(x, 2).grad_fn.name() == "MaxPool2DWithIndicesBackward0"


def test_unbuffered_ufuncs_restore_numpys_buffer_and_leave_short_runs_buffered():
    before = np.getbufsize()
    with backend.unbuffered_ufuncs(np, backend.UNBUFFERED_RUN):
        assert np.getbufsize() < before
    assert np.getbufsize() == before
    with pytest.raises(KeyError), backend.unbuffered_ufuncs(np, backend.UNBUFFERED_RUN):
        raise KeyError
    assert np.getbufsize() == before
    with backend.unbuffered_ufuncs(np, backend.UNBUFFERED_RUN - 1):
        assert np.getbufsize() == before


def test_conv_errors_name_the_argument():
    x, w = tn.randn(1, 4, 6, 6), tn.randn(6, 2, 3, 3)
    with pytest.raises(ValueError, match="conv2d: padding='same' is not supported for strided"):
        F.conv2d(x, w, padding="same", stride=2, groups=2)
    with pytest.raises(ValueError, match="conv2d: padding must be .* 'same' or 'valid', got 'full'"):
        F.conv2d(x, w, padding="full", groups=2)
    with pytest.raises(ValueError, match=r"conv2d: input \(1, 4, 6, 6\) has 4 channels .* groups=1 "
                                         r"expects 2"):
        F.conv2d(x, w)
    with pytest.raises(ValueError, match="conv2d: weight .* 6 output channels, which groups=4"):
        F.conv2d(tn.randn(1, 8, 6, 6), w, groups=4)
    with pytest.raises(ValueError, match="conv2d: groups must be a positive int, got 0"):
        F.conv2d(x, w, groups=0)
    with pytest.raises(TypeError, match="conv2d: groups must be an int"):
        F.conv2d(x, w, groups=1.5)
    with pytest.raises(ValueError, match=r"conv2d: expected input .* got \(6, 6\)"):
        F.conv2d(tn.randn(6, 6), w)
    with pytest.raises(ValueError, match="Conv2d: in_channels 4 and out_channels 6 .* groups=4"):
        tn.nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="padding_mode must be 'zeros', 'reflect', 'replicate' "
                                         "or 'circular', got 'mirror'"):
        tn.nn.Conv2d(4, 6, 3, padding_mode="mirror")


def test_conv_layer_with_groups_has_pytorchs_shapes_and_repr():
    layer = tn.nn.Conv2d(4, 8, 3, padding="same", groups=2, bias=False)
    assert layer.weight.shape == (8, 2, 3, 3) and layer.bias is None
    assert repr(layer) == ("Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=same, groups=2, "
                           "bias=False)")
    assert layer(tn.randn(2, 4, 5, 5)).shape == (2, 8, 5, 5)


def test_kernel_modules_leave_array_math_to_the_backend():
    """The conv and pool ops never import NumPy, so the same code runs on CuPy."""
    for name in ("conv.py", "conv_kernels.py", "pool.py"):
        tree = ast.parse((ROOT / "tinynet" / "ops" / name).read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {m for m in imported if m and m.split(".")[0] in ("numpy", "cupy")}, name
        assert "sliding_window_view" not in (ROOT / "tinynet" / "ops" / name).read_text()


# --------------------------------------------------------------------------- threads
def test_set_num_threads_sets_blas_and_the_pool_and_restores():
    before = tn.get_num_threads()
    try:
        tn.set_num_threads(1)
        assert tn.get_num_threads() == 1 and parallel.blas_threads() in (1,)
        tn.set_num_threads(3)
        assert tn.get_num_threads() == 3
        if parallel._blas_controllers():  # BLAS never gets more threads than cores
            assert parallel.blas_threads() == min(3, parallel.usable_cores())
            with parallel.single_threaded_blas():
                assert parallel.blas_threads() == 1
            assert parallel.blas_threads() == min(3, parallel.usable_cores())
            tn.set_num_threads(parallel.usable_cores() + 2)
            assert parallel.blas_threads() == parallel.usable_cores()
            assert tn.get_num_threads() == parallel.usable_cores() + 2
            tn.set_num_threads(3)
        results = parallel.share(list(range(7)), lambda take: [i * i for i in iter(take, None)])
        assert 1 <= len(results) <= 3
        assert sorted(x for part in results for x in part) == [0, 1, 4, 9, 16, 25, 36]
    finally:
        tn.set_num_threads(before)
    with pytest.raises(ValueError, match="set_num_threads: expected a positive"):
        tn.set_num_threads(0)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 20), st.integers(1, 20), st.integers(1, 5), st.integers(1, 3),
       st.integers(1, 3), st.integers(1, 40), st.integers(100, 100_000))
def test_input_gradient_bands_cover_the_output_and_every_other_band_keeps_apart(
        ho, wo, kh, sh, dh, channels, l2):
    """Each output position is in one block of one band; bands two apart add onto disjoint
    image rows, so a round's bands can run at once; whole bands are single blocks."""
    geo = conv_kernels.Geometry(channels, 3, 1, (kh, 2), (sh, 1), (dh, 1),
                                ((ho - 1) * sh + (kh - 1) * dh + 1, wo + 1), (ho, wo), 4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conv_kernels, "l2_bytes", lambda: l2)
        bands = conv_kernels._bands(geo, np.dtype(np.float32), "cpu")
    covered = np.zeros((ho, wo), int)
    for band in bands:
        for h0, h1, w0, w1 in band:
            covered[h0:h1, w0:w1] += 1
    assert (covered == 1).all()

    def image_rows(band):
        first, last = min(b[0] for b in band), max(b[1] for b in band)
        return first * sh, (last - 1) * sh + (kh - 1) * dh  # inclusive

    for before, after in zip(bands, bands[2:]):
        assert image_rows(before)[1] < image_rows(after)[0]


def test_conv_gradients_are_the_same_floats_for_any_thread_count(monkeypatch):
    """The weight gradient adds its blocks in fixed parts, and the input gradient adds its bands
    in a fixed order (every other band, then the rest), whichever thread computes them."""
    monkeypatch.setattr(conv_kernels, "l2_bytes", lambda: 3000)  # dozens of blocks
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 4, 11, 9)).astype(np.float32)
    w = rng.standard_normal((6, 4, 3, 3)).astype(np.float32)
    g = rng.standard_normal((5, 6, 11, 9)).astype(np.float32)
    before, grads = tn.get_num_threads(), {}
    try:
        for threads in (1, 2, 3, 2, 3):
            tn.set_num_threads(threads)
            tx, tw = tn.tensor(x, requires_grad=True), tn.tensor(w, requires_grad=True)
            F.conv2d(tx, tw, padding=1).backward(tn.tensor(g))
            gx, gw = tx.grad.numpy(), tw.grad.numpy()
            grads.setdefault(threads, (gx, gw))
            np.testing.assert_array_equal(gw, grads[1][1])
            np.testing.assert_array_equal(gx, grads[1][0])
    finally:
        tn.set_num_threads(before)


def test_default_threads_are_the_usable_cores_capped_by_the_environment(monkeypatch):
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    assert parallel.default_num_threads() == parallel.usable_cores()
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert parallel.default_num_threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "not a number")
    assert parallel.default_num_threads() == 1


# Allocates and frees an 8 MiB array 20 times after tinynet's import and prints whether
# tinynet tuned malloc, then the page faults of those 20 rounds
_ROUNDS_OF_FAULTS = """
import resource, numpy as np, tinynet.backend as backend
np.ones(2 << 20, np.float32)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    np.ones(2 << 20, np.float32)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(backend.keep_freed_memory(), faults)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="only glibc's malloc is tuned")
def test_freed_arrays_are_reused_without_page_faults_unless_malloc_is_configured():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}

    def run(extra):
        out = subprocess.run([sys.executable, "-c", _ROUNDS_OF_FAULTS], env={**env, **extra},
                             capture_output=True, text=True, check=True).stdout.split()
        return out[0] == "True", int(out[1])

    # NumPy asks for huge pages for large arrays where the kernel has some free: then a round
    # that maps its 8 MiB afresh faults 4 times, not 2048 (4 KiB pages)
    tuned, faults = run({})
    assert tuned and faults < 20  # no round faults
    tuned, faults = run({"MALLOC_TOP_PAD_": "0"})  # the user's own setting is left alone
    assert not tuned and faults >= 20 * 4  # every round maps its array afresh


@pytest.mark.parametrize("first, preset, expected", [
    ("import tinynet", None, "4"),  # idle OpenBLAS threads sleep at once
    ("import tinynet", "30", "30"),  # the environment's own setting is kept
    ("import numpy, tinynet", None, "None"),  # too late once NumPy has loaded OpenBLAS
    ("import experiments.harness", None, "4"),  # the studies import tinynet first
])
def test_idle_blas_threads_are_set_to_sleep_when_tinynet_comes_before_numpy(first, preset,
                                                                            expected):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if preset is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = preset
    code = f"{first}; import os; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out[-1] == expected


# --------------------------------------------------------------------------- pools
POOLS = [  # kernel, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False), (2, None, 0, 1, True), (3, 2, 1, 1, True), (3, 1, 1, 2, False),
    ((2, 3), (1, 2), (1, 0), (2, 1), True), (1, 2, 0, 1, True), (3, 3, 0, 1, True),
]


@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", POOLS)
@pytest.mark.parametrize("layout", ["NCHW", "from a conv", "unbatched"])
def test_max_pool_matches_pytorch_with_nan_and_ties(kernel, stride, padding, dilation, ceil_mode,
                                                    layout):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    data = np.round(rng.standard_normal((2, 3, 7, 8)))  # rounding makes ties
    data[0, 0, 1, 1] = data[0, 0, 2, 2] = data[1, 2, 4, 5] = np.nan
    x = tn.tensor(data, requires_grad=True)
    source = x
    if layout == "from a conv":  # batch-innermost memory, as conv2d returns
        source = F.conv2d(x, tn.ones(3, 1, 1, 1).double(), groups=3)  # the identity
    elif layout == "unbatched":
        source, data = x[0], data[0]
    tx = torch.tensor(data, requires_grad=True)
    out = F.max_pool2d(source, kernel, stride, padding, dilation, ceil_mode)
    t_out = torch.nn.functional.max_pool2d(tx, kernel, stride, padding, dilation, ceil_mode)
    np.testing.assert_array_equal(out.detach().numpy(), t_out.detach().numpy())
    g = rng.standard_normal(out.shape)
    g.reshape(-1)[[1, 4, 7]] = [np.inf, -np.inf, np.nan]  # the window's others still get 0
    out.backward(tn.tensor(g))
    t_out.backward(torch.tensor(g))
    grad = x.grad.numpy()[0] if layout == "unbatched" else x.grad.numpy()
    np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-14, atol=1e-15)  # order of sums


@pytest.mark.parametrize("windows", [
    [[1, 2, 3, 4], [5, 6, 7, 8]],  # one maximum each: the masks are used as compared
    [[1, 9, 9, 4], [5, 6, 7, 8]],  # a tie: the first of the two
    [[1, np.nan, 3, 4], [5, 6, 7, 8]],  # a NaN
    [[1, np.nan, 3, 4], [8, 6, 7, 8]],  # a NaN and a tie: as many matches as windows
])
def test_tiled_max_pool_masks_each_window_once(windows):
    torch = pytest.importorskip("torch")
    data = np.array(windows, dtype=np.float64).reshape(1, 2, 2, 2)  # two 2×2 windows
    x, tx = tn.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    torch.nn.functional.max_pool2d(tx, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("layout", ["NCHW", "from a conv"])
def test_tiled_max_pool_is_the_same_on_any_thread_count_and_slice_size(layout, monkeypatch):
    """The 2x2 pool runs in slices of its outermost memory axis on the pool's threads."""
    rng = np.random.default_rng(9)
    data = np.round(rng.standard_normal((6, 5, 8, 10)) * 2)  # ties in many windows
    data[1, 2, 3, 3] = data[4, 0, 6, 7] = np.nan
    g = rng.standard_normal((6, 5, 4, 5))
    before, results = tn.get_num_threads(), []
    try:
        for threads, part_bytes in ((1, pool._PART_BYTES), (1, 64), (2, pool._PART_BYTES),
                                    (3, 64)):
            tn.set_num_threads(threads)
            monkeypatch.setattr(pool, "_PART_BYTES", part_bytes)
            x = tn.tensor(data, requires_grad=True)
            source = F.conv2d(x, tn.ones(5, 1, 1, 1).double(), groups=5) if layout != "NCHW" else x
            out = F.max_pool2d(source, 2)
            out.backward(tn.tensor(g))
            results.append((out.detach().numpy(), x.grad.numpy()))
    finally:
        tn.set_num_threads(before)
    for out, grad in results[1:]:
        np.testing.assert_array_equal(out, results[0][0])
        np.testing.assert_array_equal(grad, results[0][1])


@pytest.mark.parametrize("kernel, stride, padding, _, ceil_mode", POOLS)
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("divisor_override", [None, 5])
def test_avg_pool_matches_pytorch(kernel, stride, padding, _, ceil_mode, count_include_pad,
                                  divisor_override):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    data = rng.standard_normal((2, 3, 7, 8))
    args = (kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    for array in (data, data[0]):  # batched and unbatched
        x, tx = tn.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)
        out, t_out = F.avg_pool2d(x, *args), torch.nn.functional.avg_pool2d(tx, *args)
        np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), atol=1e-12)
        g = rng.standard_normal(out.shape)
        out.backward(tn.tensor(g))
        t_out.backward(torch.tensor(g))
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("size", [1, 3, (2, 5), (None, 4), (7, 9), (5, None)])
def test_adaptive_avg_pool_matches_pytorch(size):
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(6).standard_normal((2, 3, 7, 9))
    for array in (data, data[0]):
        x, tx = tn.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)
        out = tn.nn.AdaptiveAvgPool2d(size)(x)
        t_out = torch.nn.AdaptiveAvgPool2d(size)(tx)
        np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), atol=1e-12)
        out.backward(tn.ones(*out.shape).double() * 0.5)
        t_out.backward(torch.ones(t_out.shape, dtype=torch.float64) * 0.5)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)


def test_a_max_pool_window_wholly_in_the_padding_gives_minus_infinity_as_in_pytorch():
    torch = pytest.importorskip("torch")
    for size in (1, 3):
        x, tx = tn.zeros(1, 1, size, requires_grad=True), torch.zeros(1, 1, size, requires_grad=True)
        out = F.max_pool2d(x, 2, 1, padding=1, dilation=2)
        t_out = torch.nn.functional.max_pool2d(tx, 2, 1, padding=1, dilation=2)
        np.testing.assert_array_equal(out.detach().numpy(), t_out.detach().numpy())
        out.sum().backward()
        t_out.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("layout", ["NCHW", "from a conv"])
def test_max_pool_over_tiles_keeps_one_mask_per_offset_laid_out_as_the_output(layout):
    """Passes over arrays laid out differently run several times slower: the masks, the
    output and the input gradient all follow the input's memory order."""
    x = tn.tensor(np.round(np.random.default_rng(2).standard_normal((2, 3, 6, 6))),
                  requires_grad=True)  # ties, resolved by the running comparisons
    source = F.conv2d(x, tn.ones(3, 1, 1, 1).double(), groups=3) if layout != "NCHW" else x
    out = F.max_pool2d(source, 2)
    masks = out.grad_fn.winner
    assert isinstance(masks, tuple) and len(masks) == 4 and all(m.dtype == bool for m in masks)
    assert all(m.shape == (2, 3, 3, 3) for m in masks)
    assert np.array_equal(sum(m.astype(int) for m in masks), np.ones((2, 3, 3, 3)))
    order = pool._memory_order(source.array)
    assert pool._memory_order(out.array) == order
    assert all(pool._memory_order(m) == order for m in masks)


def test_pool_errors():
    with pytest.raises(ValueError, match="avg_pool2d: divisor_override must be a non-zero int"):
        F.avg_pool2d(tn.randn(1, 1, 4, 4), 2, divisor_override=0)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: output_size \(0, 2\)"):
        F.adaptive_avg_pool2d(tn.randn(1, 1, 4, 4), (0, 2))
    with pytest.raises(ValueError, match=r"max_pool2d: expected input .* got \(4, 4\)"):
        F.max_pool2d(tn.randn(4, 4), 2)


@pytest.mark.parametrize("args", [
    dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(2, 3),
    stride=(1, 2), dilation=(2, 1)), dict(kernel_size=3, stride=2, ceil_mode=True)])
def test_max_pool_indices_match_pytorch(args):
    """Values and indices against PyTorch, with ties (small integers) and a NaN, batched and
    unbatched, 2-D and 1-D, functions and modules."""
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(2).integers(0, 3, (2, 3, 7, 8)).astype(np.float64)
    data[1, 2, 3, 4] = np.nan
    for x in (data, data[0]):
        out, indices = F.max_pool2d(tn.tensor(x), **args, return_indices=True)
        t_out, t_indices = torch.nn.functional.max_pool2d(torch.tensor(x), **args,
                                                          return_indices=True)
        np.testing.assert_array_equal(out.numpy(), t_out.numpy())
        np.testing.assert_array_equal(indices.numpy(), t_indices.numpy())
        assert indices.dtype == tn.int64
    _, module_indices = tn.nn.MaxPool2d(**args, return_indices=True)(tn.tensor(data))
    np.testing.assert_array_equal(module_indices.numpy(), torch.nn.MaxPool2d(
        **args, return_indices=True)(torch.tensor(data))[1].numpy())
    one_d = {k: v[1] if isinstance(v, tuple) else v for k, v in args.items()}
    out, indices = tn.nn.MaxPool1d(**one_d, return_indices=True)(tn.tensor(data[0]))
    t_out, t_indices = torch.nn.MaxPool1d(**one_d, return_indices=True)(torch.tensor(data[0]))
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())
    np.testing.assert_array_equal(indices.numpy(), t_indices.numpy())


@pytest.mark.parametrize("dims, args, output_size", [
    (2, dict(kernel_size=2), None), (2, dict(kernel_size=3, stride=2, padding=1), (8, 8)),
    (2, dict(kernel_size=2), (2, 3, 9, 9)), (2, dict(kernel_size=(2, 3), stride=(2, 2)), (8, 9)),
    (1, dict(kernel_size=2), None), (1, dict(kernel_size=3, stride=2, padding=1), (9,)),
    (1, dict(kernel_size=2, stride=3), (2, 3, 9))])
def test_max_unpool_matches_pytorch(dims, args, output_size):
    """Pool with indices, unpool, weight and sum: values and both gradients as PyTorch's, for
    the function (batched or not) and the module (whose sizes print as tuples, as PyTorch's);
    second order by gradgradcheck."""
    torch = pytest.importorskip("torch")
    width = 8 if output_size is None else output_size[-1]  # so that the indices fit
    data = np.random.default_rng(3).standard_normal((2, 3, 8, width) if dims == 2 else (2, 3, width))
    ours, theirs = f"max_unpool{dims}d", f"MaxUnpool{dims}d"
    pooled, indices = getattr(F, f"max_pool{dims}d")(tn.tensor(data), **args, return_indices=True)
    t_pooled, t_indices = getattr(torch.nn.functional, f"max_pool{dims}d")(
        torch.tensor(data), **args, return_indices=True)
    x = tn.tensor(pooled.numpy(), requires_grad=True)
    tx = torch.tensor(t_pooled.numpy(), requires_grad=True)
    unpool, t_unpool = getattr(tn.nn, theirs)(**args), getattr(torch.nn, theirs)(**args)
    out, t_out = unpool(x, indices, output_size), t_unpool(tx, t_indices, output_size)
    np.testing.assert_array_equal(out.detach().numpy(), t_out.detach().numpy())
    weights = np.random.default_rng(4).standard_normal(tuple(t_out.shape))
    (out * tn.tensor(weights)).sum().backward()
    (t_out * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    assert repr(unpool) == repr(t_unpool)
    unpool_fn = getattr(F, ours)
    unbatched = unpool_fn(pooled[0], indices[0], **args, output_size=output_size)
    np.testing.assert_array_equal(unbatched.numpy(), t_out[0].detach().numpy())
    assert tn.gradgradcheck(lambda a: unpool_fn(a, indices, **args, output_size=output_size),
                            (tn.tensor(pooled.numpy(), requires_grad=True),))


def test_max_unpool_errors_name_the_argument_and_shapes():
    pooled, indices = F.max_pool2d(tn.randn(1, 2, 4, 4), 2, return_indices=True)
    with pytest.raises(TypeError, match="max_unpool2d: indices must be an integer tensor"):
        F.max_unpool2d(pooled, pooled, 2)
    with pytest.raises(ValueError, match=r"indices \(1, 2, 2, 1\) must have the input's shape"):
        F.max_unpool2d(pooled, indices[..., :1], 2)
    with pytest.raises(RuntimeError, match="does not fit the output's 2×2 = 4 positions"):
        F.max_unpool2d(pooled, indices, 2, output_size=(2, 2))
    pooled, indices = F.max_pool1d(tn.randn(2, 3, 8), 2, return_indices=True)
    with pytest.raises(ValueError, match=r"max_unpool1d: indices \(2, 3, 1\) must have"):
        F.max_unpool1d(pooled, indices[..., :1], 2)
