"""The benchmark suite runs end to end on tiny sizes, and its hand-written peers compute the same
gradients as tinynet (so a ratio compares equal work). No timing is asserted: speed is measured
by ``python -m benchmarks``, never in tests."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn.functional as F
from benchmarks import __main__ as cli
from benchmarks import cases, harness, peer_numpy, plot, record, suite, table, targets


@pytest.fixture(scope="module")
def tiny_record():
    return suite.run(cases.PROFILES["tiny"], log=lambda line: None)


def test_tiny_run_measures_every_case_and_phase_on_both_thread_settings(tiny_record):
    rows = tiny_record["rows"]
    names = {row["case"] for row in rows}
    assert names == {case.name for case in cases.all_cases(cases.PROFILES["tiny"])}
    for row in rows:
        assert row["threads"] in ("1", "default")
        if row.get("skipped"):
            assert row["skipped"].startswith("skipped")
            continue
        peers = set(row["seconds"]) - {"tinynet"}
        assert "numpy" in peers or "cupy" in peers or row["device"] == "cuda"
        assert set(row["ratio"]) == peers
        for name, figures in row["seconds"].items():
            assert figures["median"] > 0 and len(figures["samples"]) >= 1, (row["case"], name)
        assert set(row["thread_counts"]) == {"tinynet", "blas", "torch"}
        if row["threads"] == "1":
            assert row["thread_counts"]["tinynet"] == row["thread_counts"]["blas"] == 1
            assert row["thread_counts"]["torch"] in (1, None)
        if row["flops"]:
            assert set(row["gflops"]) == set(row["seconds"])
            if row["device"] == "cpu":  # each conv (and GEMM) row's fraction of an SGEMM's
                assert set(row["peak_fraction"]) == set(row["seconds"])  # timed in its rounds
                assert all(v > 0 for v in row["peak_fraction"].values())
                assert row["sgemm_peak_gflops"] > 0 and suite.PEAK not in row["seconds"]
    phases = {(row["case"], row["phase"], row["threads"]) for row in rows if not row.get("skipped")}
    for case in ("linear-8", "conv-a", "maxpool", "add", "op-overhead"):
        for threads in ("1", "default"):
            assert {(case, p, threads) for p in ("forward", "backward", "fwd+bwd")} <= phases
    overhead = next(r for r in rows if r["case"] == "op-overhead" and r["phase"] == "forward")
    assert set(overhead["us_per_op"]) == set(overhead["seconds"])
    assert overhead["us_per_op"]["tinynet"] == pytest.approx(
        overhead["seconds"]["tinynet"]["median"] / cases.CHAIN_LENGTH * 1e6)
    if ("cnn-step", "step") in phases:
        cnn = next(r for r in rows if r["case"] == "cnn-step" and r["phase"] == "step")
        assert cnn["epoch_seconds"]["tinynet"] > 0
        assert len(cnn["seconds"]["tinynet"]["samples"]) == cases.PROFILES["tiny"].cnn_batches


def test_record_holds_the_environment_and_saves_atomically_as_json(tiny_record, tmp_path):
    env = tiny_record["environment"]
    assert env["machine"]["cpu_count"] >= 1 and env["machine"]["cpu_model"]
    vector = env["machine"]["vector"]  # the CPU's vector flags and widest unit, in words
    assert set(vector["flags"]) <= set(record.VECTOR_FLAGS) and vector["widest"]
    assert isinstance(env["blas"]["summary"], str) and env["blas"]["summary"]
    peak = env["sgemm_peak"]  # a single-thread SGEMM measured in the same run
    assert peak["gflops"] > 0 and peak["size"] == cases.PROFILES["tiny"].sgemm_size
    threads = env["threads"]
    assert set(threads["configs"]) == {"1", "default"}
    assert threads["configs"]["1"]["tinynet"] == 1 and threads["tinynet_default"] >= 1
    assert all(k.startswith(record.THREAD_VARIABLES) for k in threads["env"])
    assert env["versions"]["numpy"] == np.__version__
    assert env["versions"]["tinynet"] == tn.__version__
    assert "commit" in env["git"] and "blas" in env and "threads" in env
    path = record.save(tiny_record, tmp_path)
    assert path.name.endswith("_tiny.json") and "_" in path.stem
    assert not list(tmp_path.glob(".record-*"))  # the temporary file was renamed away
    loaded = json.loads(path.read_text())
    assert loaded["rows"] == json.loads(json.dumps(tiny_record["rows"]))
    assert [r["_file"] for r in record.load_all(tmp_path)] == [path.name]


def test_table_and_targets_render(tiny_record):
    text = table.render(tiny_record["rows"], tiny_record["targets"], tiny_record["environment"])
    for name in ("linear-8", "conv-e", "maxpool", "add", "op-overhead", "Targets", "CPU: ",
                 "BLAS: ", "Thread variables: ", "SGEMM peak", "1 thread each",
                 "default threads each", "of peak", "µs/op"):
        assert name in text, name
    assert text.index("1 thread each") < text.index("default threads each")
    assert len(tiny_record["targets"]) == 2 * len(targets.TARGETS)  # each thread setting


def test_history_plot_writes_a_png(tiny_record, tmp_path):
    record.save(tiny_record, tmp_path)
    later = dict(tiny_record, started="2999-01-01T00:00:00+00:00")
    record.save(later, tmp_path)
    out = plot.history("conv-a", tmp_path, tmp_path / "conv-a.png", profile=None)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot.history("conv-a", tmp_path, tmp_path / "d.png", profile=None, threads="default")
    with pytest.raises(ValueError, match="threads '7'"):
        plot.history("conv-a", tmp_path, tmp_path / "x.png", profile=None, threads="7")
    with pytest.raises(ValueError, match="no-such-case"):
        plot.history("no-such-case", tmp_path, tmp_path / "x.png", profile=None)


def test_command_line(tmp_path, capsys):
    assert cli.main(["--profile", "tiny", "--case", "add", "--results-dir", str(tmp_path)]) == 0
    assert "add" in capsys.readouterr().out and len(list(tmp_path.glob("*.json"))) == 1
    assert cli.main(["--profile", "tiny", "--case", "nothing-matches", "--no-save"]) == 2
    assert cli.main(["--history", "nothing-recorded", "--results-dir", str(tmp_path)]) == 1
    assert cli.main(["--history", "add", "--all-profiles", "--results-dir", str(tmp_path),
                     "--output", str(tmp_path / "add.png")]) == 0
    assert (tmp_path / "add.png").exists()
    with pytest.raises(SystemExit):
        cli.parse_args(["--threads", "0"])


def test_case_selection():
    profile = cases.PROFILES["tiny"]
    pick = [c.name for c in cases.all_cases(profile) if suite.selected(c, "conv")]
    assert pick == ["conv-a", "conv-b", "conv-c", "conv-d", "conv-e"]
    assert [c.name for c in cases.all_cases(profile) if suite.selected(c, "conv-b")] == ["conv-b"]
    # three letters before -step: the CPU steps, never cuda-cnn-step on a machine with a GPU
    assert [c.name for c in cases.all_cases(profile) if suite.selected(c, "???-step")] == \
        ["mlp-step", "cnn-step"]
    gpu_step = cases.Case("cuda-cnn-step", "", lambda: {}, device="cuda")
    assert not suite.selected(gpu_step, "???-step") and suite.selected(gpu_step, "cuda-*")


def test_thread_settings_parse():
    assert suite.parse_threads(None) == ["1", "default"]
    assert suite.parse_threads("1,default") == ["1", "default"]
    assert suite.parse_threads("4") == ["4"] and suite.parse_threads(2) == ["2"]
    for bad in ("0", "two", "1,-1"):
        with pytest.raises(ValueError, match="threads"):
            suite.parse_threads(bad)
    before = tn.get_num_threads()
    with suite.thread_setting("1") as counts:
        assert counts["tinynet"] == counts["blas"] == 1 and tn.get_num_threads() == 1
    assert tn.get_num_threads() == before


def test_alternate_interleaves_and_takes_medians():
    calls = []

    def fake(name, seconds):
        def sample(number):
            calls.append(name)
            return seconds * number
        return sample

    timing = harness.alternate({"a": fake("a", 1e-3), "b": fake("b", 2e-3)}, repeats=4, warmup=1,
                               min_time=0.0)
    assert calls == ["a", "b"] * 6  # calibration, warm-up, then 4 alternating rounds
    assert timing.median("a") == pytest.approx(1e-3) and timing.median("b") == pytest.approx(2e-3)
    calls.clear()
    timing = harness.alternate({"a": fake("a", 1e-3)}, repeats=100, warmup=0, min_time=0.01,
                               budget=0.05, min_repeats=2)
    assert timing.numbers["a"] == 10  # one sample lasts min_time
    assert len(timing.seconds["a"]) == 5  # 5 samples of 10 ms fit the 50 ms budget
    assert harness.median([3.0, 1.0, 2.0, 10.0]) == 2.5


def test_targets_reduce_and_compare_per_thread_setting():
    def row(case, phase, peer, ratio, threads="1", peak=None):
        return {"case": case, "phase": phase, "ratio": {peer: ratio}, "threads": threads,
                "peak_fraction": {"tinynet": peak} if peak else {}}

    rows = [row("conv-a", "fwd+bwd", "torch", 0.5), row("conv-c", "fwd+bwd", "torch", 0.9),
            row("conv-b", "fwd+bwd", "torch", 1.2), row("conv-d", "fwd+bwd", "torch", 1.25),
            row("conv-b", "forward", "torch", 1.0, peak=0.7),
            row("linear-8", "fwd+bwd", "numpy", 1.05), row("maxpool", "forward", "torch", 9.0),
            row("conv-b", "fwd+bwd", "torch", 1.4, "default"),
            row("conv-b", "forward", "torch", 1.0, "default", peak=0.6)]
    found = {(t["key"], t["threads"]): t for t in targets.evaluate(rows)}
    assert found["conv-large", "1"]["value"] == 1.25 and found["conv-large", "1"]["met"]
    assert found["conv-small", "1"]["value"] == 0.9 and found["conv-small", "1"]["met"] is False
    assert found["conv-peak", "1"]["value"] == 0.7 and found["conv-peak", "1"]["met"]
    assert found["linear", "1"]["met"] is True
    assert found["maxpool", "1"]["met"] is None  # only fwd+bwd counts, and it did not run
    # on the default threads the figures may be 10% worse than the limits
    assert found["conv-large", "default"]["limit"] == pytest.approx(1.43)
    assert found["conv-large", "default"]["met"]  # 1.4 <= 1.3 × 1.1
    assert found["conv-peak", "default"]["met"]  # 0.6 >= 0.65 / 1.1


def test_a_kernel_forced_by_openblas_coretype_is_named_in_the_table(monkeypatch):
    blas = {"threadpools": [{"internal_api": "openblas", "architecture": "Haswell"}]}
    avx512, avx2 = {"widest": "AVX-512"}, {"widest": "AVX2"}
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    assert record.forced_kernel(blas, avx512) is None
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    assert record.forced_kernel(blas, avx2)["avx512_unused"] is False
    forced = record.forced_kernel(blas, avx512)
    assert forced == {"OPENBLAS_CORETYPE": "Haswell", "kernels": ["Haswell"], "avx512_unused": True}
    text = "\n".join(table.machine_lines({"blas": {"forced_kernel": forced}}))
    assert "OPENBLAS_CORETYPE=Haswell chose the BLAS kernel" in text and "AVX-512 unused" in text
    skylake = {"threadpools": [{"internal_api": "openblas", "architecture": "SkylakeX"}]}
    assert record.forced_kernel(skylake, avx512)["avx512_unused"] is False


def test_history_labels_name_the_blas_kernel_and_whether_it_was_forced():
    pools = {"threadpools": [{"internal_api": "openblas", "architecture": "Haswell"}]}
    forced = {"environment": {"blas": {**pools, "forced_kernel": {"OPENBLAS_CORETYPE": "Haswell"}}}}
    assert plot._kernel(forced) == "\nBLAS Haswell (forced)"
    assert plot._kernel({"environment": {"blas": pools}}) == "\nBLAS Haswell"
    assert plot._kernel({"environment": {"blas": {"threadpools": "threadpoolctl not installed"}}}) == ""


def test_busy_meter_reports_a_fraction_or_none():
    busy = record.BusyMeter().others_busy()
    assert busy is None or 0.0 <= busy <= 1.0


# ---------------------------------------------------------------- the peers do the same work
def _tn(array):
    return tn.tensor(array, requires_grad=True)


def test_numpy_conv_linear_and_pool_peers_match_tinynet():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    out, cols = peer_numpy.conv2d_forward(x, w, padding=1)
    g = rng.standard_normal(out.shape)
    gx, gw = peer_numpy.conv2d_backward(g, x.shape, w, cols, padding=1)
    tx, tw = _tn(x), _tn(w)
    F.conv2d(tx, tw, padding=1).backward(tn.tensor(g))
    np.testing.assert_allclose(out, F.conv2d(tn.tensor(x), tn.tensor(w), padding=1).numpy())
    np.testing.assert_allclose(gx, tx.grad.numpy())
    np.testing.assert_allclose(gw, tw.grad.numpy())

    a, b = rng.standard_normal((5, 7)), rng.standard_normal((3, 7))
    g = rng.standard_normal((5, 3))
    ta, tb = _tn(a), _tn(b)
    F.linear(ta, tb).backward(tn.tensor(g))
    ga, gb = peer_numpy.linear_backward(g, a, b)
    np.testing.assert_allclose(peer_numpy.linear_forward(a, b), a @ b.T)
    np.testing.assert_allclose(ga, ta.grad.numpy())
    np.testing.assert_allclose(gb, tb.grad.numpy())

    x = rng.standard_normal((2, 3, 6, 8))
    pooled = peer_numpy.max_pool2x2_forward(x)
    g = rng.standard_normal(pooled.shape)
    tx = _tn(x)
    F.max_pool2d(tx, 2).backward(tn.tensor(g))
    np.testing.assert_allclose(pooled, F.max_pool2d(tn.tensor(x), 2).numpy())
    np.testing.assert_allclose(peer_numpy.max_pool2x2_backward(g, x, pooled), tx.grad.numpy())


def test_numpy_mlp_peer_gradients_match_tinynet():
    rng = np.random.default_rng(1)
    model = peer_numpy.MLP(cases.MLP_SIZES)
    assert sum(p.size for p in model.params) == 571
    x = rng.uniform(-1, 1, (16, 1))
    y = np.sin(3 * x)
    cache = model.forward(x, y)
    grads = model.backward(cache)
    params = [_tn(p.astype(np.float64)) for p in model.params]
    h = tn.tensor(x)
    for i in range(0, len(params), 2):
        h = F.linear(h, params[i], params[i + 1])
        if i < len(params) - 2:
            h = F.leaky_relu(h, 0.01)
    loss = F.mse_loss(h, tn.tensor(y))
    loss.backward()
    assert loss.item() == pytest.approx(cache[0], rel=1e-5)
    for g, p in zip(grads, params):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_numpy_cnn_peer_gradients_match_tinynet():
    (x, labels), = cases.mnist_batches(3, 1)
    model = peer_numpy.MnistCNN()
    cache = model.forward(x, labels)
    grads = model.backward(cache)
    w1, b1, w2, b2, w3, b3, w4, b4 = params = [_tn(p) for p in model.params]
    h = F.max_pool2d(F.relu(F.conv2d(tn.tensor(x), w1, b1, padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2, padding=1)), 2)
    logits = F.linear(F.relu(F.linear(h.flatten(1), w3, b3)), w4, b4)
    loss = F.cross_entropy(logits, tn.tensor(labels))
    loss.backward()
    assert loss.item() == pytest.approx(cache[0], rel=1e-4)
    for g, p in zip(grads, params):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-3, atol=1e-5)


def test_numpy_adam_matches_tinynet_adam():
    optim = pytest.importorskip("tinynet.optim")
    rng = np.random.default_rng(2)
    start, grad = rng.standard_normal(5), rng.standard_normal(5)
    mine = start.copy()
    adam = peer_numpy.Adam([mine], lr=0.1)
    p = _tn(start)
    reference = optim.Adam([p], lr=0.1)
    for _ in range(3):
        adam.step([grad])
        p.grad = tn.tensor(grad)
        reference.step()
    np.testing.assert_allclose(mine, p.detach().numpy(), rtol=1e-6)
