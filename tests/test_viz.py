"""tinynet.viz: DOT text of the computation graph, and rendering with Graphviz."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

import tinynet as tn
import tinynet.nn.functional as F
from tinynet import viz
from tinynet.autograd import graph_nodes

NODE = re.compile(r'^  (\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$')
EDGE = re.compile(r'^  (\w+) -> (\w+)(?: \[label="(\d+)"\])?;$')
SETTING = re.compile(r'^  (?:(?:graph|node|edge) \[.*\]|\w+=\w+);$')


def parse(dot: str):
    """Nodes {id: (label lines, attributes)} and edges [(source, target, label)] of our DOT text.

    Fails on any line that is neither, so the test also checks that the text is well-formed.
    """
    lines = dot.splitlines()
    assert lines[0] == "digraph tinynet {" and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[1:-1]:
        if SETTING.match(line):
            continue
        if node := NODE.match(line):
            assert node.group(1) not in nodes, f"node {node.group(1)} declared twice"
            nodes[node.group(1)] = (node.group(2).split("\\n"), node.group(3))
        elif edge := EDGE.match(line):
            edges.append(edge.groups())
        else:
            raise AssertionError(f"unexpected DOT line: {line!r}")
    for source, target, _ in edges:
        assert source in nodes and target in nodes, f"edge {source} -> {target} to an unknown node"
    return nodes, edges


def ops_of(nodes):
    return {key: value for key, value in nodes.items() if key.startswith("op")}


def test_matmul_tanh_sum_has_three_ops_two_leaves_and_the_right_labels():
    x = tn.randn(2, 3, dtype=tn.float64, requires_grad=True)
    w = tn.randn(3, 4, dtype=tn.float64, requires_grad=True)
    y = (x @ w).tanh().sum()
    nodes, edges = parse(viz.to_dot(y))
    ops = ops_of(nodes)
    assert len(ops) == 3 == len(list(graph_nodes(y)))
    by_name = {label[0]: (key, label) for key, (label, _) in ops.items()}
    assert set(by_name) == {"MatMul", "Tanh", "Sum"}
    assert by_name["MatMul"][1][1] == "(2, 4) float64"
    assert by_name["Tanh"][1][1] == "(2, 4) float64"
    assert by_name["Sum"][1][1] == "() float64"
    leaves = [label for key, (label, _) in nodes.items() if key.startswith("t")]
    assert sorted(leaves) == [["param", "(2, 3) float64"], ["param", "(3, 4) float64"]]
    matmul, tanh, total = by_name["MatMul"][0], by_name["Tanh"][0], by_name["Sum"][0]
    assert (matmul, tanh, None) in edges and (tanh, total, None) in edges
    into_matmul = sorted((label, source) for source, target, label in edges if target == matmul)
    assert [label for label, _ in into_matmul] == ["0", "1"]
    assert "peripheries=2" in nodes[total][1] and "peripheries=2" not in nodes[matmul][1]


def test_op_numbering_follows_the_forward_pass_and_inputs_are_told_from_params():
    x = tn.randn(4, 3)  # data: does not require grad
    w = tn.randn(2, 3, requires_grad=True)
    b = tn.zeros(2, requires_grad=True)
    diff = F.linear(x, w, b) - tn.zeros(4, 2)
    loss = (diff * diff).sum() / 8  # the mean squared error by hand
    nodes, edges = parse(viz.to_dot(loss, params={"weight": w, "bias": b}))
    assert nodes["op0"][0][:2] == ["Linear", "(4, 2) float32"]
    leaf_labels = sorted(label[0] for key, (label, _) in nodes.items() if key.startswith("t"))
    assert leaf_labels == ["bias (param)", "input", "input", "input", "weight (param)"]
    divisor = next(label for label, _ in nodes.values() if label[:2] == ["input", "() float32"])
    assert divisor[2] == "data 8"  # a constant whose value is shown
    assert len(edges) == sum(len(fn.inputs) for fn in graph_nodes(loss))


def test_a_tensor_used_twice_gets_two_numbered_edges_and_sub_keeps_its_order():
    a = tn.tensor([1.0, 2.0], requires_grad=True)
    b = tn.tensor([3.0, 4.0], requires_grad=True)
    nodes, edges = parse(viz.to_dot(a * a - b))
    mul = next(k for k, (label, _) in ops_of(nodes).items() if label[0] == "Mul")
    sub = next(k for k, (label, _) in ops_of(nodes).items() if label[0] == "Sub")
    leaf_a = next(s for s, t, _ in edges if t == mul)
    assert sorted(label for s, t, label in edges if s == leaf_a and t == mul) == ["0", "1"]
    assert (mul, sub, "0") in edges
    assert [label for s, t, label in edges if t == sub and s != mul] == ["1"]


def test_cnn_graph_names_conv_pool_and_their_settings():
    images = tn.randn(2, 1, 6, 6)
    kernel = tn.randn(3, 1, 3, 3, requires_grad=True)
    out = F.max_pool2d(F.relu(F.conv2d(images, kernel, stride=1, padding=1)), 2)
    nodes, _ = parse(viz.to_dot(out))
    labels = {label[0]: label for label, _ in ops_of(nodes).values()}
    assert labels["MaxPool2d"][1] == "(2, 3, 3, 3) float32"
    assert "kernel=(2, 2)" in labels["MaxPool2d"] and "stride=(2, 2)" in labels["MaxPool2d"]
    assert labels["ReLU"][1] == "(2, 3, 6, 6) float32"


def test_show_data_prints_small_values_and_grads_and_summarises_large_ones():
    x = tn.tensor([1.5, -2.0], requires_grad=True)
    big = tn.ones(10, 10, requires_grad=True)
    y = (x * 2).sum() + big.sum()
    y.backward(retain_graph=True)
    text = viz.to_dot(y, show_data=True)
    assert "data [ 1.5, -2. ]" in text and "grad [2., 2.]" in text
    assert "min 1, mean 1, max 1" in text
    assert "data [" not in viz.to_dot(y) and "grad" not in viz.to_dot(y)


def test_a_leaf_alone_is_one_node():
    nodes, edges = parse(viz.to_dot(tn.zeros(3, dtype=tn.int64)))
    assert list(nodes.values())[0][0] == ["input", "(3,) int64"] and edges == []


def test_labels_are_escaped():
    w = tn.ones(2, requires_grad=True)
    nodes, _ = parse(viz.to_dot(w.sum(), params={'say "hi"\\': w}))
    assert nodes["t0"][0][0] == 'say \\"hi\\"\\\\ (param)'


def test_a_freed_graph_is_explained():
    w = tn.ones(2, requires_grad=True)
    y = (w * w).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"freed by backward\(\).*retain_graph=True"):
        viz.to_dot(y)
    with pytest.raises(TypeError, match="expected a tinynet Tensor"):
        viz.to_dot([1, 2])


# ---------------------------------------------------------------------------- draw
def small_graph():
    w = tn.ones(2, 2, requires_grad=True)
    return (w @ w).relu().sum()


def test_draw_without_graphviz_raises_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="Graphviz's `dot` program was not found"):
        viz.draw(small_graph(), tmp_path / "g.svg")
    assert list(tmp_path.iterdir()) == []


def fake_dot(tmp_path: Path, exit_code: int) -> str:
    """A stand-in `dot` that echoes its -T flag and stdin, or fails with a message."""
    script = tmp_path / "dot"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"if {exit_code}:\n"
        "    sys.stderr.write('Error: syntax error in line 3')\n"
        f"    sys.exit({exit_code})\n"
        "sys.stdout.write('rendered ' + sys.argv[1] + '\\n' + sys.stdin.read())\n")
    script.chmod(0o755)
    return str(script)


def test_draw_pipes_the_dot_text_to_graphviz_and_writes_its_output(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: fake_dot(tmp_path, 0))
    y = small_graph()
    written = viz.draw(y, tmp_path / "out" / "graph.png")
    assert written == tmp_path / "out" / "graph.png"
    assert written.read_text() == "rendered -Tpng\n" + viz.to_dot(y)
    assert viz.draw(y, tmp_path / "graph", format="svg").read_text().startswith("rendered -Tsvg")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["graph.png"]  # no temp file


def test_draw_reports_graphviz_errors_and_writes_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: fake_dot(tmp_path, 1))
    with pytest.raises(RuntimeError, match="exit code 1: Error: syntax error in line 3"):
        viz.draw(small_graph(), tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()
    with pytest.raises(ValueError, match="format must be one of"):
        viz.draw(small_graph(), tmp_path / "g.jpg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` program is not installed")
@pytest.mark.parametrize("suffix, magic", [("svg", b"<svg"), ("png", b"\x89PNG")])
def test_draw_renders_with_real_graphviz(tmp_path, suffix, magic):
    path = viz.draw(small_graph(), tmp_path / f"graph.{suffix}", show_data=True)
    content = path.read_bytes()
    assert magic in content[:400]
    if suffix == "svg":
        assert b"MatMul" in content and b"ReLU" in content
