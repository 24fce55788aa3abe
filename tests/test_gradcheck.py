"""tn.gradcheck and tn.gradgradcheck as library features, and proof that the op factory
catches each kind of mistake it checks for (wrong backward, wrong double backward, in-place
writes, leaked graphs, wrong forward)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tinynet.testing import OpSpec, cases, check_case, check_op, shapes

import tinynet as tn
from tinynet.autograd import Op


def f64(array, requires_grad=True):
    return tn.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


# --------------------------------------------------------------------------- deliberately broken ops
class ExpOffByAFactor(Op):
    """exp with a backward 1% too large."""

    def forward(self, x):
        self.out = np.exp(x)
        return self.out

    def backward(self, g):
        return (g * self.output(self.out) * 1.01,)


class ExpWithSlightlyWrongArrays(Op):
    """exp whose raw-array backward (taken without create_graph) is off by one part in 10⁷:
    too little for finite differences to see, not for the factory."""

    def forward(self, x):
        self.out = np.exp(x)
        return self.out

    def backward(self, g):
        return (g * self.output(self.out),)

    def backward_arrays(self, g):
        return (g * self.out * (1 + 1e-7),)


class ExpWithConstantBackward(Op):
    """exp whose backward is right but built from a constant array: no second derivative."""

    def forward(self, x):
        return np.exp(x)

    def backward(self, g):
        return (g * tn.Tensor(np.exp(self.inputs[0].array)),)


class WrongAtOneElement(Op):
    """2·x, except that the gradient of element (1, 2) of the SECOND input is dropped."""

    def forward(self, a, b):
        return 2 * a + 2 * b

    def backward(self, g):
        mask = np.ones(self.inputs[1].shape)
        mask[1, 2] = 0.0
        return g * 2, g * tn.tensor(2 * mask)


class ExpInPlace(Op):
    """exp that overwrites its input's array."""

    def forward(self, x):
        np.exp(x, out=x)
        return x.copy()

    def backward(self, g):
        return (g * tn.Tensor(self.inputs[0].array),)


class ExpKeepingItsOutput(Op):
    """exp that stores its own output Tensor: a reference cycle node → output → node."""

    @classmethod
    def apply(cls, *inputs, **params):
        out = super().apply(*inputs, **params)
        if out.grad_fn is not None:
            out.grad_fn.saved_output = out
        return out

    def forward(self, x):
        self.out = np.exp(x)
        return self.out

    def backward(self, g):
        return (g * self.output(self.out),)


def exp_spec(fn, **kwargs):
    return OpSpec(fn.__name__ if hasattr(fn, "__name__") else "exp", fn, cases(shapes()),
                  np.exp, **kwargs)


# --------------------------------------------------------------------------- gradcheck
def test_gradcheck_passes_correct_gradients():
    rng = np.random.default_rng(0)
    a, b = f64(rng.standard_normal((3, 4))), f64(rng.standard_normal((4, 2)))
    assert tn.gradcheck(lambda a, b: (a @ b).exp(), (a, b))
    assert tn.gradcheck(lambda t: (t * t).sum(), f64(rng.standard_normal(3)))
    big = f64(rng.standard_normal((10, 10)))  # more than max_full: random probes
    assert tn.gradcheck(lambda t: t.exp() * t, big)


def test_gradcheck_handles_several_outputs_and_non_tensor_arguments():
    x = f64([0.5, 1.5])
    assert tn.gradcheck(lambda t, k: (t ** k, t.exp()), (x, 3))
    constant = f64([2.0, 3.0], requires_grad=False)
    assert tn.gradcheck(lambda t, c: t * c, (x, constant))


def test_gradcheck_failure_names_the_input_and_the_worst_element():
    a = f64(np.ones((2, 3)))
    b = f64(np.arange(6.0).reshape(2, 3))
    with pytest.raises(tn.GradcheckError) as failure:
        tn.gradcheck(WrongAtOneElement.apply, (a, b))
    message = str(failure.value)
    assert "input 1 (shape (2, 3))" in message
    assert "element (1, 2)" in message
    assert "analytic 0 vs numeric 2" in message


def test_gradcheck_catches_a_wrong_backward_on_large_inputs_too():
    x = f64(np.linspace(-1, 1, 200).reshape(10, 20))
    with pytest.raises(tn.GradcheckError, match="input 0"):
        tn.gradcheck(ExpOffByAFactor.apply, x)
    assert not tn.gradcheck(ExpOffByAFactor.apply, x, raise_exception=False)


def test_gradcheck_tolerances_are_respected():
    x = f64([0.3, 0.1])
    assert tn.gradcheck(ExpOffByAFactor.apply, x, rtol=0.05)
    with pytest.raises(tn.GradcheckError):
        tn.gradcheck(ExpOffByAFactor.apply, x, rtol=1e-3)


def test_gradcheck_needs_float64_inputs_that_require_grad():
    with pytest.raises(TypeError, match="float64"):
        tn.gradcheck(lambda t: t * 2, tn.ones(2, requires_grad=True))
    with pytest.raises(ValueError, match="requires_grad"):
        tn.gradcheck(lambda t: t * 2, f64([1.0], requires_grad=False))


