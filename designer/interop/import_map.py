"""What each traced PyTorch operation becomes in a design: standard modules by class (their
params read from the module's attributes), functions and tensor methods by target.

A mapper returns a `Layer` (a layer type, its params and the traced values that feed it, in
port order), an `Alias` (the operation passes its input through, as nn.Identity and dropout's
functional form in eval do), or raises `Unmapped` with the reason; the importer collects those
into its report. Mappers are exact or refuse: a module with an option our layer type does not
have (a padding mode, dilated pooling, ...) is refused, never approximated.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class Unmapped(Exception):
    """This operation has no exact counterpart among the layer types; the message says why."""


@dataclass
class Layer:
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    inputs: list = field(default_factory=list)  # fx nodes, in port order
    # where the layer's tensors come from when they are not a module's (torch.export programs
    # pass them as values): state_dict leaf name -> the fx node (a get_attr) or a tensor
    weights: dict[str, Any] = field(default_factory=dict)


@dataclass
class Alias:
    """The operation's output is its input (nn.Identity, dropout in eval)."""

    input: Any


@dataclass
class Split:
    """The operation splits its input's channels into parts (x.chunk(2, dim=1)); indexing the
    result picks one, which becomes a ChannelSlice."""

    input: Any
    bounds: list[tuple[int, int]]


def _size(v) -> int | list[int]:
    """An int or an (h, w) tuple as our Size params hold it: one int for a square."""
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return int(v[0])
        if len(v) != 2:
            raise Unmapped(f"size {tuple(v)} is not 2-D")
        return int(v[0]) if v[0] == v[1] else [int(v[0]), int(v[1])]
    return int(v)


def _square(v, what: str) -> int:
    s = _size(v)
    if isinstance(s, list):
        raise Unmapped(f"{what} {tuple(s)} differs between height and width")
    return s


# -- modules ---------------------------------------------------------------------------------


def _conv(m) -> Layer:
    if m.padding_mode != "zeros":
        raise Unmapped(f"padding_mode={m.padding_mode!r} (only zero padding is supported)")
    pad = m.padding if isinstance(m.padding, str) else _size(m.padding)
    return Layer(
        "Conv2d",
        {
            "out_channels": m.out_channels,
            "kernel_size": _size(m.kernel_size),
            "stride": _size(m.stride),
            "padding": pad,
            "dilation": _size(m.dilation),
            "groups": m.groups,
            "bias": m.bias is not None,
        },
    )


def _conv_transpose(m) -> Layer:
    if m.padding_mode != "zeros":
        raise Unmapped(f"padding_mode={m.padding_mode!r} (only zero padding is supported)")
    return Layer(
        "ConvTranspose2d",
        {
            "out_channels": m.out_channels,
            "kernel_size": _size(m.kernel_size),
            "stride": _size(m.stride),
            "padding": _size(m.padding),
            "output_padding": _size(m.output_padding),
            "dilation": _size(m.dilation),
            "groups": m.groups,
            "bias": m.bias is not None,
        },
    )


def _batchnorm(m) -> Layer:
    if not m.track_running_stats:
        raise Unmapped("track_running_stats=False (batch statistics at test time)")
    if m.momentum is None:
        raise Unmapped("momentum=None (a cumulative average)")
    return Layer(
        "BatchNorm", {"eps": float(m.eps), "momentum": float(m.momentum), "affine": bool(m.affine)}
    )


def _linear(m, shape) -> Layer:
    params = {"out_features": m.out_features, "bias": m.bias is not None}
    if len(shape) > 2:  # at every position of a channels-last image (ConvNeXt)
        params["last_dim"] = True
    return Layer("Linear", params)


def _pool(type_name: str, m) -> Layer:
    if type_name == "MaxPool2d" and (_size(m.dilation) != 1 or m.return_indices):
        raise Unmapped("dilation or return_indices (not supported by MaxPool2d)")
    if type_name == "AvgPool2d" and m.divisor_override is not None:
        raise Unmapped("divisor_override (not supported by AvgPool2d)")
    k = _size(m.kernel_size)
    stride = None if m.stride is None or _size(m.stride) == k else _square(m.stride, "stride")
    params = {
        "kernel_size": k,
        "stride": stride,
        "padding": _size(m.padding),
        "ceil_mode": bool(m.ceil_mode),
    }
    if type_name == "AvgPool2d":
        params["count_include_pad"] = bool(m.count_include_pad)
    return Layer(type_name, params)


def _adaptive_avg(m) -> Layer:
    size = m.output_size
    if isinstance(size, (list, tuple)) and None in size:
        raise Unmapped("an output size of None (keep the input's) is not supported")
    return Layer("AdaptiveAvgPool2d", {"output_size": _size(size)})


def _flatten_module(m) -> Layer:
    if m.start_dim != 1 or m.end_dim != -1:
        raise Unmapped(f"start_dim={m.start_dim}, end_dim={m.end_dim} (only 1 and -1)")
    return Layer("Flatten")


def _upsample(m) -> Layer:
    if m.size is not None or m.scale_factor is None:
        raise Unmapped("a fixed output size (only a whole scale_factor is supported)")
    factor = m.scale_factor
    factor = factor[0] if isinstance(factor, tuple) and len(set(factor)) == 1 else factor
    if isinstance(factor, tuple) or float(factor) != int(factor):
        raise Unmapped(f"scale_factor={m.scale_factor} (only a whole factor is supported)")
    if m.mode not in ("nearest", "bilinear") or (m.mode == "bilinear" and m.align_corners):
        raise Unmapped(f"mode={m.mode!r}, align_corners={m.align_corners}")
    return Layer("Upsample", {"scale_factor": int(factor), "mode": m.mode})


