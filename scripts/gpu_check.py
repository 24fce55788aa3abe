"""The Python half of scripts/gpu_check.sh: what a machine with an NVIDIA GPU must show.

    python scripts/gpu_check.py SECTION [--out DIR] [--device cuda|cpu] [--small]

Sections (``all`` runs them in turn):

* ``versions``: Python, NumPy, CuPy (and every cupy-cuda* wheel installed: there must be one),
  the CUDA runtime and driver, the GPU, PyTorch when it imports;
* ``parity``: tinynet on the CPU against tinynet on the GPU in float32, for a convolution, the
  pools, cross-entropy, three training steps of an MLP and of a CNN, and a Hessian-vector
  product: the largest absolute difference and that difference relative to the largest CPU value
  (target: 1e-4);
* ``speed``: the MNIST CNN training step (Adam, cross-entropy) at batch 64 and 256 on tinynet's
  GPU and CPU paths, on a hand-written raw-array step in the same array module (the peer: no
  autodiff, no transfers) and on PyTorch CUDA when it imports. Targets at batch 256: at most 1.3×
  the raw step, at least 20× faster than tinynet on the CPU, at most 1.5× PyTorch;
* ``gemm``: float32 matrix products of 2048² and 4096², tinynet against ``cupy.matmul``
  (target: 95% of its throughput).

Each section prints its lines for the summary and writes ``DIR/SECTION.json``. ``--device cpu``
runs the "GPU" side on the CPU and ``--small`` shrinks every size: together they check this
script itself in a few seconds on any machine (the test suite does), and measure nothing.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy

if __package__ in (None, ""):  # run as a script from anywhere: the checkout's tinynet first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinynet as tn  # noqa: E402
import tinynet.nn as nn  # noqa: E402
import tinynet.nn.functional as F  # noqa: E402
from benchmarks.peer_numpy import Adam, MnistCNN  # noqa: E402
from tinynet import backend  # noqa: E402

PARITY_TARGET = 1e-4
SPEED_TARGETS = {"vs raw": 1.3, "cpu / gpu": 20.0, "vs torch": 1.5}
GEMM_TARGET = 0.95


def _sync(device: str) -> Callable[[], None]:
    """Wait for the GPU's queued work (a no-op on the CPU), so that a clock reading means done."""
    if device == "cpu":
        return lambda: None
    return backend.cupy.cuda.Device().synchronize


def _per_call(step: Callable[[], Any], sync: Callable[[], None], seconds: float,
              warmup: int = 2, blocks: int = 3) -> float:
    """Seconds per call of ``step``: the fastest of ``blocks`` timed blocks, each sized to about
    ``seconds / blocks``, after ``warmup`` calls."""
    for _ in range(warmup):
        step()
    sync()
    start = time.perf_counter()
    step()
    sync()
    once = max(time.perf_counter() - start, 1e-6)
    per_block = max(1, int(seconds / blocks / once))
    best = math.inf
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(per_block):
            step()
        sync()
        best = min(best, (time.perf_counter() - start) / per_block)
    return best


# ---------------------------------------------------------------------------- versions
def versions(device: str, small: bool) -> dict[str, Any]:
    """What the machine runs: the versions a GPU result depends on."""
    wheels = sorted(f"{d.metadata['Name']} {d.version}" for d in importlib.metadata.distributions()
                    if (d.metadata["Name"] or "").lower().startswith("cupy"))
    info: dict[str, Any] = {"python": platform.python_version(), "numpy": numpy.__version__,
                            "cupy wheels": wheels, "one cupy wheel": len(wheels) == 1,
                            "cuda usable": backend.cuda_is_available(),
                            "why not": backend.cuda_unavailable_reason()}
    cupy = backend.cupy
    if cupy is not None and backend.cuda_is_available():
        runtime = cupy.cuda.runtime
        props = runtime.getDeviceProperties(0)
        name = props["name"]
        info.update({"cupy": cupy.__version__, "cuda runtime": runtime.runtimeGetVersion(),
                     "cuda driver": runtime.driverGetVersion(),
                     "gpus": runtime.getDeviceCount(),
                     "gpu 0": name.decode() if isinstance(name, bytes) else str(name),
                     "gpu 0 memory GiB": round(props["totalGlobalMem"] / 2 ** 30, 1)})
    try:
        import torch

        info.update({"torch": torch.__version__, "torch cuda": torch.version.cuda,
                     "torch sees a gpu": torch.cuda.is_available()})
    except ImportError:
        info["torch"] = None
    return info


