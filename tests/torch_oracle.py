"""The op tests' one comparison with PyTorch: a function written for each library, run on the
same inputs; the outputs and the gradients of a random weighting of them must agree."""

import numpy as np

import tinynet as tn


def assert_matches_torch(torch, tn_fn, torch_fn, *arrays, rtol=1e-7, atol=1e-10, seed=0):
    xs = [tn.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, t_out = tn_fn(*xs), torch_fn(*ts)
    assert tuple(out.shape) == tuple(t_out.shape), (tuple(out.shape), tuple(t_out.shape))
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=rtol, atol=atol)
    weights = np.random.default_rng(seed).standard_normal(tuple(t_out.shape))
    weights = weights.astype(np.asarray(arrays[0]).dtype)
    (out * tn.tensor(weights)).sum().backward()
    (t_out * torch.tensor(weights)).sum().backward()
    for x, t in zip(xs, ts):  # torch leaves .grad None where no gradient flows
        expected = np.zeros(x.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(x.grad.numpy(), expected, rtol=rtol, atol=atol)
