"""Draw the computation graph behind a tensor, for seeing what backward walks.

``to_dot`` writes the graph as Graphviz DOT text: one box per leaf tensor (its shape, dtype, and
``param`` when it requires grad, ``input`` when not, with the value of a one-element input such
as the divisor of a mean) and one ellipse per op (its type, the
shape and dtype of its output, and its settings such as ``dim`` or ``stride``). Edges run in
the direction of the forward pass, input → op → op; an op with several inputs numbers its
edges, so ``a - b`` shows which is which. The op that made the tensor is drawn doubled.

>>> import tinynet as tn
>>> from tinynet import viz
>>> w = tn.randn(3, 2, requires_grad=True)
>>> loss = (tn.randn(4, 2) @ w.T).tanh().sum()
>>> print(viz.to_dot(loss))           # paste into any Graphviz viewer
>>> viz.draw(loss, "graph.svg")       # needs the `dot` program of Graphviz

Ops do not keep their output tensor (that would be a reference cycle), so an op's output shape
is read from the tensor its consumer holds, or from the tensor passed in for the last op.
The graph must still be alive: draw before ``backward()``, or call it with
``retain_graph=True``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy

from tinynet import backend
from tinynet.autograd import Op, graph_nodes
from tinynet.tensor import Tensor

__all__ = ["draw", "to_dot"]

_FORMATS = ("svg", "png", "pdf")
# graph wiring (drawn as edges) and the engine's in-place bookkeeping
_HIDDEN_ATTRIBUTES = {"inputs", "needs_input_grad", "clock", "output_counter", "order"}


def _quote(text: str) -> str:
    """A DOT string literal; newlines become DOT's centred line breaks."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape_and_dtype(t: Tensor) -> str:
    return f"{tuple(t.shape)} {t.dtype}"


def _values(t: Tensor) -> str:
    """The data of a small tensor, or a summary of a large one, for ``show_data``."""
    array = backend.to_numpy(t.array)
    if array.ndim == 0:
        return f"data {array.item():.4g}" if array.dtype.kind in "fiu" else f"data {array.item()}"
    if array.size <= 6:
        return "data " + numpy.array2string(array, precision=4, separator=", ")
    if array.dtype.kind not in "fiub":
        return ""
    return f"min {array.min():.4g}, mean {array.mean():.4g}, max {array.max():.4g}"


def _settings(fn: Op) -> list[str]:
    """The op's scalar settings (``dim=1``, ``stride=(2, 2)``…); arrays it saved are left out."""
    lines = []
    settings = dict(vars(fn))
    for value in list(settings.values()):
        if isinstance(value, tuple) and hasattr(value, "_asdict"):  # a settings record (pool window)
            settings.update(value._asdict())
    for name, value in sorted(settings.items()):
        if name in _HIDDEN_ATTRIBUTES or name.startswith("_"):
            continue
        if isinstance(value, (bool, int, float, str, type(None))) or (
                isinstance(value, tuple) and all(isinstance(v, (int, float, bool)) for v in value)):
            text = f"{name}={value}"
            if len(text) <= 30:
                lines.append(text)
    return lines


def to_dot(tensor: Tensor, show_data: bool = False,
           params: Mapping[str, Tensor] | None = None) -> str:
    """The computation graph that produced ``tensor``, as Graphviz DOT text.

    ``show_data`` adds each leaf's values (a summary for more than 6 elements) and, once
    backward has filled it, its ``.grad``. ``params`` names leaves, as in
    ``to_dot(loss, params=dict(model.named_parameters()))``.

    >>> x = tn.tensor([1.0, 2.0], requires_grad=True)
    >>> print(to_dot((x * x).sum()))
    digraph tinynet { ... }
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expected a tinynet Tensor, got {type(tensor).__name__}")
    names = {id(t): name for name, t in (params or {}).items()}
    try:
        ops = list(reversed(list(graph_nodes(tensor))))  # in the order they ran
    except RuntimeError:
        raise RuntimeError("to_dot: the graph behind this tensor was freed by backward(); draw it "
                           "before backward, or call backward(retain_graph=True)") from None

    # Every op's output is an input of the op that consumes it, except the last op's (tensor).
    outputs: dict[int, Tensor] = {}
    leaves: dict[int, Tensor] = {}
    for fn in ops:
        for t in fn.inputs:
            if t.grad_fn is None:
                leaves.setdefault(id(t), t)
            else:
                outputs.setdefault(id(t.grad_fn), t)
    if tensor.grad_fn is None:
        leaves[id(tensor)] = tensor
    else:
        outputs[id(tensor.grad_fn)] = tensor

    node_id = {key: f"t{i}" for i, key in enumerate(leaves)}
    node_id.update({id(fn): f"op{i}" for i, fn in enumerate(ops)})
    lines = ["digraph tinynet {", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=10];', '  edge [fontsize=8];']
    for key, leaf in leaves.items():
        kind = "param" if leaf.requires_grad else "input"
        label = [f"{names[key]} ({kind})" if key in names else kind, _shape_and_dtype(leaf)]
        if show_data or (leaf.numel() == 1 and not leaf.requires_grad):  # constants: mean's 1/n
            label.append(_values(leaf))
        if show_data:
            if leaf.grad is not None:
                label.append("grad " + _values(leaf.grad).removeprefix("data "))
        color = "lightblue" if leaf.requires_grad else "lightgrey"
        lines.append(f"  {node_id[key]} [label={_quote(chr(10).join(label))}, shape=box, "
                     f"style=filled, fillcolor={color}];")
    for fn in ops:
        out = outputs[id(fn)]
        label = [type(fn).__name__, _shape_and_dtype(out)] + _settings(fn)
        if show_data:
            label.append(_values(out))
        root = ", peripheries=2" if fn is tensor.grad_fn else ""
        lines.append(f"  {node_id[id(fn)]} [label={_quote(chr(10).join(label))}, "
                     f"shape=ellipse{root}];")
    for fn in ops:
        numbered = len(fn.inputs) > 1
        for position, t in enumerate(fn.inputs):
            source = node_id[id(t.grad_fn) if t.grad_fn is not None else id(t)]
            edge_label = f" [label={_quote(str(position))}]" if numbered else ""
            lines.append(f"  {source} -> {node_id[id(fn)]}{edge_label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw(tensor: Tensor, path: str | os.PathLike, format: str | None = None,
         show_data: bool = False, params: Mapping[str, Tensor] | None = None) -> Path:
    """Render the graph of ``tensor`` to an image file with Graphviz's ``dot`` program.

    ``format`` is ``'svg'``, ``'png'`` or ``'pdf'``; by default the file's suffix, else svg.
    The file is written whole or not at all. Returns the path.

    >>> viz.draw(loss, "loss_graph.png")
    """
    path = Path(path)
    format = format or path.suffix.lstrip(".").lower() or "svg"
    if format not in _FORMATS:
        raise ValueError(f"draw: format must be one of {_FORMATS}, got {format!r}")
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("draw: Graphviz's `dot` program was not found on PATH. Install Graphviz "
                           "(apt install graphviz, brew install graphviz or conda install "
                           "graphviz), or paste the text of viz.to_dot() into any DOT viewer")
    text = to_dot(tensor, show_data=show_data, params=params)
    result = subprocess.run([dot, f"-T{format}"], input=text.encode(), capture_output=True,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"draw: `dot -T{format}` failed with exit code {result.returncode}: "
                           f"{result.stderr.decode(errors='replace').strip()}")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(result.stdout)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
