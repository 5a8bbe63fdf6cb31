"""The computation graph of a network's loss, drawn as the micrograd tutorial does.

One record node per value (its label, and at a point its value and the
gradient of the loss with respect to it), and one small node per operation
between a value and its inputs. The graph is read off the SymPy expressions of
the network: the named quantities (x, w, b, z, a, y) are shared nodes, every
other sub-expression is an anonymous value. Values come from evaluating each
operation; gradients from walking the graph backwards, multiplying each
operation's local derivatives (by SymPy) as micrograd's `backward` does, so
they are computed independently of nnsym's layer-by-layer backpropagation.

Networks whose graph would be a hairball are drawn one node per layer instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy
from sympy import Expr, Symbol

from nnsym.errors import NnsymError, UsageError
from nnsym.explain.limits import GRAPH_INSTALL_HINT, GRAPH_SUFFIXES, MAX_NODES
from nnsym.explain.point import Point
from nnsym.pipeline.functions import numeric_functions
from nnsym.pipeline.header import make_header
from nnsym.pipeline.model import LOSS_SYMBOL, Network
from nnsym.pipeline.spec import Spec, format_arch
from nnsym.primitives import PRIMITIVES

# Beyond this many value nodes a drawing is unreadable: draw per layer instead.
MAX_LABEL = 28
SUFFIXES = GRAPH_SUFFIXES
INSTALL_HINT = GRAPH_INSTALL_HINT


def _op_names() -> dict[str, str]:
    # A table function is shown by its symbol in the formulas (σ for sigmoid).
    names = {"Add": "+", "Mul": "*"}
    names.update({name: entry.unicode for name, entry in PRIMITIVES.items()})
    return names


@dataclass
class Node:
    """One value: its label, the operation that made it and that operation's inputs."""

    key: str
    label: str
    expr: Expr
    op: str = ""
    inputs: list[int] = field(default_factory=list)
    # The operation as a SymPy expression of placeholders, one per input.
    template: Expr | None = None
    value: float | None = None
    grad: float | None = None


@dataclass
class Graph:
    """Value nodes in an order where inputs come before the values made from them."""

    title: str
    nodes: list[Node]
    root: int

    def _repr_svg_(self) -> str | None:
        # In a notebook: the drawing, when graphviz and its dot program are there.
        try:
            return render(self, ".svg")  # type: ignore[return-value]
        except NnsymError:
            return None

    @property
    def edges(self) -> list[tuple[int, int]]:
        """(input, output) pairs of value nodes."""
        return [(i, n) for n, node in enumerate(self.nodes) for i in node.inputs]


def _op_label(expr: Expr) -> str:
    name = type(expr).__name__
    if isinstance(expr, sympy.Pow) and expr.exp.is_Number:
        return f"**{expr.exp}"
    return _op_names().get(name, name)


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def build_graph(network: Network, max_nodes: int = MAX_NODES) -> Graph:
    """The loss's computation graph; raise UsageError past `max_nodes` values."""
    definitions: dict[Expr, Expr] = {}
    for layer in network.layers:
        definitions.update(zip(layer.z, layer.z_exprs))
        definitions.update(zip(layer.a, layer.a_exprs))
    nodes: list[Node] = []
    index: dict[Expr, int] = {}

    def visit(expr: Expr, label: str | None = None) -> int:
        if expr in index:
            return index[expr]
        body = definitions.get(expr, expr)
        if body != expr and body.is_Symbol:
            # The identity activation: a = z, one input passed through.
            inputs = [visit(body)]
            node = Node(
                f"n{len(nodes)}",
                label or sympy.sstr(expr),
                expr,
                "identity",
                inputs,
                Symbol("_in0"),
            )
        elif body.is_Atom:
            node = Node(f"n{len(nodes)}", label or sympy.sstr(expr), expr)
        else:
            if isinstance(body, sympy.Pow) and body.exp.is_Number:
                operands = [body.base]
            else:
                operands = list(body.args)
            inputs = [visit(arg) for arg in operands]
            placeholders = [Symbol(f"_in{i}") for i in range(len(operands))]
            template = body.xreplace(dict(zip(operands, placeholders)))
            node = Node(
                f"n{len(nodes)}",
                label or _short(sympy.sstr(expr)),
                expr,
                _op_label(body),
                inputs,
                template,
            )
        if len(nodes) >= max_nodes:
            raise UsageError(
                f"the graph has more than {max_nodes} values, too many to read; "
                "it is drawn per layer instead (--per-layer)"
            )
        index[expr] = len(nodes)
        nodes.append(node)
        return index[expr]

    root = visit(network.loss, LOSS_SYMBOL.name)
    spec = network.spec
    title = f"{format_arch(spec.arch)}, {', '.join(spec.activations)}, loss {spec.loss}"
    return Graph(title, nodes, root)


