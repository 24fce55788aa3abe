"""``tn.autograd.functional``: PyTorch's higher-order helpers ``vjp``, ``jvp``, ``vhp``, ``hvp``,
``jacobian`` and ``hessian``, for a function of tensors given as ``func(*inputs)``.

Everything is reverse mode and double backward, as in ``tinynet.hessian`` (which offers the same
products for a loss closure over parameters, plus eigenvalues and traces): a gradient computed
with ``create_graph=True`` is a graph again. Forward-mode products (``jvp``, ``hvp``) use the
"double backward trick": the vector-Jacobian product uᵀJ is linear in u, so differentiating it
with respect to u along v gives Jv without any forward-mode code.

Results are detached unless ``create_graph=True``; ``strict=True`` raises where an output does
not depend on an input instead of returning zeros. Shapes and tuple nesting follow PyTorch.

>>> from tinynet.autograd.functional import jacobian, hessian
>>> jacobian(lambda x: x ** 2, tn.tensor([1.0, 2.0]))
tensor([[2., 0.],
        [0., 4.]])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tinynet.autograd.engine import enable_grad, grad, is_grad_enabled, set_grad_enabled
from tinynet.tensor import Tensor

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]

Inputs = Tensor | Sequence[Tensor]

_STRATEGIES = ("forward-mode", "reverse-mode")


# ---------------------------------------------------------------------------- PyTorch's plumbing
def _as_tuple(value: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple[Tensor, ...]]:
    is_tuple = isinstance(value, (tuple, list))
    items = tuple(value) if is_tuple else (value,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            if is_tuple:
                raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                                f"tuple of Tensors but the value at index {i} has type "
                                f"{type(t).__name__}.")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but the given {arg_name} has type "
                            f"{type(t).__name__}.")
    return is_tuple, items


def _tuple_postprocess(result: Any, to_unpack: bool | tuple[bool, bool]) -> Any:
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            result = tuple(row[0] for row in result)
        if not to_unpack[0]:
            result = result[0]
    elif not to_unpack:
        result = result[0]
    return result


def _grad_preprocess(inputs: tuple[Tensor, ...], create_graph: bool,
                     need_graph: bool) -> tuple[Tensor, ...]:
    """Fresh leaves to differentiate against, or, with ``create_graph``, the inputs themselves
    so that the result stays connected to the caller's graph."""
    return tuple(t if create_graph and t.requires_grad else t.detach().requires_grad_(need_graph)
                 for t in inputs)


def _grad_postprocess(tensors: Any, create_graph: bool) -> Any:
    if isinstance(tensors, Tensor):
        return tensors if create_graph else tensors.detach()
    return tuple(_grad_postprocess(t, create_graph) for t in tensors)


def _validate_v(v: tuple[Tensor, ...], other: tuple[Tensor, ...], is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (el_v, el_other) in enumerate(zip(v, other)):
        if tuple(el_v.shape) != tuple(el_other.shape):
            prefix = f"Entry {i} in " if is_other_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {tuple(el_other.shape)} but "
                               f"got {tuple(el_v.shape)}.")


def _check_requires_grad(tensors: tuple[Tensor | None, ...], input_type: str, strict: bool) -> None:
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input "
                               f"{i}. This is not allowed in strict mode.")
        if not t.requires_grad:
            if input_type == "hessian":
                raise RuntimeError(f"The hessian of the user-provided function with respect to "
                                   f"input {i} is independent of the input. This is not allowed "
                                   "in strict mode. You should ensure that your function is "
                                   "thrice differentiable and that the hessian depends on the "
                                   "inputs.")
            if input_type == "jacobian":
                raise RuntimeError(f"While computing the hessian, found that the jacobian of the "
                                   f"user-provided function with respect to input {i} is "
                                   "independent of the input. This is not allowed in strict "
                                   "mode. You should ensure that your function is twice "
                                   "differentiable and that the jacobian depends on the inputs "
                                   "(this would be violated by a linear function for example).")
            if input_type == "grad_inputs":
                raise RuntimeError(f"The gradient with respect to input {i} is independent of the "
                                   "inputs of the user-provided function. This is not allowed in "
                                   "strict mode.")
            raise RuntimeError(f"Output {i} of the user-provided function does not require "
                               "gradients. The outputs must be computed in a differentiable "
                               "manner from the input when running in strict mode.")