def _layernorm(m, shape) -> Layer:
    normalized = tuple(m.normalized_shape)
    if normalized == tuple(shape[1:]):
        over = "all"
    elif normalized == tuple(shape[-1:]):
        over = "last"  # each position's features (channels-last, ConvNeXt's CNBlock)
    else:
        raise Unmapped(
            f"normalized_shape {normalized} is neither the whole sample {tuple(shape[1:])} "
            "nor its last dimension"
        )
    if getattr(m, "bias", True) is None and m.elementwise_affine:
        raise Unmapped("elementwise_affine without a bias")
    params = {"eps": float(m.eps), "elementwise_affine": bool(m.elementwise_affine)}
    return Layer("LayerNorm", params | ({"over": "last"} if over == "last" else {}))


def _layernorm2d(m, shape) -> Layer:
    if len(shape) != 4 or tuple(m.normalized_shape) != (shape[1],):
        raise Unmapped(f"normalized_shape {tuple(m.normalized_shape)} is not the channels")
    if getattr(m, "bias", True) is None and m.elementwise_affine:
        raise Unmapped("elementwise_affine without a bias")
    return Layer(
        "LayerNorm2d", {"eps": float(m.eps), "elementwise_affine": bool(m.elementwise_affine)}
    )


def _permute_dims(dims, ndim: int) -> list[int]:
    dims = [_dim(int(d), ndim) for d in dims]
    if not dims or dims[0] != 0:
        raise Unmapped("moves the batch dimension")
    return dims[1:]


def _instancenorm(m) -> Layer:
    if m.track_running_stats:
        raise Unmapped("track_running_stats=True")
    return Layer("InstanceNorm", {"eps": float(m.eps), "affine": bool(m.affine)})


def _prelu(m, shape) -> Layer:
    n = m.num_parameters
    if n not in (1, shape[1]):
        raise Unmapped(f"num_parameters={n}")
    return Layer("PReLU", {"slopes": "single" if n == 1 else "per channel"})


def _softmax(m, shape) -> Layer:
    dim = m.dim if m.dim is not None else 1
    dim = dim + len(shape) if dim < 0 else dim
    if dim < 1:
        raise Unmapped("softmax over the batch dimension")
    return Layer("Softmax", {"dim": dim})


def module_mappers() -> dict[type, Callable]:
    """nn class -> mapper(module, input shape with batch) -> Layer | Alias."""
    from torch import nn

    def simple(type_name, **attrs):
        return lambda m, shape: Layer(
            type_name, {k: conv(getattr(m, a)) for k, (a, conv) in attrs.items()}
        )

    return {
        nn.Conv2d: lambda m, shape: _conv(m),
        nn.ConvTranspose2d: lambda m, shape: _conv_transpose(m),
        nn.BatchNorm2d: lambda m, shape: _batchnorm(m),
        nn.BatchNorm1d: lambda m, shape: _batchnorm(m),
        nn.Linear: _linear,
        nn.MaxPool2d: lambda m, shape: _pool("MaxPool2d", m),
        nn.AvgPool2d: lambda m, shape: _pool("AvgPool2d", m),
        nn.AdaptiveAvgPool2d: lambda m, shape: _adaptive_avg(m),
        nn.Flatten: lambda m, shape: _flatten_module(m),
        nn.Upsample: lambda m, shape: _upsample(m),
        nn.Dropout: simple("Dropout", p=("p", float)),
        nn.Dropout2d: simple("Dropout2d", p=("p", float)),
        nn.ReLU: simple("ReLU"),
        nn.ReLU6: simple("ReLU6"),
        nn.SELU: simple("SELU"),
        nn.Sigmoid: simple("Sigmoid"),
        nn.SiLU: simple("SiLU"),
        nn.Hardswish: simple("Hardswish"),
        nn.Hardsigmoid: simple("Hardsigmoid"),
        nn.Mish: simple("Mish"),
        nn.Tanh: simple("Tanh"),
        nn.LeakyReLU: simple("LeakyReLU", negative_slope=("negative_slope", float)),
        nn.ELU: simple("ELU", alpha=("alpha", float)),
        nn.GELU: simple("GELU", approximate=("approximate", str)),
        nn.RReLU: simple("RReLU", lower=("lower", float), upper=("upper", float)),
        nn.PReLU: _prelu,
        nn.Softmax: _softmax,
        nn.LayerNorm: _layernorm,
        nn.GroupNorm: simple(
            "GroupNorm", num_groups=("num_groups", int), eps=("eps", float), affine=("affine", bool)
        ),
        nn.InstanceNorm2d: lambda m, shape: _instancenorm(m),
        nn.LocalResponseNorm: simple(
            "LocalResponseNorm",
            size=("size", int),
            alpha=("alpha", float),
            beta=("beta", float),
            k=("k", float),
        ),
        nn.Identity: lambda m, shape: Alias(None),
        nn.ChannelShuffle: simple("ChannelShuffle", groups=("groups", int)),
        **_torchvision_modules(),
    }


def _torchvision_modules() -> dict[type, Callable]:
    try:
        from torchvision.models.convnext import LayerNorm2d
        from torchvision.ops import Permute, StochasticDepth
    except ImportError:
        return {}
    return {
        StochasticDepth: lambda m, shape: Layer(
            "StochasticDepth", {"p": float(m.p), "mode": m.mode}
        ),
        LayerNorm2d: _layernorm2d,
        Permute: lambda m, shape: Layer("Permute", {"dims": _permute_dims(m.dims, len(shape))}),
    }