def evaluate(graph: Graph, network: Network, point: Point) -> None:
    """Fill in every node's value, then backpropagate the loss's gradient.

    Raise UsageError if a value or gradient is too big for a float (or undefined).
    """
    try:
        _evaluate(graph, network, point)
    except (OverflowError, ValueError, ZeroDivisionError):
        raise UsageError(
            "--at: a value or gradient of the graph overflows a float, or is "
            "undefined, at this point; choose smaller inputs, targets or parameters"
        ) from None


def _evaluate(graph: Graph, network: Network, point: Point) -> None:
    known: dict[Expr, float] = {}
    known.update(zip(network.params, point.params))
    known.update(zip(network.inputs, point.x))
    known.update(zip(network.targets, point.y))
    compiled: dict[Expr, tuple[Callable[..., float], list[Callable[..., float]]]] = {}
    numeric = numeric_functions()
    for node in graph.nodes:
        if node.template is None:
            if node.expr in known:
                node.value = known[node.expr]
            else:
                node.value = float(node.expr)
            continue
        if node.template not in compiled:
            placeholders = [Symbol(f"_in{i}") for i in range(len(node.inputs))]
            compiled[node.template] = (
                sympy.lambdify(placeholders, node.template, [numeric, "math"]),
                [
                    sympy.lambdify(
                        placeholders,
                        node.template.diff(p),
                        [numeric, "math"],
                    )
                    for p in placeholders
                ],
            )
        function, _ = compiled[node.template]
        node.value = float(function(*(graph.nodes[i].value for i in node.inputs)))
    for node in graph.nodes:
        node.grad = 0.0
    graph.nodes[graph.root].grad = 1.0
    # Inputs come before outputs in graph.nodes, so backwards is reversed order.
    for node in reversed(graph.nodes):
        if node.template is None:
            continue
        args = [graph.nodes[i].value for i in node.inputs]
        for i, partial in zip(node.inputs, compiled[node.template][1]):
            graph.nodes[i].grad += node.grad * float(partial(*args))


def layer_graph(network: Network | Spec) -> Graph:
    """One node per layer's W, b, z and a: the shape of a network too big to draw.

    It needs only the layer sizes, so a Spec will do: the loop form's graph,
    drawn without building a symbol per parameter.
    """
    spec = network if isinstance(network, Spec) else network.spec
    nodes: list[Node] = []

    def add(label: str, op: str = "", inputs: tuple[int, ...] = ()) -> int:
        nodes.append(Node(f"n{len(nodes)}", label, sympy.S.Zero, op, list(inputs)))
        return len(nodes) - 1

    previous = add(f"x ({spec.arch[0]})")
    layers = zip(spec.arch, spec.arch[1:], spec.activations)
    for index, (n_in, n_out, activation) in enumerate(layers, start=1):
        weights = add(f"W{index} ({n_out}x{n_in})")
        biases = add(f"b{index} ({n_out})")
        z = add(f"z{index} ({n_out})", "W·a + b", (weights, previous, biases))
        previous = add(f"a{index} ({n_out})", activation, (z,))
    targets = add(f"y ({spec.arch[-1]})")
    root = add("L", spec.loss, (previous, targets))
    title = (
        f"{format_arch(spec.arch)}, {', '.join(spec.activations)}, "
        f"loss {spec.loss} (per layer)"
    )
    return Graph(title, nodes, root)


def graph_for(
    network: Network, point: Point | None = None, per_layer: bool = False
) -> tuple[Graph, tuple[str, ...]]:
    """The graph to draw, and notes on what it leaves out.

    The full graph, with values and gradients at `point` if given; per layer
    when asked, or when the full graph has too many values to read.
    """
    notes: list[str] = []
    if not per_layer:
        try:
            graph = build_graph(network)
        except UsageError as refusal:
            notes.append(str(refusal))
        else:
            if point is not None:
                evaluate(graph, network, point)
            return graph, tuple(notes)
    if point is not None:
        notes.append(
            "--at: values and gradients are drawn only on the full graph, "
            "not per layer"
        )
    return layer_graph(network), tuple(notes)


