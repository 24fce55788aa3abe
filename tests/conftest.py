"""Shared test set-up: Hypothesis profiles, and the device the device-generic tests run on.

Profiles: ``ci`` (the default) draws few examples in a fixed order, so every run tests the same
cases and takes the same time; ``thorough`` draws many; ``smoke`` three (for a timed GPU check).
Pick one with the environment variable ``TINYNET_HYPOTHESIS=thorough``.

The data sets come only from the folder the environment variable ``TINYNET_DATA`` names (as for
every tinynet user); without it, MNIST falls back to the offline subset shipped with tinynet and
the tests that need the full data skip.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

_SLOW_DRAWS_ARE_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=10, deadline=None, derandomize=True, database=None,
                          print_blob=True, suppress_health_check=_SLOW_DRAWS_ARE_FINE)
settings.register_profile("thorough", max_examples=200, deadline=None,
                          suppress_health_check=_SLOW_DRAWS_ARE_FINE)
settings.register_profile("smoke", max_examples=3, deadline=None, derandomize=True, database=None,
                          print_blob=True, suppress_health_check=_SLOW_DRAWS_ARE_FINE)
settings.load_profile(os.environ.get("TINYNET_HYPOTHESIS", "ci"))


# ------------------------------------------------------------------ the device the tests run on
# ``pytest --device cuda`` (or TINYNET_TEST_DEVICE=cuda) runs the device-generic test modules (ops,
# autograd, nn, optim, Hessian: they make tensors through the default device) with CUDA as the
# default device, and skips the rest; without a GPU everything skips, saying why. ``--device
# strict`` does the same on tests/strict_cupy.py, a stand-in for CuPy on the CPU that refuses
# host/device mixing as CuPy does.
DEVICE_GENERIC = ("test_ops_", "test_autograd", "test_nn_", "test_losses", "test_optim",
                  "test_hessian", "test_inplace", "test_gradcheck")


def pytest_addoption(parser):
    parser.addoption("--device", choices=("cpu", "cuda", "strict"),
                     default=os.environ.get("TINYNET_TEST_DEVICE", "cpu"),
                     help="run the device-generic tests on this device (default: cpu, or "
                          "$TINYNET_TEST_DEVICE); 'strict' is a CuPy stand-in on the CPU")


def pytest_sessionstart(session):
    # pytest imports the test modules, and so tinynet, inside a warning-catching block that
    # drops the filter tinynet sets on import; set it again outside, where users' programs have
    # it (tests that must see NumPy's warnings turn them into errors, which comes first)
    from tinynet import backend

    backend.ignore_numpy_float_warnings()


def pytest_report_header(config):
    return f"tinynet test device: {config.getoption('--device')}"


def pytest_collection_modifyitems(config, items):
    device = config.getoption("--device")
    if device == "cpu":
        return
    from tinynet import backend

    missing = device == "cuda" and backend.cuda_unavailable_reason()
    for item in items:
        if missing:
            item.add_marker(pytest.mark.skip(reason=f"--device cuda: {missing}"))
        elif not item.module.__name__.rsplit(".", 1)[-1].startswith(DEVICE_GENERIC):
            item.add_marker(pytest.mark.skip(reason=f"--device {device} runs only the device-"
                                                    "generic modules (ops, autograd, nn, optim, "
                                                    "hessian); this one runs on the CPU"))


def pytest_runtest_setup(item):
    device = item.config.getoption("--device")
    if device == "cpu" or not item.module.__name__.rsplit(".", 1)[-1].startswith(DEVICE_GENERIC):
        return
    from tinynet import backend

    patch = pytest.MonkeyPatch()
    if device == "strict":
        import strict_cupy

        strict_cupy.install(patch)
    patch.setattr(backend, "default_device", "cuda")
    item.stash[_DEVICE_PATCH] = patch


def pytest_runtest_teardown(item):
    patch = item.stash.get(_DEVICE_PATCH, None)
    if patch is not None:
        patch.undo()


_DEVICE_PATCH = pytest.StashKey()