def _autograd_grad(outputs: tuple[Tensor | None, ...], inputs: tuple[Tensor, ...],
                   grad_outputs: tuple[Tensor, ...] | None = None, create_graph: bool = False,
                   retain_graph: bool | None = None) -> tuple[Tensor | None, ...]:
    """``grad`` over the outputs that require grad only; None for every input if none does."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(out, g) for out, g in zip(outputs, grad_outputs)
             if out is not None and out.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad([out for out, _ in pairs], inputs, [g for _, g in pairs], retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True)


_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This "
                   "is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} "
                         "in the grad_jacobian. This is not allowed in strict mode as it prevents "
                         "from using the double backward trick to replace forward mode AD.",
}


def _fill_in_zeros(grads: tuple[Tensor | None, ...], refs: tuple[Tensor, ...], strict: bool,
                   create_graph: bool, stage: str) -> tuple[Tensor, ...]:
    result = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_INDEPENDENT[stage].format(i=i))
            g = Tensor(ref.xp.zeros(ref.shape, dtype=ref.dtype))
        elif strict and create_graph and not g.requires_grad:
            message = _INDEPENDENT[stage].format(i=i).replace(
                "This is not allowed in strict mode", "This is not allowed in strict mode when "
                "create_graph=True")
            raise RuntimeError(message)
        result.append(g)
    return tuple(result)


def _prepare(func: Callable[..., Any], inputs: Inputs, v: Inputs | None, create_graph: bool,
             strict: bool, name: str, v_against: str):
    """The common first half of every product: fresh inputs, the outputs, a checked ``v``."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    if v is not None:
        _, v = _as_tuple(v, "v", name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        against, against_tuple = (outputs, is_outputs_tuple) if v_against == "outputs" else \
            (inputs, is_inputs_tuple)
        _validate_v(v, against, against_tuple)
    elif v_against == "outputs" and (len(outputs) != 1 or outputs[0].numel() != 1):
        raise RuntimeError("The vector v can only be None if the user-provided function returns "
                           "a single Tensor with a single element.")
    elif v_against == "inputs" and (len(inputs) != 1 or inputs[0].numel() != 1):
        raise RuntimeError("The vector v can only be None if the input to the user-provided "
                           "function is a single Tensor with a single element.")
    return is_inputs_tuple, inputs, is_outputs_tuple, outputs, v


def _single_scalar(outputs: tuple[Tensor, ...], is_outputs_tuple: bool, name: str) -> None:
    if is_outputs_tuple:
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {name} should contain "
                           "a single element")


def _last_pass(outputs: tuple[Tensor | None, ...], wrt: tuple[Tensor, ...], v: Any,
               refs: tuple[Tensor, ...], strict: bool, create_graph: bool,
               stage: str) -> tuple[Tensor, ...]:
    """The product itself: one more backward pass, recorded only with ``create_graph``; zeros
    (or, strict, an error) where nothing depends on an input."""
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _autograd_grad(outputs, wrt, v, create_graph=create_graph)
        return _fill_in_zeros(grads, refs, strict, create_graph, stage)


def _results(outputs: tuple[Tensor, ...], is_outputs_tuple: bool, product: tuple[Tensor, ...],
             is_product_tuple: bool, create_graph: bool) -> tuple[Any, Any]:
    return (_tuple_postprocess(_grad_postprocess(outputs, create_graph), is_outputs_tuple),
            _tuple_postprocess(_grad_postprocess(product, create_graph), is_product_tuple))