# ---------------------------------------------------------------------------- parity
def _difference(cpu: list[numpy.ndarray], gpu: list[numpy.ndarray]) -> dict[str, float]:
    worst_abs = max(float(numpy.abs(a - b).max()) for a, b in zip(cpu, gpu))
    scale = max(float(numpy.abs(a).max()) for a in cpu)
    relative = worst_abs / scale if scale else worst_abs
    return {"max abs diff": worst_abs, "relative": relative, "ok": relative <= PARITY_TARGET}


def _forward_backward(fn: Callable[..., tn.Tensor], arrays: list[numpy.ndarray],
                      device: str) -> list[numpy.ndarray]:
    inputs = [tn.tensor(a, device=device, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(*inputs)
    upstream = numpy.random.default_rng(1).standard_normal(out.shape).astype(numpy.float32)
    out.backward(tn.tensor(upstream, device=device))
    return [out.detach().numpy()] + [t.grad.numpy() for t in inputs if t.requires_grad]


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def _mnist_cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def _training(make: Callable[[], nn.Module], x: numpy.ndarray, y: numpy.ndarray, device: str,
              steps: int = 3) -> list[numpy.ndarray]:
    tn.manual_seed(0)
    model = make().to(device)
    optimizer = tn.optim.Adam(model.parameters(), lr=1e-3)
    tx, ty = tn.tensor(x, device=device), tn.tensor(y, device=device)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(tx), ty)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return [numpy.array([loss.item() for loss in losses])] + \
        [p.detach().numpy() for p in model.parameters()]


def _hvp(arrays: list[numpy.ndarray], device: str) -> list[numpy.ndarray]:
    x, w, v = (tn.tensor(a, device=device) for a in arrays)
    w.requires_grad_()
    (g,) = tn.grad(F.max_pool2d(F.elu(F.conv2d(x, w)), 2).sum(), [w], create_graph=True)
    (hv,) = tn.grad((g * v).sum(), [w])
    return [hv.numpy()]


def parity(device: str, small: bool) -> dict[str, Any]:
    """Each case on the CPU and on ``device``, from the same float32 data."""
    rng = numpy.random.default_rng(0)

    def data(*shape: int) -> numpy.ndarray:
        return rng.standard_normal(shape).astype(numpy.float32)

    n = 4 if small else 32
    labels = rng.integers(0, 10, n)
    conv, pool, scores = [data(n, 3, 16, 16), data(8, 3, 3, 3), data(8)], [data(n, 4, 16, 16)], \
        [data(n, 10), labels]
    features, images = data(n, 64), data(n, 1, 28, 28)
    hvp_arrays = [data(2, 3, 10, 10), data(4, 3, 3, 3), data(4, 3, 3, 3)]
    cases: dict[str, Callable[[str], list[numpy.ndarray]]] = {
        "conv2d": lambda d: _forward_backward(
            lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1), conv, d),
        "max_pool2d + avg_pool2d": lambda d: _forward_backward(
            lambda x: F.max_pool2d(x, 2) + F.avg_pool2d(x, 2), pool, d),
        "cross_entropy": lambda d: _forward_backward(F.cross_entropy, scores, d),
        "mlp step (3 x Adam)": lambda d: _training(_mlp, features, labels, d),
        "cnn step (3 x Adam)": lambda d: _training(_mnist_cnn, images, labels, d),
        "hvp (conv, elu, pool)": lambda d: _hvp(hvp_arrays, d),
    }
    return {name: _difference(case("cpu"), case(device)) for name, case in cases.items()}


# ---------------------------------------------------------------------------- the raw peer
class RawCNN:
    """The MNIST CNN's training step written directly in an array module (CuPy on a GPU): the
    benchmarks' hand-written NumPy network (``MnistCNN``: im2col and one GEMM per convolution,
    reshape max-pools, softmax cross-entropy) and Adam, with the loss kept on the device. No
    autodiff and no transfer: what the arithmetic costs."""

    def __init__(self, xp: Any, params: list[Any] | None = None, lr: float = 1e-3) -> None:
        """``params``: host arrays in tinynet's order; by default drawn as PyTorch initialises."""
        self.model = MnistCNN(params=params, xp=xp)
        self.params = self.model.params
        self.adam = Adam(self.params, lr)

    def step(self, x: Any, labels: Any) -> Any:
        """One training step; returns the loss as a 0-d array (not read)."""
        cache = self.model.forward(x, labels)
        self.adam.step(self.model.backward(cache))
        return cache[0]


# ---------------------------------------------------------------------------- speed
def _tinynet_step(x: numpy.ndarray, y: numpy.ndarray, device: str) -> Callable[[], Any]:
    tn.manual_seed(0)
    model = _mnist_cnn().to(device)
    optimizer = tn.optim.Adam(model.parameters(), lr=1e-3)
    tx, ty = tn.tensor(x, device=device), tn.tensor(y, device=device)

    def step() -> Any:
        loss = F.cross_entropy(model(tx), ty)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step