# -- functions and methods -------------------------------------------------------------------


class Call:
    """One traced call: its args and kwargs (fx nodes or constants) and the shapes involved."""

    def __init__(self, node, shape_of: Callable):
        self.node = node
        self.args = list(node.args)
        self.kwargs = dict(node.kwargs)
        self.shape_of = shape_of  # fx node -> shape with batch, or None for a non-tensor

    def arg(self, i: int, name: str, default=None):
        if i < len(self.args):
            return self.args[i]
        return self.kwargs.get(name, default)

    @property
    def out_shape(self):
        return self.shape_of(self.node)

    def tensor(self, i: int, name: str = "input"):
        value = self.arg(i, name)
        if self.shape_of(value) is None:
            raise Unmapped("its input is not a tensor")
        return value


def _dim(d: int, ndim: int) -> int:
    return d + ndim if d < 0 else d


def _activation(type_name: str):
    return lambda c: Layer(type_name, inputs=[c.tensor(0)])


def _add(c: Call) -> Layer:
    a, b = c.arg(0, "input"), c.arg(1, "other")
    if c.arg(2, "alpha", 1) != 1:
        raise Unmapped("alpha != 1")
    sa, sb = c.shape_of(a), c.shape_of(b)
    if sa is None or sb is None:
        raise Unmapped("adds a constant (only tensors of the same shape can be added)")
    if sa != sb:
        raise Unmapped(f"broadcasts {tuple(sa)} and {tuple(sb)} (Add needs equal shapes)")
    return Layer("Add", inputs=[a, b])


def _is_attribute(value) -> bool:
    return getattr(value, "op", None) == "get_attr"


def _scale(x, tensor, c: Call) -> Layer:
    """A module's own tensor times a layer's output (ConvNeXt's layer scale): Scale, when the
    tensor has the shape of one of its modes."""
    import torch

    if c.shape_of(x) is None:
        raise Unmapped("multiplies a tensor attribute by something that is not a layer's output")
    sx, st = tuple(c.shape_of(x)[1:]), tuple(c.shape_of(tensor))
    modes = {"element": sx, "channel": (sx[0],) + (1,) * (len(sx) - 1), "layer": (1,)}
    mode = next((m for m, shape in modes.items() if shape == st), None)
    if mode is None:
        raise Unmapped(
            f"multiplies by a tensor of shape {st}, not one per element, per channel "
            f"{modes['channel']} or one for the layer (Scale's)"
        )
    params = {"mode": mode}
    held = _fetch_attr(c.node.graph.owning_module, tensor.target)
    if isinstance(held, torch.Tensor) and bool((held == held.flatten()[0]).all()):
        params["init"] = float(held.flatten()[0])  # untrained (all equal): its init
    return Layer("Scale", params, inputs=[x], weights={"scale": tensor})


def _fetch_attr(module, target: str):
    for part in target.split("."):
        module = getattr(module, part, None)
    return module


def _mul(c: Call) -> Layer:
    a, b = c.arg(0, "input"), c.arg(1, "other")
    if _is_attribute(a) != _is_attribute(b):
        return _scale(b, a, c) if _is_attribute(a) else _scale(a, b, c)
    sa, sb = c.shape_of(a), c.shape_of(b)
    if sa is None or sb is None:
        raise Unmapped("multiplies by a constant (only by another layer's output)")
    if len(sa) == len(sb) == 4 and sa[2:] == (1, 1) and sb[2:] != (1, 1):
        a, b, sa, sb = b, a, sb, sa  # gates first (torchvision's `scale * input`): swap
    if sb != sa and not (len(sa) == 4 and sb == (sa[0], sa[1], 1, 1)):
        raise Unmapped(
            f"broadcasts {tuple(sa)} and {tuple(sb)} (Multiply takes equal shapes "
            "or one gate per channel)"
        )
    return Layer("Multiply", inputs=[a, b])


def _cat(c: Call) -> Layer:
    tensors = list(c.arg(0, "tensors"))
    shape = c.out_shape
    if _dim(c.arg(1, "dim", 0), len(shape)) != 1 or len(shape) not in (2, 4):
        raise Unmapped("concatenates along a dimension other than the channels")
    if len(tensors) == 1:
        return Alias(tensors[0])
    return Layer("Concat", inputs=tensors)


def _flatten(c: Call) -> Layer:
    x = c.tensor(0)
    ndim = len(c.shape_of(x))
    start, end = c.arg(1, "start_dim", 0), c.arg(2, "end_dim", -1)
    if _dim(start, ndim) != 1 or _dim(end, ndim) != ndim - 1:
        raise Unmapped(f"flattens dimensions {start}..{end} (only 1 to the last)")
    return Layer("Flatten", inputs=[x])


# onnx2torch's modules that do what a tensor method does (in a channel shuffle)
_ONNX_OPS = {"OnnxReshape": "reshape", "OnnxTranspose": "transpose"}


def _module_of(node):
    owner = node.graph.owning_module
    return owner.get_submodule(node.target) if owner is not None else None


def _op_name(node) -> str:
    if getattr(node, "op", None) == "call_method":
        return node.target
    if getattr(node, "op", None) == "call_function":
        return getattr(node.target, "__name__", "")
    if getattr(node, "op", None) == "call_module":
        return _ONNX_OPS.get(type(_module_of(node)).__name__, "")
    return ""


def _only_user(node):
    users = list(node.users)
    return users[0] if len(users) == 1 else None