def _zeros_requiring_grad(like: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """Dummy upstream gradients for the double backward trick; their value never matters."""
    return tuple(Tensor(t.xp.zeros(t.shape, dtype=t.dtype), requires_grad=True) for t in like)


# ---------------------------------------------------------------------------- the products
def vjp(func: Callable[..., Any], inputs: Inputs, v: Inputs | None = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), vᵀ·J)``: the vector-Jacobian product, one backward pass.

    ``v`` is shaped like the outputs; it may be None when the output is a single element.
    """
    with enable_grad():
        is_inputs_tuple, inputs, is_outputs_tuple, outputs, v = _prepare(
            func, inputs, v, create_graph, strict, "vjp", "outputs")
    result = _last_pass(outputs, inputs, v, inputs, strict, create_graph, "back")
    return _results(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)


def jvp(func: Callable[..., Any], inputs: Inputs, v: Inputs | None = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), J·v)``: the Jacobian-vector product, by the double backward trick.

    ``v`` is shaped like the inputs; it may be None when the input is a single element.
    """
    with enable_grad():
        is_inputs_tuple, inputs, is_outputs_tuple, outputs, v = _prepare(
            func, inputs, v, create_graph, strict, "jvp", "inputs")
        dummies = _zeros_requiring_grad(outputs)
        grad_inputs = _autograd_grad(outputs, inputs, dummies, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    result = _last_pass(grad_inputs, dummies, v, outputs, strict, create_graph, "back_trick")
    return _results(outputs, is_outputs_tuple, result, is_outputs_tuple, create_graph)


def vhp(func: Callable[..., Any], inputs: Inputs, v: Inputs | None = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), vᵀ·H)`` for a function with one scalar output: double backward."""
    with enable_grad():
        is_inputs_tuple, inputs, is_outputs_tuple, outputs, v = _prepare(
            func, inputs, v, create_graph, strict, "vhp", "inputs")
        _single_scalar(outputs, is_outputs_tuple, "vhp")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
    result = _last_pass(jac, inputs, v, inputs, strict, create_graph, "double_back")
    return _results(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)


def hvp(func: Callable[..., Any], inputs: Inputs, v: Inputs | None = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), H·v)`` for a function with one scalar output.

    Computed as PyTorch does, by the double backward trick on top of double backward; for a
    twice continuously differentiable function H is symmetric and ``vhp`` gives the same, faster.
    """
    with enable_grad():
        is_inputs_tuple, inputs, is_outputs_tuple, outputs, v = _prepare(
            func, inputs, v, create_graph, strict, "hvp", "inputs")
        _single_scalar(outputs, is_outputs_tuple, "hvp")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        grad_jac = _zeros_requiring_grad(inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
    result = _last_pass(double_back, grad_jac, v, inputs, strict, create_graph, "double_back_trick")
    return _results(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)


def jacobian(func: Callable[..., Any], inputs: Inputs, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``: for one input and one output a tensor of shape
    ``output.shape + input.shape``; for tuples, tuples of those (outputs outer, inputs inner).

    Row by row, one backward pass per output element. ``vectorize`` and ``strategy`` are
    checked as PyTorch checks them; tinynet computes the same numbers by the same loop either
    way (it has no vmap and no forward mode).
    """
    if strategy not in _STRATEGIES:
        raise ValueError(f'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: '
                         f'If your function has more outputs than inputs, "forward-mode" tends to '
                         f'be more performant. Otherwise, prefer to use "reverse-mode". Got '
                         f'{strategy!r}.')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError("torch.autograd.functional.jacobian: `create_graph=True` "
                                      'and `strategy="forward-mode"` are not supported together '
                                      "(yet). Please either set `create_graph=False` or "
                                      '`strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                      "Hessian is only implemented for `vectorize=True`.")
    if strict and vectorize:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           "`vectorized=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jacobian")
        _check_requires_grad(outputs, "outputs", strict=strict)
        rows = tuple(_jacobian_of_output(i, out, inputs, create_graph, strict)
                     for i, out in enumerate(outputs))
    return _tuple_postprocess(_grad_postprocess(rows, create_graph),
                              (is_outputs_tuple, is_inputs_tuple))


def _jacobian_of_output(i: int, out: Tensor, inputs: tuple[Tensor, ...], create_graph: bool,
                        strict: bool) -> tuple[Tensor, ...]:
    """d out / d input for every input, by one backward pass per element of ``out``."""
    from tinynet.ops import stack

    columns: list[list[Tensor]] = [[] for _ in inputs]
    for j in range(out.numel()):
        unit = out.xp.zeros(out.numel(), dtype=out.dtype)
        unit[j] = 1
        seed = Tensor(unit.reshape(out.shape))
        grads = _autograd_grad((out,), inputs, (seed,), retain_graph=True,
                               create_graph=create_graph)
        for k, (g, inp) in enumerate(zip(grads, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is independent "
                                       f"of input {k}. This is not allowed in strict mode.")
                g = Tensor(inp.xp.zeros(inp.shape, dtype=inp.dtype))
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent "
                                   f"of input {k}. This is not allowed in strict mode when "
                                   "create_graph=True.")
            columns[k].append(g)
    result = []
    for column, inp in zip(columns, inputs):
        shape = tuple(out.shape) + tuple(inp.shape)
        result.append(stack(column).reshape(shape) if column else
                      Tensor(inp.xp.zeros(shape, dtype=inp.dtype)))
    return tuple(result)


def hessian(func: Callable[..., Any], inputs: Inputs, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a function with one scalar output: the Jacobian of its gradient, shaped
    ``input.shape + input.shape`` (for tuples of inputs, a tuple of tuples, one per pair).

    The gradient is taken with ``create_graph=True`` and differentiated once more, one backward
    pass per input element: for small inputs (see ``tinynet.hessian`` for products and spectra
    of large ones).
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def single_output(*inp: Tensor) -> Tensor:
        out = func(*inp)
        is_out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(outs, "outputs", strict=strict)
        _single_scalar(outs, is_out_tuple, "hessian")
        return outs[0].reshape(())

    def gradient(*inp: Tensor) -> Any:
        jac = jacobian(single_output, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(result, (is_inputs_tuple, is_inputs_tuple))