def _record(text: str) -> str:
    # Characters with a meaning in Graphviz record labels.
    for char in ("\\", "{", "}", "|", "<", ">", '"'):
        text = text.replace(char, "\\" + char)
    return text


def import_graphviz() -> object:
    """Import the graphviz package, or raise NnsymError saying how to install it."""
    try:
        import graphviz
    except ImportError:
        raise NnsymError(
            f"nnsym graph needs the graphviz Python package: {INSTALL_HINT}"
        ) from None
    return graphviz


def to_digraph(graph: Graph) -> object:
    """A graphviz.Digraph, laid out left to right like the tutorial's draw_dot."""
    graphviz = import_graphviz()
    dot = graphviz.Digraph(  # type: ignore[attr-defined]
        "nnsym", graph_attr={"rankdir": "LR", "label": graph.title}
    )
    for node in graph.nodes:
        fields = [_record(node.label)]
        if node.value is not None:
            fields.append("data %s" % significant(node.value))
        if node.grad is not None:
            fields.append("grad %s" % significant(node.grad))
        dot.node(node.key, "{ %s }" % " | ".join(fields), shape="record")
        if node.op:
            dot.node(node.key + "_op", node.op)
            dot.edge(node.key + "_op", node.key)
    for source, target in graph.edges:
        dot.edge(graph.nodes[source].key, graph.nodes[target].key + "_op")
    return dot


# DOT IDs that need no quotes, and DOT's keywords, as the graphviz package has them.
_DOT_ID = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*|-?(\.[0-9]+|[0-9]+(\.[0-9]*)?))$")
_DOT_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}
_DOT_QUOTE = re.compile(r'(?P<backslashes>(?:\\\\)*)\\?"')


def _dot_quote(text: str) -> str:
    if _DOT_ID.match(text) and text.lower() not in _DOT_KEYWORDS:
        return text
    return '"%s"' % _DOT_QUOTE.sub(r'\g<backslashes>\\"', text)


def _dot_attributes(label: str, **attributes: str) -> str:
    items = [("label", label), *sorted(attributes.items())]
    return " ".join(f"{key}={_dot_quote(value)}" for key, value in items)


def dot_source(graph: Graph) -> str:
    """The drawing as DOT text, the same as graphviz.Digraph writes, without it."""
    lines = [
        "digraph nnsym {",
        f"\tgraph [{_dot_attributes(graph.title, rankdir='LR')}]",
    ]
    for node in graph.nodes:
        fields = [_record(node.label)]
        if node.value is not None:
            fields.append("data %s" % significant(node.value))
        if node.grad is not None:
            fields.append("grad %s" % significant(node.grad))
        label = "{ %s }" % " | ".join(fields)
        lines.append(
            f"\t{_dot_quote(node.key)} [{_dot_attributes(label, shape='record')}]"
        )
        if node.op:
            op_key = _dot_quote(node.key + "_op")
            lines.append(f"\t{op_key} [{_dot_attributes(node.op)}]")
            lines.append(f"\t{op_key} -> {_dot_quote(node.key)}")
    for source, target in graph.edges:
        tail = _dot_quote(graph.nodes[source].key)
        head = _dot_quote(graph.nodes[target].key + "_op")
        lines.append(f"\t{tail} -> {head}")
    return "\n".join(lines) + "\n}\n"


def significant(value: float) -> str:
    """A label's number to 4 significant digits: 1.2e-07, not -0.0000."""
    return "%.4g" % (value + 0.0)  # + 0.0: -0.0 reads as 0


def dot_file(graph: Graph, origin: str) -> str:
    """DOT text with nnsym's header (`//` comments), as `nnsym graph -o` writes it."""
    body = dot_source(graph)
    return (
        make_header(origin, body, "draw it again with the command above", "//") + body
    )


def render(graph: Graph, suffix: str) -> str | bytes:
    """The drawing as DOT text, SVG text or PNG bytes (these need graphviz)."""
    if suffix in (".dot", ".gv"):
        return dot_source(graph)
    dot = to_digraph(graph)
    graphviz = import_graphviz()
    try:
        data = dot.pipe(format=suffix[1:])  # type: ignore[attr-defined]
    except graphviz.ExecutableNotFound:  # type: ignore[attr-defined]
        raise NnsymError(
            f"writing {suffix} needs Graphviz's 'dot' program, which is not "
            "installed (e.g. apt-get install graphviz); a .dot file needs nothing"
        ) from None
    return data.decode("utf-8") if suffix == ".svg" else data
