"""Study-specific logic of P7-P11 (activation, cnn_search, stacked_conv, autoencoder,
frozen_encoder) beyond the automatic smoke runs: parameter formulas, the search order, freezing,
and how each study finds (or falls back from) the results of the study it builds on."""

from __future__ import annotations

import dataclasses

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
import tinynet.nn.functional as F
from experiments import runs
from experiments.harness import History
from experiments.harness.files import write_json
from experiments.harness.study import Context
from experiments.models import cnn
from experiments.studies import activation, cnn_search, frozen_encoder, stacked_conv
from tinynet.nn.utils import count_parameters


def _context(study, out, profile="smoke", **overrides):
    return Context(study, profile, study.make_settings(profile, overrides), out, progress=False)


@given(filters=st.integers(1, 8), kernel=st.sampled_from([1, 3, 5]), dense=st.integers(1, 40))
def test_cnn_shape_params_matches_the_engine_count(filters, kernel, dense):
    model = cnn([filters], dense, kernel=kernel)
    assert cnn_search.cnn_shape_params(filters, kernel, dense) == count_parameters(model)


def test_candidates_cover_the_grid_smallest_first():
    grid = cnn_search.candidates([1, 2, 4], [3, 5], [4, 8])
    assert len(grid) == 12
    sizes = [c["params"] for c in grid]
    assert sizes == sorted(sizes)
    assert {(c["filters"], c["kernel"], c["dense"]) for c in grid} == {
        (f, k, d) for f in (1, 2, 4) for k in (3, 5) for d in (4, 8)}


def test_epoch_seconds_undoes_the_running_total():
    history = History([{"epoch": 1, "seconds": 2.0}, {"epoch": 2, "seconds": 5.0},
                       {"epoch": 3, "seconds": 5.5}])
    assert activation.epoch_seconds(history) == pytest.approx([2.0, 3.0, 0.5])


def test_unknown_optimizer_is_rejected():
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        runs.make_optimizer("rmsprop", [], 0.1)


def test_autoencoder_reconstructs_the_input_shape_through_a_code_of_size_d():
    model = runs.AutoEncoder(784, [16], latent=3)
    x = tn.rand(5, 784)
    assert tuple(model.encoder(x).shape) == (5, 3)
    out = model(x)
    assert tuple(out.shape) == (5, 784)
    assert float(out.min().item()) >= 0.0 and float(out.max().item()) <= 1.0  # sigmoid output


def test_frozen_classifier_trains_only_its_head():
    tn.manual_seed(0)
    trained = runs.AutoEncoder(784, [16], latent=4)
    architecture = {"pixels": 784, "hidden": [16]}
    model = frozen_encoder.classifier(architecture, 4, trained.encoder.state_dict(), freeze=True)
    for mine, theirs in zip(model[0].parameters(), trained.encoder.parameters()):
        numpy.testing.assert_array_equal(mine.detach().numpy(), theirs.detach().numpy())
    assert frozen_encoder.trainable_parameters(model) == 4 * 10 + 10
    loss = F.cross_entropy(model(tn.rand(8, 784)), tn.tensor(numpy.arange(8) % 10))
    loss.backward()
    assert all(p.grad is None for p in model[0].parameters())
    assert all(p.grad is not None for p in model[1].parameters())
    tuned = frozen_encoder.classifier(architecture, 4, trained.encoder.state_dict(), freeze=False)
    assert frozen_encoder.trainable_parameters(tuned) == count_parameters(tuned)


def test_frozen_encoder_loads_the_encoders_p10_saved(tmp_path):
    tn.manual_seed(1)
    trained = runs.AutoEncoder(784, [16], latent=2)
    p10_out = tmp_path / "autoencoder"
    (p10_out / "encoders").mkdir(parents=True)
    tn.save(trained.encoder.state_dict(), p10_out / runs.encoder_file(2))
    write_json(p10_out / "results.json", {
        "status": "finished", "profile": "smoke", "settings": {"dataset": "mnist", "epochs": 1,
                                                               "train_samples": 512, "hidden": [16]},
        "records": {"encoders": {"2": runs.encoder_file(2)},
                    "architecture": {"pixels": 784, "hidden": [16]}}})
    ctx = _context(frozen_encoder.STUDY, tmp_path / "frozen_encoder")
    encoders, architecture = frozen_encoder.find_encoders(ctx)
    assert list(encoders) == [2] and architecture == {"pixels": 784, "hidden": [16]}
    model = frozen_encoder.classifier(architecture, 2, encoders[2], freeze=True)
    x = tn.rand(3, 784)
    with tn.no_grad():
        numpy.testing.assert_allclose(model[0](x).numpy(), trained.encoder(x).numpy(), rtol=1e-6)
    assert any("P10's" in note for note in ctx.notes)


def test_cnn_search_takes_p4s_best_dense_model_and_warns_about_other_settings(tmp_path):
    best = {"name": "decreasing-L2", "widths": [784, 40, 20, 10], "params": 32430, "weight_decay": 1e-4,
            "dropout": 0.0, "seeds": 2}
    p4_settings = {**dataclasses.asdict(cnn_search.STUDY.make_settings("smoke")), "epochs": 7}
    write_json(tmp_path / "shapes_regularization" / "results.json", {
        "status": "finished", "profile": "smoke", "settings": p4_settings,
        "records": {"best_dense_test_loss": 0.25, "best_dense_model": best}})
    ctx = _context(cnn_search.STUDY, tmp_path / "cnn_search")
    model, target, alike = cnn_search.dense_reference(ctx)
    assert target == 0.25 and model == best and not alike
    assert any("epochs: P4 7" in note for note in ctx.notes)


def test_upstream_results_must_be_finished_and_needed(tmp_path):
    ctx = _context(stacked_conv.STUDY, tmp_path / "stacked_conv")
    with pytest.raises(RuntimeError, match="needs the finished results of cnn_search"):
        stacked_conv.find_winner(ctx)
    with pytest.raises(KeyError, match="not among the studies it needs"):
        ctx.upstream("autoencoder")


def test_stacked_conv_takes_p8s_winner_and_its_table(tmp_path):
    winner = {"name": "cnn-f2-k3-d8", "filters": 2, "kernel": 3, "dense": 8, "params": 3000,
              "test_loss": 0.3, "reached": True}
    rows = [{"filters": 2, "kernel": 3, "test acc": 0.9}, {"filters": 4, "status": "not trained"}]
    write_json(tmp_path / "cnn_search" / "results.json", {
        "status": "finished", "profile": "smoke",
        "settings": dataclasses.asdict(stacked_conv.STUDY.make_settings("smoke")),
        "records": {"winner": winner}, "tables": {"search": {"rows": rows}}})
    ctx = _context(stacked_conv.STUDY, tmp_path / "stacked_conv")
    found, tried = stacked_conv.find_winner(ctx)
    assert found == {"filters": 2, "kernel": 3, "dense": 8} and tried == rows[:1]