def test_gradgradcheck_passes_correct_second_derivatives():
    x = f64([0.2, -0.4, 1.1])
    w = f64(np.random.default_rng(1).standard_normal((3, 3)))
    assert tn.gradgradcheck(lambda x, w: (w @ x).exp().sum(), (x, w))
    assert tn.gradgradcheck(lambda x: x.exp() * x, x,
                            grad_outputs=[f64([1.0, -1.0, 0.5])])


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    x = f64([0.2, -0.4, 1.1])
    assert tn.gradcheck(ExpWithConstantBackward.apply, x)  # first order is right
    with pytest.raises(tn.GradcheckError, match="input 0"):
        tn.gradgradcheck(ExpWithConstantBackward.apply, x)


class ExpWithNumpyBackward(Op):
    """exp whose backward computes the right numbers in NumPy: a gradient with no graph."""

    def forward(self, x):
        return np.exp(x)

    def backward(self, g):
        return (tn.Tensor(g.array * np.exp(self.inputs[0].array)),)


def test_gradgradcheck_catches_a_backward_that_leaves_the_graph():
    x = f64([0.2, -0.4, 1.1])
    assert tn.gradcheck(ExpWithNumpyBackward.apply, x)  # first order is right
    with pytest.raises(tn.GradcheckError, match="gradient of input 0 is not differentiable"):
        tn.gradgradcheck(ExpWithNumpyBackward.apply, x)
    with pytest.raises(tn.GradcheckError, match="not differentiable"):
        check_case(exp_spec(ExpWithNumpyBackward.apply), [np.linspace(-1, 1, 4)])



class FloorWithZeroBackward(Op):
    """floor, whose gradient is zero everywhere (between integers): a constant needs no graph."""

    def forward(self, x):
        return np.floor(x)

    def backward(self, g):
        return (tn.Tensor(np.zeros(g.shape)),)


def test_gradgradcheck_accepts_a_zero_gradient_without_a_graph():
    x = f64([0.2, -0.4, 1.1])
    assert tn.gradcheck(FloorWithZeroBackward.apply, x)
    assert tn.gradgradcheck(FloorWithZeroBackward.apply, x)


# --------------------------------------------------------------------------- the factory fails when it should
def test_factory_passes_a_correct_op():
    check_case(exp_spec(tn.exp), [np.linspace(-1, 1, 6).reshape(2, 3)])


def test_factory_catches_a_wrong_backward():
    with pytest.raises(tn.GradcheckError):
        check_case(exp_spec(ExpOffByAFactor.apply), [np.linspace(-1, 1, 6).reshape(2, 3)])


def test_factory_catches_a_wrong_backward_through_hypothesis():
    spec = exp_spec(ExpOffByAFactor.apply)

    @settings(max_examples=5, database=None)
    @given(data=st.data())
    def run(data):
        check_op(spec, data)

    with pytest.raises(tn.GradcheckError):
        run()


def test_factory_catches_a_raw_array_backward_that_differs_from_the_plain_one():
    x = f64([0.2, -0.4, 1.1])
    assert tn.gradcheck(ExpWithSlightlyWrongArrays.apply, x)  # the error hides in the tolerance
    with pytest.raises(AssertionError, match="backward_arrays"):
        check_case(exp_spec(ExpWithSlightlyWrongArrays.apply), [np.linspace(-1, 1, 4)])


def test_factory_catches_a_wrong_second_derivative():
    with pytest.raises(tn.GradcheckError):
        check_case(exp_spec(ExpWithConstantBackward.apply), [np.linspace(-1, 1, 4)])
    check_case(exp_spec(ExpWithConstantBackward.apply, second_order=False),
               [np.linspace(-1, 1, 4)])


def test_factory_catches_an_op_that_writes_into_its_input():
    with pytest.raises(AssertionError, match="modified in place"):
        check_case(exp_spec(ExpInPlace.apply, second_order=False), [np.linspace(-1, 1, 4)])


def test_factory_catches_a_graph_kept_alive_by_a_cycle():
    with pytest.raises(AssertionError, match="outlived"):
        check_case(exp_spec(ExpKeepingItsOutput.apply), [np.linspace(-1, 1, 4)])


def test_factory_catches_a_forward_that_disagrees_with_the_reference():
    spec = OpSpec("exp_vs_expm1", tn.exp, cases(), np.expm1)
    with pytest.raises(AssertionError, match="reference"):
        check_case(spec, [np.linspace(-1, 1, 4)])


def test_the_checks_are_also_where_pytorch_keeps_them():
    from tinynet.autograd import GradcheckError, gradcheck, gradgradcheck

    assert (gradcheck, gradgradcheck, GradcheckError) == (tn.gradcheck, tn.gradgradcheck,
                                                          tn.GradcheckError)
    with pytest.raises(AttributeError, match="tinynet.autograd' has no attribute 'gradchek'"):
        getattr(tn.autograd, "gradchek")  # noqa: B009 - the attribute access is the test
