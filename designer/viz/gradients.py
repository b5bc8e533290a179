"""Gradient check of one node (a layer, a block, a custom block; inside blocks too): does its
backward pass compute the derivative of its forward pass? torch.autograd.gradcheck decides, in
float64, on a small random input of the node's input shape, with respect to the input and every
parameter. When it fails, the worst mismatch is found by comparing autograd's gradient of a fixed
random projection of the output with central finite differences, element by element.

Randomness (Dropout, RReLU) is reseeded before every forward pass, so each pass draws the same
masks and the function being checked is deterministic; in-place activations are turned off,
since gradcheck's inputs are leaves that must not be overwritten.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from designer.core.registry import get_spec
from designer.viz.attribution import not_in_place
from designer.viz.errors import VizError
from designer.viz.model import LoadedModel

BATCH = 2  # two samples: BatchNorm in training mode needs more than one value
FULL_LIMIT = 1500  # up to this many inputs + outputs, the full Jacobian; above, fast mode
SAMPLES = 48  # elements per tensor compared for the worst mismatch
EPS = 1e-6
SEED = 0


@dataclass
class Mismatch:
    tensor: str  # "input", "input 2", or a parameter's name ("weight")
    index: tuple[int, ...]  # the element, batch index first for inputs
    autograd: float
    numerical: float

    @property
    def error(self) -> float:
        return abs(self.autograd - self.numerical)

    def __str__(self) -> str:
        where = f"{self.tensor}[{', '.join(map(str, self.index))}]"
        return (
            f"worst mismatch at {where}: backward gives {self.autograd:.6g}, finite "
            f"differences {self.numerical:.6g}"
        )


@dataclass
class GradientCheck:
    node_name: str
    passed: bool
    checked: list[str] = field(default_factory=list)  # the tensors the derivatives are of
    mode: str = "full"  # "full" Jacobian or "fast" (projected)
    worst: Mismatch | None = None
    message: str = ""  # why it failed when not a mismatch

    @property
    def summary(self) -> str:
        what = ", ".join(self.checked) or "nothing"
        params = [c for c in self.checked if not c.startswith("input")]
        if len(params) > 3:
            inputs = len(self.checked) - len(params)
            what = (
                f"{'the input' if inputs == 1 else f'{inputs} inputs'} and {len(params)} "
                "parameter tensors"
            )
        how = "full Jacobian" if self.mode == "full" else "fast mode"
        if self.passed:
            return f"{self.node_name}: gradients correct (float64, {how}, w.r.t. {what})"
        detail = str(self.worst) if self.worst is not None else self.message
        return f"{self.node_name}: gradient check FAILED ({how}): {detail}"


def check_function(
    fn: Callable[..., torch.Tensor],
    inputs: list[torch.Tensor],
    params: dict[str, torch.Tensor],
    name: str,
) -> GradientCheck:
    """Check `fn(*inputs, params)` (float64 tensors) with respect to the inputs and params."""
    names = [("input" if len(inputs) == 1 else f"input {i + 1}") for i in range(len(inputs))]
    names += list(params)
    tensors = [t.detach().clone().requires_grad_(True) for t in [*inputs, *params.values()]]
    n_in = len(inputs)

    def call(*ts):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SEED)
            return fn(*ts[:n_in], dict(zip(params, ts[n_in:])))

    try:
        with torch.no_grad():
            outputs = call(*tensors).numel()
    except Exception as exc:  # noqa: BLE001 - a forward that fails is a result too
        result = GradientCheck(name, False, names, "full")
        result.message = f"the forward pass fails: {_first_line(exc)}"
        return result
    total = sum(t.numel() for t in tensors) + outputs
    mode = "full" if total <= FULL_LIMIT else "fast"
    result = GradientCheck(name, False, names, mode)
    try:
        result.passed = torch.autograd.gradcheck(
            call, tuple(tensors), eps=EPS, fast_mode=mode == "fast", raise_exception=False
        )
    except Exception as exc:  # noqa: BLE001 - a failing backward is a result, not a crash
        result.message = _first_line(exc)
        return result
    if not result.passed:
        result.worst = worst_mismatch(call, tensors, names)
        if result.worst is None:
            result.message = "gradcheck found a mismatch that the element-wise comparison missed"
    return result


def worst_mismatch(call, tensors: list[torch.Tensor], names: list[str]) -> Mismatch | None:
    """The element where d(v . output)/d(element) differs most between backward and central
    differences, over a sample of each tensor's elements (v: a fixed random projection)."""
    gen = torch.Generator().manual_seed(SEED)
    with torch.enable_grad():
        out = call(*tensors)
        v = torch.randn(out.shape, generator=gen, dtype=out.dtype)
        grads = torch.autograd.grad((out * v).sum(), tensors, allow_unused=True)
    worst = None
    with torch.no_grad():
        for k, (t, g, name) in enumerate(zip(tensors, grads, names)):
            flat = t.detach().reshape(-1)
            count = min(SAMPLES, flat.numel())
            picks = torch.randperm(flat.numel(), generator=gen)[:count]
            for i in picks.tolist():
                saved = float(flat[i])
                probe = [x.detach().clone() for x in tensors]
                probe[k].reshape(-1)[i] = saved + EPS
                up = float((call(*probe) * v).sum())
                probe[k].reshape(-1)[i] = saved - EPS
                down = float((call(*probe) * v).sum())
                numerical = (up - down) / (2 * EPS)
                analytic = 0.0 if g is None else float(g.reshape(-1)[i])
                m = Mismatch(name, tuple(int(j) for j in _unravel(i, t.shape)), analytic, numerical)
                if worst is None or m.error > worst.error:
                    worst = m
    return worst


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _unravel(i: int, shape) -> list[int]:
    out = []
    for size in reversed(shape):
        out.append(i % size)
        i //= size
    return list(reversed(out))


def check_module(
    module: nn.Module,
    in_shapes: list[tuple[int, ...]],
    name: str,
    expression: Callable[..., torch.Tensor] | None = None,
) -> GradientCheck:
    """Check a module on random inputs of these shapes (no batch dimension), in training mode,
    in float64; `expression(m, *inputs)` is how the design calls it (default: m(*inputs))."""
    module = copy.deepcopy(module).double().train()
    params = dict(module.named_parameters())
    gen = torch.Generator().manual_seed(SEED)
    inputs = [torch.randn(BATCH, *s, generator=gen, dtype=torch.float64) for s in in_shapes]
    expression = expression or (lambda m, *xs: m(*xs))

    def fn(*args):
        *xs, ps = args
        with not_in_place(module):

            def call(*a):
                return torch.func.functional_call(module, ps, a)

            return expression(call, *xs)

    return check_function(fn, inputs, params, name)


def check_node(model: LoadedModel, node_id: str) -> GradientCheck:
    """Check the node with this key (designer.viz.nodes) as the compiled design runs it."""
    place = model.place(node_id)
    node = place.node
    spec = get_spec(node.type)
    if spec.is_input:
        raise VizError(f"node '{place.label}' is an input; it has no gradient to check")
    p = spec.resolve(node.params)
    in_shapes = [tuple(s) for s in place.in_shapes]
    args = [f"a{i}" for i in range(len(in_shapes))]
    if spec.is_custom_block:
        expr = f"m({', '.join(args)})"
    else:
        expr = spec.emit_forward(p, "m", args, in_shapes)
    code = compile(expr, f"<forward of {place.label}>", "eval")
    module = model.submodule(node_id) or nn.Module()

    def expression(m, *xs):
        return eval(code, {"torch": torch, "m": m}, dict(zip(args, xs)))

    return check_module(module, in_shapes, place.label, expression)
