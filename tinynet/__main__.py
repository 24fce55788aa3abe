"""``python -m tinynet``: a one-minute tour that proves the install works.

It checks a few gradients against finite differences, takes a Hessian-vector product, and fits
a small network to y = sin(3x), printing the loss as it falls.
"""

from __future__ import annotations

import time

import numpy

import tinynet as tn
import tinynet.nn.functional as F


def main() -> None:
    print(f"tinynet {tn.__version__}: CUDA available: {tn.cuda.is_available()}")
    tn.manual_seed(0)
    x = tn.randn(4, 3, dtype=tn.float64, requires_grad=True)
    w = tn.randn(3, 5, dtype=tn.float64, requires_grad=True)
    for name, fn in [("matmul + tanh", lambda x, w: (x @ w).tanh()),
                     ("log_softmax", lambda x, w: F.log_softmax(x @ w, 1)),
                     ("cross_entropy", lambda x, w: F.cross_entropy(x @ w, tn.tensor([0, 1, 2, 4])))]:
        print(f"gradcheck {name:14s}: {tn.gradcheck(fn, (x, w))}, "
              f"gradgradcheck: {tn.gradgradcheck(fn, (x, w))}")

    xs = tn.tensor(numpy.linspace(-1, 1, 256, dtype=numpy.float32).reshape(-1, 1))
    ys = tn.tensor(numpy.sin(3 * xs.numpy()))
    w1 = (tn.randn(32, 1) * 1.0).requires_grad_()
    b1 = tn.zeros(32, requires_grad=True)
    w2 = (tn.randn(1, 32) * 0.2).requires_grad_()
    b2 = tn.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]
    start = time.perf_counter()
    for step in range(2001):
        pred = F.linear(F.tanh(F.linear(xs, w1, b1)), w2, b2)
        loss = F.mse_loss(pred, ys)
        grads = tn.grad(loss, params)
        with tn.no_grad():
            for p, g in zip(params, grads):
                p -= 0.1 * g  # in place: p stays the same leaf
        if step % 500 == 0:
            print(f"step {step:4d}  loss {loss.item():.5f}")
    print(f"fit sin(3x) with a 1-32-1 tanh net in {time.perf_counter() - start:.2f} s")

    g, = tn.grad(F.mse_loss(F.linear(F.tanh(F.linear(xs, w1, b1)), w2, b2), ys), [w2],
                 create_graph=True)
    v = tn.ones_like(w2)
    hv, = tn.grad((g * v).sum(), [w2])
    print(f"Hessian-vector product w.r.t. the output layer: |Hv| = {float((hv * hv).sum()) ** 0.5:.4f}")


if __name__ == "__main__":
    main()