def _swaps_1_2(node) -> bool:
    if _op_name(node) != "transpose":
        return False
    if node.op == "call_module":  # onnx2torch's Transpose of a 5-D tensor
        return list(_module_of(node).perm or ()) == [0, 2, 1, 3, 4]
    return len(node.args) == 3 and sorted(node.args[1:]) == [1, 2]


def _shuffle_groups(view, shape_of) -> int | None:
    """ShuffleNet's channel_shuffle starts here: N x C x H x W viewed as N x g x C/g x H x W,
    transposed (1, 2), made contiguous and viewed back; the number of groups, else None."""
    if _op_name(view) not in ("view", "reshape"):
        return None
    sin, sout = shape_of(view.args[0]), shape_of(view)
    if (
        sin is None
        or sout is None
        or len(sin) != 4
        or len(sout) != 5
        or sout[1] * sout[2] != sin[1]
        or sout[3:] != sin[2:]
    ):
        return None
    swap = _only_user(view)
    if swap is None or not _swaps_1_2(swap):
        return None
    back = _only_user(swap)
    if back is not None and _op_name(back) == "contiguous":
        back = _only_user(back)
    if back is None or _op_name(back) not in ("view", "reshape") or shape_of(back) != sin:
        return None
    return sout[1]


def _ends_shuffle(view, shape_of) -> bool:
    src = view.args[0]
    if _op_name(src) == "contiguous":
        src = src.args[0]
    return _swaps_1_2(src) and _shuffle_groups(src.args[0], shape_of) is not None


def _transpose(c: Call):
    if _shuffle_groups(c.arg(0, "input"), c.shape_of) is not None:
        return Alias(c.arg(0, "input"))  # inside a channel shuffle, which its first view does
    raise Unmapped("transposes dimensions (only inside ShuffleNet's channel shuffle)")