def _torch_step(x: numpy.ndarray, y: numpy.ndarray) -> tuple[Callable[[], Any], Any] | None:
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    torch.manual_seed(0)
    tnn = torch.nn
    model = tnn.Sequential(tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                           tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                           tnn.Flatten(), tnn.Linear(3136, 128), tnn.ReLU(),
                           tnn.Linear(128, 10)).cuda()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    tx, ty = torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda()

    def step() -> Any:
        loss = torch.nn.functional.cross_entropy(model(tx), ty)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step, torch.cuda.synchronize


def speed(device: str, small: bool) -> dict[str, Any]:
    """Seconds per MNIST CNN training step for each subject, and the ratios the targets bound."""
    rng = numpy.random.default_rng(0)
    seconds = 0.02 if small else 3.0
    result: dict[str, Any] = {}
    for batch in ((4, 8) if small else (64, 256)):
        x = rng.random((batch, 1, 28, 28), dtype=numpy.float32)
        y = rng.integers(0, 10, batch)
        xp = backend.xp_of(device)
        raw, raw_x, raw_y = RawCNN(xp), xp.asarray(x), xp.asarray(y)
        row = {"tinynet gpu": _per_call(_tinynet_step(x, y, device), _sync(device), seconds),
               "tinynet cpu": _per_call(_tinynet_step(x, y, "cpu"), _sync("cpu"),
                                        seconds / 3, warmup=1),
               "raw": _per_call(lambda r=raw, a=raw_x, b=raw_y: r.step(a, b), _sync(device),
                                seconds)}
        torch_step = _torch_step(x, y) if device == "cuda" else None
        if torch_step is not None:
            row["torch cuda"] = _per_call(torch_step[0], torch_step[1], seconds)
        row["vs raw"] = row["tinynet gpu"] / row["raw"]
        row["cpu / gpu"] = row["tinynet cpu"] / row["tinynet gpu"]
        if "torch cuda" in row:
            row["vs torch"] = row["tinynet gpu"] / row["torch cuda"]
        result[f"batch {batch}"] = row
    last = result[f"batch {256 if not small else 8}"]
    result["targets at the largest batch"] = {
        "vs raw <= 1.3": last["vs raw"] <= SPEED_TARGETS["vs raw"],
        "cpu / gpu >= 20": last["cpu / gpu"] >= SPEED_TARGETS["cpu / gpu"],
        "vs torch <= 1.5": last["vs torch"] <= SPEED_TARGETS["vs torch"] if "vs torch" in last
        else None}
    return result


# ---------------------------------------------------------------------------- gemm
def gemm(device: str, small: bool) -> dict[str, Any]:
    """float32 n×n products: tinynet's ``a @ b`` against the array module's own matmul."""
    xp = backend.xp_of(device)
    rng = numpy.random.default_rng(0)
    result = {}
    for n in ((64, 128) if small else (2048, 4096)):
        a, b = (xp.asarray(rng.standard_normal((n, n), dtype=numpy.float32)) for _ in range(2))
        ta, tb = tn.Tensor(a), tn.Tensor(b)
        seconds = 0.02 if small else 2.0
        raw = _per_call(lambda a=a, b=b: xp.matmul(a, b), _sync(device), seconds)
        ours = _per_call(lambda ta=ta, tb=tb: ta @ tb, _sync(device), seconds)
        flops = 2.0 * n ** 3
        result[f"{n}x{n}"] = {"tinynet TFLOP/s": flops / ours / 1e12,
                              "matmul TFLOP/s": flops / raw / 1e12, "fraction": raw / ours,
                              "ok": raw / ours >= GEMM_TARGET}
    return result


SECTIONS = {"versions": versions, "parity": parity, "speed": speed, "gemm": gemm}


def _lines(name: str, result: dict[str, Any]) -> list[str]:
    """The summary's lines for one section: one per case, numbers to 3 significant digits."""
    def show(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.3g}"
        if isinstance(value, dict):
            return ", ".join(f"{k} {show(v)}" for k, v in value.items())
        return str(value)

    return [f"- {name} / {key}: {show(value)}" for key, value in result.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("section", choices=[*SECTIONS, "all"])
    parser.add_argument("--out", type=Path, default=Path("gpu-check"))
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--small", action="store_true", help="tiny sizes: checks the script only")
    args = parser.parse_args(argv)
    if args.device == "cuda" and args.section != "versions" and not backend.cuda_is_available():
        print(f"- {args.section}: skipped, no GPU: {backend.cuda_unavailable_reason()}")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for name in SECTIONS if args.section == "all" else [args.section]:
        result = SECTIONS[name](args.device, args.small)
        (args.out / f"{name}.json").write_text(json.dumps(result, indent=2, default=str))
        print("\n".join(_lines(name, result)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