def _chunk(c: Call) -> Split:
    x = c.tensor(0)
    shape = c.shape_of(x)
    if _dim(c.arg(2, "dim", 0), len(shape)) != 1:
        raise Unmapped("splits along a dimension other than the channels")
    size = -(-shape[1] // c.arg(1, "chunks"))
    return Split(x, [(i, min(i + size, shape[1])) for i in range(0, shape[1], size)])


def _split(c: Call) -> Split:
    x = c.tensor(0)
    shape = c.shape_of(x)
    if _dim(c.arg(2, "dim", 0), len(shape)) != 1:
        raise Unmapped("splits along a dimension other than the channels")
    sizes = c.arg(1, "split_size_or_sections", c.kwargs.get("split_size"))
    if isinstance(sizes, int):
        sizes = [min(sizes, shape[1] - i) for i in range(0, shape[1], sizes)]
    bounds, start = [], 0
    for n in sizes:
        bounds.append((start, start + n))
        start += n
    return Split(x, bounds)


def _reshape(c: Call) -> Layer:
    x = c.tensor(0)
    groups = _shuffle_groups(c.node, c.shape_of)
    if groups is not None:
        return Layer("ChannelShuffle", {"groups": groups}, inputs=[x])
    if _ends_shuffle(c.node, c.shape_of):
        return Alias(x)
    out = c.out_shape
    if out is None or out[0] != c.shape_of(x)[0]:
        raise Unmapped("changes the batch dimension")
    if len(out) == 2:
        return Layer("Flatten", inputs=[x])
    return Layer("Reshape", {"shape": [int(v) for v in out[1:]]}, inputs=[x])


def _mean(c: Call) -> Layer:
    x = c.tensor(0)
    ndim = len(c.shape_of(x))
    dims = c.arg(1, "dim")
    dims = [dims] if isinstance(dims, int) else list(dims or ())
    if ndim != 4 or sorted(_dim(d, ndim) for d in dims) != [2, 3]:
        raise Unmapped("a mean over other dimensions than height and width")
    if c.arg(2, "keepdim", False):
        return Layer("AdaptiveAvgPool2d", {"output_size": 1}, inputs=[x])
    return Layer("GlobalAvgPool", inputs=[x])


def _adaptive_avg_pool(c: Call) -> Layer:
    size = c.arg(1, "output_size")
    if isinstance(size, (list, tuple)) and None in size:
        raise Unmapped("an output size of None")
    return Layer("AdaptiveAvgPool2d", {"output_size": _size(size)}, inputs=[c.tensor(0)])


def _pool_fn(type_name: str):
    def mapper(c: Call) -> Layer:
        k = _size(c.arg(1, "kernel_size"))
        stride = c.arg(2, "stride")
        stride = None if not stride or _size(stride) == k else _square(stride, "stride")
        params = {"kernel_size": k, "stride": stride, "padding": _size(c.arg(3, "padding", 0))}
        if type_name == "MaxPool2d":
            if _size(c.arg(4, "dilation", 1)) != 1 or c.arg(6, "return_indices", False):
                raise Unmapped("dilation or return_indices")
            params["ceil_mode"] = bool(c.arg(5, "ceil_mode", False))
        else:
            params["ceil_mode"] = bool(c.arg(4, "ceil_mode", False))
            params["count_include_pad"] = bool(c.arg(5, "count_include_pad", True))
            if c.arg(6, "divisor_override") is not None:
                raise Unmapped("divisor_override")
        return Layer(type_name, params, inputs=[c.tensor(0)])

    return mapper


def _dropout(c: Call):
    return Layer("Dropout", {"p": float(c.arg(1, "p", 0.5))}, inputs=[c.tensor(0)])


def _hardtanh(c: Call) -> Layer:
    if (c.arg(1, "min_val", -1.0), c.arg(2, "max_val", 1.0)) != (0.0, 6.0):
        raise Unmapped("hardtanh other than ReLU6's (0, 6)")
    return Layer("ReLU6", inputs=[c.tensor(0)])


def _leaky(c: Call) -> Layer:
    return Layer(
        "LeakyReLU",
        {"negative_slope": float(c.arg(1, "negative_slope", 0.01))},
        inputs=[c.tensor(0)],
    )


def _softmax_fn(c: Call) -> Layer:
    shape = c.shape_of(c.tensor(0))
    dim = _dim(c.arg(1, "dim"), len(shape))
    if dim < 1:
        raise Unmapped("softmax over the batch dimension")
    return Layer("Softmax", {"dim": dim}, inputs=[c.tensor(0)])


def _permute(c: Call) -> Layer:
    x = c.tensor(0)
    dims = c.arg(1, "dims")
    if isinstance(dims, int):  # x.permute(0, 2, 3, 1)
        dims = c.args[1:]
    return Layer("Permute", {"dims": _permute_dims(dims, len(c.shape_of(x)))}, inputs=[x])


def _gelu(c: Call) -> Layer:
    approximate = c.kwargs.get("approximate", c.args[1] if len(c.args) > 1 else "none")
    return Layer("GELU", {"approximate": str(approximate)}, inputs=[c.tensor(0)])


def _layer_norm_fn(c: Call) -> Layer:
    """F.layer_norm / aten.layer_norm: over the whole sample or its last dimension."""
    x = c.tensor(0)
    shape = tuple(c.shape_of(x))
    normalized = tuple(c.arg(1, "normalized_shape"))
    if normalized not in (shape[1:], shape[-1:]):
        raise Unmapped(f"normalizes over {normalized}, not the whole sample nor its last size")
    weight, bias = c.arg(2, "weight"), c.arg(3, "bias")
    if (weight is None) != (bias is None):
        raise Unmapped("a scale without a shift, or a shift without a scale")
    params = {"eps": float(c.arg(4, "eps", 1e-5)), "elementwise_affine": weight is not None}
    if normalized != shape[1:]:
        params["over"] = "last"
    weights = {"weight": weight, "bias": bias} if weight is not None else {}
    return Layer("LayerNorm", params, inputs=[x], weights=weights)


def _contiguous(c: Call):
    return Alias(c.tensor(0))


def function_mappers() -> dict[Any, Callable]:
    """Function object or method name -> mapper(Call) -> Layer | Alias."""
    import torch
    import torch.nn.functional as F

    relu, relu6 = _activation("ReLU"), _activation("ReLU6")
    table: dict[Any, Callable] = {
        operator.add: _add,
        operator.iadd: _add,
        torch.add: _add,
        "add": _add,
        "add_": _add,
        torch.cat: _cat,
        torch.concat: _cat,
        operator.mul: _mul,
        operator.imul: _mul,
        torch.mul: _mul,
        "mul": _mul,
        torch.flatten: _flatten,
        "flatten": _flatten,
        "view": _reshape,
        "reshape": _reshape,
        torch.reshape: _reshape,
        "mean": _mean,
        torch.mean: _mean,
        F.adaptive_avg_pool2d: _adaptive_avg_pool,
        F.max_pool2d: _pool_fn("MaxPool2d"),
        F.avg_pool2d: _pool_fn("AvgPool2d"),
        F.dropout: _dropout,
        F.relu: relu,
        torch.relu: relu,
        torch.relu_: relu,
        "relu": relu,
        "relu_": relu,
        F.relu6: relu6,
        F.hardtanh: _hardtanh,
        F.leaky_relu: _leaky,
        torch.sigmoid: _activation("Sigmoid"),
        F.sigmoid: _activation("Sigmoid"),
        "sigmoid": _activation("Sigmoid"),
        torch.tanh: _activation("Tanh"),
        F.tanh: _activation("Tanh"),
        "tanh": _activation("Tanh"),
        F.selu: _activation("SELU"),
        F.gelu: _gelu,
        F.layer_norm: _layer_norm_fn,
        F.silu: _activation("SiLU"),
        F.hardswish: _activation("Hardswish"),
        F.hardsigmoid: _activation("Hardsigmoid"),
        F.mish: _activation("Mish"),
        F.softmax: _softmax_fn,
        torch.softmax: _softmax_fn,
        "softmax": _softmax_fn,
        "contiguous": _contiguous,
        torch.transpose: _transpose,
        "transpose": _transpose,
        torch.chunk: _chunk,
        "chunk": _chunk,
        torch.split: _split,
        "split": _split,
        torch.permute: _permute,
        "permute": _permute,
    }
    return table


def target_name(target) -> str:
    """How the report names a traced function or method: torch.roll, Tensor.transpose."""
    import torch
    import torch.nn.functional as F

    if isinstance(target, str):
        return f"Tensor.{target}"
    name = getattr(target, "__name__", None) or repr(target)
    for prefix, namespace in (("torch.nn.functional", F), ("torch", torch), ("operator", operator)):
        if getattr(namespace, name, None) is target:
            return f"{prefix}.{name}"
    module = getattr(target, "__module__", None) or ""
    return f"{module}.{getattr(target, '__qualname__', name)}".lstrip(".")


# -- onnx2torch's modules (an ONNX file converted to torch.fx) ---------------------------------


# -- patterns that ONNX spells out in arithmetic: GELU and Linear at every position -----------

_ROLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # fx graph -> node -> role


def _binary_op(node) -> str:
    """ "add", "mul", "div", ... for onnx2torch's element-wise arithmetic, else ""."""
    if getattr(node, "op", None) != "call_module":
        return ""
    m = _module_of(node)
    if type(m).__name__ != "OnnxBinaryMathOperation" or m.broadcast == 1:
        return ""
    return getattr(m.math_op_function, "__name__", "")


def _scalar(value) -> float | None:
    known = getattr(value, "meta", {}).get("value") if hasattr(value, "meta") else value
    while isinstance(known, list) and len(known) == 1:
        known = known[0]
    return float(known) if isinstance(known, (int, float)) else None


def _is_onnx(node, class_name: str) -> bool:
    return getattr(node, "op", None) == "call_module" and (
        type(_module_of(node)).__name__ == class_name
    )


def _other(node, value):
    a, b = node.args[:2]
    return b if a is value else a if b is value else None


def _roles(graph) -> dict:
    """What each node of an ONNX GELU or MatMul(+Add) does: ("gelu", x) at x / sqrt(2), whose
    erf, + 1, x * and * 0.5 are ("alias", that node); ("linear", x, W, bias) at x @ W, whose
    + bias is an alias."""
    if graph in _ROLES:
        return _ROLES[graph]
    roles: dict = {}
    for n in graph.nodes:
        if _binary_op(n) in ("div", "_onnx_div") and abs((_scalar(n.args[1]) or 0) - 2**0.5) < 1e-6:
            x, erf = n.args[0], _only_user(n)
            add = _only_user(erf) if erf is not None and _is_onnx(erf, "OnnxErf") else None
            one = _other(add, erf) if add is not None and _binary_op(add) == "add" else None
            mul = _only_user(add) if _scalar(one) == 1.0 else None
            half = _only_user(mul) if mul is not None and _other(mul, add) is x else None
            if half is not None and _binary_op(half) == "mul" and _scalar(_other(half, mul)) == 0.5:
                roles[n] = ("gelu", x)
                roles.update({m: ("alias", n) for m in (erf, add, mul, half)})
        if _is_onnx(n, "OnnxMatMul") and _is_attribute(n.args[1]):
            add, bias = _only_user(n), None
            if add is not None and _binary_op(add) == "add" and _is_attribute(_other(add, n)):
                bias = _other(add, n)
                roles[add] = ("alias", n)
            roles[n] = ("linear", n.args[0], n.args[1], bias)
    _ROLES[graph] = roles
    return roles


def _role_layer(role, node, shape_of):
    if role[0] == "alias":
        return Alias(role[1])
    if role[0] == "gelu":
        return Layer("GELU", {"approximate": "none"}, inputs=[role[1]])
    _, x, weight_node, bias = role
    weight = _fetch_attr(node.graph.owning_module, weight_node.target)
    shape = shape_of(x)
    if weight.dim() != 2 or shape is None or shape[-1] != weight.shape[0]:
        raise Unmapped("a matrix product that is no linear layer")
    if bias is not None and tuple(shape_of(bias) or ()) != (weight.shape[1],):
        raise Unmapped("a bias that is not one per output")
    params = {"out_features": int(weight.shape[1]), "bias": bias is not None}
    if len(shape) > 2:
        params["last_dim"] = True
    weights = {"weight": weight.t().contiguous()} | ({"bias": bias} if bias is not None else {})
    return Layer("Linear", params, inputs=[x], weights=weights)


def _onnx_pattern(m, args, shape_of, node):
    role = _roles(node.graph).get(node)
    if role is None:
        raise Unmapped("no layer type computes it (only as part of a GELU or a linear layer)")
    return _role_layer(role, node, shape_of)


def _onnx_binary(m, args, shape_of, node) -> Layer:
    import torch

    role = _roles(node.graph).get(node)
    if role is not None:
        return _role_layer(role, node, shape_of)
    if m.broadcast == 1 or m.math_op_function not in (torch.add, torch.mul):
        raise Unmapped("element-wise arithmetic other than adding or multiplying two tensors")
    call = Call(node, shape_of)
    return _add(call) if m.math_op_function is torch.add else _mul(call)


def _onnx_concat(m, args, shape_of, node) -> Layer:
    shape = shape_of(args[0])
    if shape is None or _dim(m.axis, len(shape)) != 1:
        raise Unmapped("concatenates along a dimension other than the channels")
    return Alias(args[0]) if len(args) == 1 else Layer("Concat", inputs=list(args))


def _onnx_hard_sigmoid(m, args, shape_of, node) -> Layer:
    if abs(m.alpha - 1 / 6) > 1e-6 or m.beta != 0.5:
        raise Unmapped(f"HardSigmoid with alpha={m.alpha}, beta={m.beta} (only 1/6 and 0.5)")
    return Layer("Hardsigmoid", inputs=[args[0]])


def _onnx_global_pool(m, args, shape_of, node) -> Layer:
    if len(shape_of(args[0]) or ()) != 4:
        raise Unmapped("global pooling of a tensor that is not an image")
    return Layer("AdaptiveAvgPool2d", {"output_size": 1}, inputs=[args[0]])


def _onnx_reshape(m, args, shape_of, node) -> Layer:
    return _reshape(Call(node, shape_of))


def _onnx_flatten(m, args, shape_of, node) -> Layer:
    if m.axis != 1:
        raise Unmapped(f"flattens from axis {m.axis} (only 1)")
    return Layer("Flatten", inputs=[args[0]])


def _onnx_transpose(m, args, shape_of, node):
    if _shuffle_groups(args[0], shape_of) is not None:
        return Alias(args[0])  # inside a channel shuffle, which its first Reshape does
    ndim = len(shape_of(args[0]))
    perm = list(m.perm) if m.perm is not None else list(range(ndim))[::-1]
    return Layer("Permute", {"dims": _permute_dims(perm, ndim)}, inputs=[args[0]])


def _onnx_reduce(m, args, shape_of, node) -> Layer:
    ndim = len(shape_of(args[0]) or ())
    axes = sorted(_dim(a, ndim) for a in (m.axes or ()))
    if m.operation_type != "ReduceMean" or ndim != 4 or axes != [2, 3]:
        raise Unmapped(f"{m.operation_type} over axes {m.axes} (only a mean over height and width)")
    if m.keepdims:
        return Layer("AdaptiveAvgPool2d", {"output_size": 1}, inputs=[args[0]])
    return Layer("GlobalAvgPool", inputs=[args[0]])


def _known(value, what: str):
    """The value of a Slice's bound: a constant, or a small tensor computed from shapes."""
    if value is None or isinstance(value, (int, list, tuple)):
        return value
    known = getattr(value, "meta", {}).get("value")
    if known is None:
        raise Unmapped(f"its {what} depend on the data")
    return known


def _channel_slice(x, shape_of, starts, ends, axes, steps) -> Layer:
    ndim = len(shape_of(x))
    axes = list(range(len(starts))) if axes is None else [_dim(a, ndim) for a in axes]
    if axes != [1] or (steps is not None and list(steps) != [1]):
        raise Unmapped("slices other than a range of channels")
    channels = shape_of(x)[1]
    start, stop = (
        max(0, min(v + channels if v < 0 else v, channels)) for v in (starts[0], ends[0])
    )
    return Layer("ChannelSlice", {"start": start, "stop": stop}, inputs=[x])


def _onnx_slice(m, args, shape_of, node) -> Layer:
    values = [_known(a, "bounds") for a in args[1:]] + [None] * (5 - len(args))
    return _channel_slice(args[0], shape_of, *values[:4])


def _onnx_slice_v9(m, args, shape_of, node) -> Layer:
    pos = m.pos_axes_slices
    if m.flip_dims or m.neg_axes_slices or len(pos) != 2 or pos[0] != slice(None):
        raise Unmapped("slices other than a range of channels")
    s = pos[1]
    channels = shape_of(args[0])[1]
    return _channel_slice(
        args[0],
        shape_of,
        [s.start or 0],
        [channels if s.stop is None else s.stop],
        [1],
        [s.step or 1],
    )


def multi_input_mappers() -> dict[type, Callable]:
    """Module class -> mapper(module, args, shape_of, node) -> Layer, for modules that take several
    inputs or whose meaning depends on them: onnx2torch's (when it is installed)."""
    try:
        from onnx2torch.node_converters.activations import OnnxErf, OnnxHardSigmoid
        from onnx2torch.node_converters.binary_math_operations import OnnxBinaryMathOperation
        from onnx2torch.node_converters.concat import OnnxConcat
        from onnx2torch.node_converters.flatten import OnnxFlatten
        from onnx2torch.node_converters.global_average_pool import (
            OnnxGlobalAveragePool,
            OnnxGlobalAveragePoolWithKnownInputShape,
        )
        from onnx2torch.node_converters.matmul import OnnxMatMul
        from onnx2torch.node_converters.reduce import OnnxReduceStaticAxes
        from onnx2torch.node_converters.reshape import OnnxReshape
        from onnx2torch.node_converters.slice import OnnxSlice, OnnxSliceV9
        from onnx2torch.node_converters.transpose import OnnxTranspose
    except ImportError:
        return {}
    return {
        OnnxBinaryMathOperation: _onnx_binary,
        OnnxConcat: _onnx_concat,
        OnnxGlobalAveragePool: _onnx_global_pool,
        OnnxGlobalAveragePoolWithKnownInputShape: _onnx_global_pool,
        OnnxFlatten: _onnx_flatten,
        OnnxReshape: _onnx_reshape,
        OnnxHardSigmoid: _onnx_hard_sigmoid,
        OnnxSlice: _onnx_slice,
        OnnxSliceV9: _onnx_slice_v9,
        OnnxTranspose: _onnx_transpose,
        OnnxReduceStaticAxes: _onnx_reduce,
        OnnxMatMul: _onnx_pattern,  # as ONNX writes a linear layer on a 4-D tensor
        OnnxErf: _onnx_pattern,  # inside ONNX's GELU
    }


def shape_readers() -> set[type]:
    """Module classes whose output is a tensor's shape, not its data (onnx2torch's Shape)."""
    try:
        from onnx2torch.node_converters.shape import OnnxShape
    except ImportError:
        return set()
    return {OnnxShape}


# -- ATen operators (a saved torch.export program) ---------------------------------------------


def _weight_shape(c: Call, i: int, name: str):
    node = c.arg(i, name)
    shape = c.shape_of(node)
    if shape is None:
        raise Unmapped(f"its {name} is not a tensor")
    return node, shape


def _aten_conv(c: Call) -> Layer:
    weight, wshape = _weight_shape(c, 1, "weight")
    bias = c.arg(2, "bias")
    if len(wshape) != 4:
        raise Unmapped("a convolution that is not 2-D")
    padding = c.arg(4, "padding", 0)
    pad = padding if isinstance(padding, str) else _size(padding if padding != [] else 0)
    params = {
        "out_channels": wshape[0],
        "kernel_size": _size(wshape[2:]),
        "stride": _size(c.arg(3, "stride", 1) or 1),
        "padding": pad,
        "dilation": _size(c.arg(5, "dilation", 1) or 1),
        "groups": c.arg(6, "groups", 1),
        "bias": bias is not None,
    }
    weights = {"weight": weight} | ({"bias": bias} if bias is not None else {})
    return Layer("Conv2d", params, inputs=[c.tensor(0)], weights=weights)


def _aten_convolution(c: Call) -> Layer:
    if c.arg(6, "transposed", False):
        raise Unmapped("a transposed convolution")
    weight, wshape = _weight_shape(c, 1, "weight")
    bias = c.arg(2, "bias")
    if len(wshape) != 4:
        raise Unmapped("a convolution that is not 2-D")
    params = {
        "out_channels": wshape[0],
        "kernel_size": _size(wshape[2:]),
        "stride": _size(c.arg(3, "stride")),
        "padding": _size(c.arg(4, "padding")),
        "dilation": _size(c.arg(5, "dilation")),
        "groups": c.arg(8, "groups", 1),
        "bias": bias is not None,
    }
    weights = {"weight": weight} | ({"bias": bias} if bias is not None else {})
    return Layer("Conv2d", params, inputs=[c.tensor(0)], weights=weights)


def _bn_layer(c: Call, momentum, eps) -> Layer:
    import torch

    weight, bias, mean, var = (
        c.arg(i, n) for i, n in enumerate(("weight", "bias", "running_mean", "running_var"), 1)
    )
    if mean is None or var is None:
        raise Unmapped("batch statistics at test time (no running averages)")
    affine = weight is not None and bias is not None
    weights = {
        "running_mean": mean,
        "running_var": var,
        "num_batches_tracked": torch.tensor(0, dtype=torch.long),
    }
    if affine:
        weights |= {"weight": weight, "bias": bias}
    return Layer(
        "BatchNorm",
        {"eps": float(eps), "momentum": float(momentum), "affine": affine},
        inputs=[c.tensor(0)],
        weights=weights,
    )


def _aten_batch_norm(c: Call) -> Layer:
    if c.arg(5, "training", False):
        raise Unmapped("batch normalization in training mode")
    return _bn_layer(c, c.arg(6, "momentum", 0.1), c.arg(7, "eps", 1e-5))


def _aten_bn_no_training(c: Call) -> Layer:
    return _bn_layer(c, c.arg(5, "momentum", 0.1), c.arg(6, "eps", 1e-5))


def _aten_linear(c: Call) -> Layer:
    weight, wshape = _weight_shape(c, 1, "weight")
    bias = c.arg(2, "bias")
    weights = {"weight": weight} | ({"bias": bias} if bias is not None else {})
    params = {"out_features": wshape[0], "bias": bias is not None}
    if len(c.shape_of(c.tensor(0))) > 2:
        params["last_dim"] = True
    return Layer("Linear", params, inputs=[c.tensor(0)], weights=weights)


# ops that return a tuple whose first item is the layer's output (read with getitem 0)
TUPLE_FIRST = ("_native_batch_norm_legit_no_training", "max_pool2d_with_indices")


def _getitem(c: Call):
    src, index = c.arg(0, "a"), c.arg(1, "b")
    target = getattr(getattr(src, "target", None), "__name__", "")
    if index == 0 and any(target.startswith(t) for t in TUPLE_FIRST):
        return Alias(src)
    raise Unmapped("indexing or slicing a tensor")


def aten_mappers() -> dict[Any, Callable]:
    import torch

    aten = torch.ops.aten
    relu, relu6 = _activation("ReLU"), _hardtanh
    alias = _contiguous
    return {
        aten.conv2d.default: _aten_conv,
        aten.conv2d.padding: _aten_conv,
        aten.convolution.default: _aten_convolution,
        aten.batch_norm.default: _aten_batch_norm,
        aten._native_batch_norm_legit_no_training.default: _aten_bn_no_training,
        aten.linear.default: _aten_linear,
        operator.getitem: _getitem,
        aten.relu.default: relu,
        aten.relu_.default: relu,
        aten.hardtanh.default: relu6,
        aten.hardtanh_.default: relu6,
        aten.sigmoid.default: _activation("Sigmoid"),
        aten.tanh.default: _activation("Tanh"),
        aten.add.Tensor: _add,
        aten.add_.Tensor: _add,
        aten.mul.Tensor: _mul,
        aten.silu.default: _activation("SiLU"),
        aten.silu_.default: _activation("SiLU"),
        aten.hardswish.default: _activation("Hardswish"),
        aten.hardswish_.default: _activation("Hardswish"),
        aten.hardsigmoid.default: _activation("Hardsigmoid"),
        aten.cat.default: _cat,
        aten.gelu.default: _gelu,
        aten.layer_norm.default: _layer_norm_fn,
        aten.permute.default: _permute,
        aten.max_pool2d.default: _pool_fn("MaxPool2d"),
        aten.max_pool2d_with_indices.default: _pool_fn("MaxPool2d"),
        aten.avg_pool2d.default: _pool_fn("AvgPool2d"),
        aten.adaptive_avg_pool2d.default: _adaptive_avg_pool,
        aten._adaptive_avg_pool2d.default: _adaptive_avg_pool,
        aten.mean.dim: _mean,
        aten.flatten.using_ints: _flatten,
        aten.view.default: _reshape,
        aten.reshape.default: _reshape,
        aten.dropout.default: _dropout,
        aten.dropout_.default: _dropout,
        aten.clone.default: alias,
        aten.alias.default: alias,
    }
