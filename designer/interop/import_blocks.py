"""Child modules that are exactly one of our composite blocks (torchvision's BasicBlock,
Bottleneck, Fire, InvertedResidual, Inception, DenseNet's block and transition,
Conv2dNormActivation, SqueezeExcitation, MobileNetV3's InvertedResidual, EfficientNet's MBConv and
FusedMBConv, MNASNet's _InvertedResidual,
ShuffleNetV2's InvertedResidual, RegNet's ResBottleneckBlock, Inception-v3's modules A to E,
ConvNeXt's CNBlock).

A candidate is recognised by its class and its params are read from its attributes; then it has
to prove it: our block's module (block_modules.py) gets the candidate's tensors, paired by
structure, and both run on a random input of the shape the candidate sees in the network, with
random BatchNorm statistics. Only when the outputs agree does the child become that block; any
other child (or one that differs in some detail) becomes a custom block traced from its own code.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from designer.interop.torchvision_weights import map_by_structure
from designer.interop.weights import WeightsError


@dataclass
class Composite:
    type: str
    params: dict
    key_map: dict[str, str]  # our block module's state_dict key -> the child's own key


def _conv_out(m) -> int:
    return m.out_channels


def _basic(m, c_in):
    return {"out_channels": _conv_out(m.conv1), "stride": m.conv1.stride[0]}


def _bottleneck(m, c_in):
    width = _conv_out(m.conv2)
    return {
        "width": width,
        "stride": m.conv2.stride[0],
        "expansion": _conv_out(m.conv3) // width,
        "groups": m.conv2.groups,
    }


def _fire(m, c_in):
    return {
        "squeeze": _conv_out(m.squeeze),
        "expand1x1": _conv_out(m.expand1x1),
        "expand3x3": _conv_out(m.expand3x3),
    }


def _inverted(m, c_in):
    convs = [c for c in m.conv.modules() if type(c).__name__ == "Conv2d"]
    hidden = convs[-2].out_channels
    act = next(
        (type(a).__name__ for a in m.conv.modules() if type(a).__name__ in ("ReLU6", "ReLU")),
        "ReLU6",
    )
    return {
        "out_channels": m.out_channels,
        "stride": m.stride,
        "expand_ratio": hidden // c_in,
        "activation": act,
    }


def _inception(m, c_in):
    return {
        "ch1x1": m.branch1.conv.out_channels,
        "ch3x3red": m.branch2[0].conv.out_channels,
        "ch3x3": m.branch2[1].conv.out_channels,
        "ch5x5red": m.branch3[0].conv.out_channels,
        "ch5x5": m.branch3[1].conv.out_channels,
        "pool_proj": m.branch4[1].conv.out_channels,
        "branch3_kernel": m.branch3[1].conv.kernel_size[0],
        "batch_norm": True,
    }


def _dense_block(m, c_in):
    first = m["denselayer1"]
    growth = first.conv2.out_channels
    return {
        "num_layers": len(m),
        "growth_rate": growth,
        "bn_size": first.conv1.out_channels // growth,
        "drop_rate": float(first.drop_rate),
    }


def _transition(m, c_in):
    return {"compression": m.conv.out_channels / c_in}


def _conv_norm_act(m, c_in):
    conv, bn = m[0], m[1]
    act = "none" if len(m) == 2 else type(m[2]).__name__
    return _conv_bn(conv, bn, act)


def _basic_conv(m, c_in):  # GoogLeNet's and Inception-v3's conv -> bn -> F.relu
    return _conv_bn(m.conv, m.bn, "ReLU")


def _conv_bn(conv, bn, act):
    kh, kw = conv.kernel_size
    if conv.dilation != (1, 1) or conv.stride[0] != conv.stride[1]:
        raise ValueError("dilated or strided unevenly")  # ConvBNAct has neither
    same = ((kh - 1) // 2, (kw - 1) // 2)
    if tuple(conv.padding) != same and conv.padding[0] != conv.padding[1]:
        raise ValueError("uneven padding other than the same size out")
    return {
        "out_channels": conv.out_channels,
        "kernel_size": kh if kh == kw else [kh, kw],
        "stride": conv.stride[0],
        "padding": None if tuple(conv.padding) == same else conv.padding[0],
        "groups": conv.groups,
        "activation": act,
        "eps": float(bn.eps),
        "momentum": float(bn.momentum),
    }


def _activation_name(m) -> str:
    return type(m).__name__


def _squeeze_excitation(m, c_in):
    return {
        "squeeze_channels": m.fc1.out_channels,
        "activation": _activation_name(m.activation),
        "gate": _activation_name(m.scale_activation),
    }


def _mb_conv(m, c_in):
    """MobileNetV3's InvertedResidual and EfficientNet's MBConv: block = [expand,] depthwise,
    [SE,] project."""
    units = list(m.block)
    expand = units[0] if len(units) == 4 or (len(units) == 3 and not _is_se(units[1])) else None
    rest = units[1:] if expand is not None else units
    depthwise, project = rest[0], rest[-1]
    se = rest[1] if len(rest) == 3 else None
    unit = _conv_norm_act(depthwise, c_in)
    sd = getattr(m, "stochastic_depth", None)
    return {
        "out_channels": project[0].out_channels,
        "expanded_channels": depthwise[0].out_channels if expand is not None else None,
        "kernel_size": unit["kernel_size"],
        "stride": unit["stride"],
        "activation": unit["activation"],
        "se_channels": se.fc1.out_channels if se is not None else 0,
        "se_activation": _activation_name(se.activation) if se is not None else "SiLU",
        "se_gate": _activation_name(se.scale_activation) if se is not None else "Sigmoid",
        "stochastic_depth_prob": float(sd.p) if sd is not None else 0.0,
        "eps": unit["eps"],
        "momentum": unit["momentum"],
    }


def _fused_mb_conv(m, c_in):
    units = list(m.block)
    first = _conv_norm_act(units[0], c_in)
    return {
        "out_channels": units[-1][0].out_channels,
        "expanded_channels": units[0][0].out_channels if len(units) == 2 else None,
        "kernel_size": first["kernel_size"],
        "stride": first["stride"],
        "activation": first["activation"],
        "stochastic_depth_prob": float(m.stochastic_depth.p),
        "eps": first["eps"],
        "momentum": first["momentum"],
    }


def _mnas_inverted(m, c_in):
    """MNASNet's _InvertedResidual: MBConv with ReLU, no SE, always an expansion."""
    expand, depthwise, project, bn = m.layers[0], m.layers[3], m.layers[6], m.layers[1]
    return {
        "out_channels": project.out_channels,
        "expanded_channels": expand.out_channels,
        "kernel_size": depthwise.kernel_size[0],
        "stride": depthwise.stride[0],
        "activation": "ReLU",
        "eps": float(bn.eps),
        "momentum": float(bn.momentum),
    }


def _shuffle_unit(m, c_in):
    return {"out_channels": 2 * m.branch2[0].out_channels, "stride": m.stride}


def _regnet_bottleneck(m, c_in):
    out, width, b = m.f.c[0].out_channels, m.f.a[0].out_channels, m.f.b[0]
    return {
        "out_channels": out,
        "stride": b.stride[0],
        "group_width": width // b.groups,
        "bottleneck_multiplier": width / out,
        "se_channels": m.f.se.fc1.out_channels if "se" in m.f._modules else 0,
    }


def _is_se(m) -> bool:
    return type(m).__name__ == "SqueezeExcitation"


def _cn_block(m, c_in):
    scale = m.layer_scale.detach()
    equal = bool((scale == scale.flatten()[0]).all())  # untrained: its init; else torchvision's
    return {
        "layer_scale": float(scale.flatten()[0]) if equal else 1e-6,
        "stochastic_depth_prob": float(m.stochastic_depth.p),
    }


# Where the tensors of a child whose modules do not pair with ours in order (CNBlock holds its
# layer scale itself, before its layers): our key -> the child's.
_CN_BLOCK_KEYS = {
    "dwconv.weight": "block.0.weight",
    "dwconv.bias": "block.0.bias",
    "norm.weight": "block.2.weight",
    "norm.bias": "block.2.bias",
    "pwconv1.weight": "block.3.weight",
    "pwconv1.bias": "block.3.bias",
    "pwconv2.weight": "block.5.weight",
    "pwconv2.bias": "block.5.bias",
    "layer_scale.scale": "layer_scale",
}

# (module of the torchvision class, class name) -> (our block type, params from the child)
_CANDIDATES: dict[tuple[str, str], tuple[str, Callable]] = {
    ("torchvision.models.resnet", "BasicBlock"): ("ResidualBasicBlock", _basic),
    ("torchvision.models.resnet", "Bottleneck"): ("ResidualBottleneck", _bottleneck),
    ("torchvision.models.squeezenet", "Fire"): ("FireModule", _fire),
    ("torchvision.models.mobilenetv2", "InvertedResidual"): ("InvertedResidual", _inverted),
    ("torchvision.models.googlenet", "Inception"): ("InceptionModule", _inception),
    ("torchvision.models.densenet", "_DenseBlock"): ("DenseBlock", _dense_block),
    ("torchvision.models.densenet", "_Transition"): ("DenseTransition", _transition),
    ("torchvision.ops.misc", "Conv2dNormActivation"): ("ConvBNAct", _conv_norm_act),
    ("torchvision.models.googlenet", "BasicConv2d"): ("ConvBNAct", _basic_conv),
    ("torchvision.models.inception", "BasicConv2d"): ("ConvBNAct", _basic_conv),
    ("torchvision.models.convnext", "CNBlock"): ("ConvNeXtBlock", _cn_block),
    ("torchvision.ops.misc", "SqueezeExcitation"): ("SqueezeExcitation", _squeeze_excitation),
    ("torchvision.models.mobilenetv3", "InvertedResidual"): ("MBConv", _mb_conv),
    ("torchvision.models.efficientnet", "MBConv"): ("MBConv", _mb_conv),
    ("torchvision.models.efficientnet", "FusedMBConv"): ("FusedMBConv", _fused_mb_conv),
    ("torchvision.models.mnasnet", "_InvertedResidual"): ("MBConv", _mnas_inverted),
    ("torchvision.models.shufflenetv2", "InvertedResidual"): ("ShuffleUnit", _shuffle_unit),
    ("torchvision.models.regnet", "ResBottleneckBlock"): ("RegNetBottleneck", _regnet_bottleneck),
    ("torchvision.models.regnet", "SimpleStemIN"): ("ConvBNAct", _conv_norm_act),
    ("torchvision.models.inception", "InceptionA"): (
        "InceptionA",
        lambda m, c_in: {"pool_features": m.branch_pool.conv.out_channels},
    ),
    ("torchvision.models.inception", "InceptionB"): ("InceptionB", lambda m, c_in: {}),
    ("torchvision.models.inception", "InceptionC"): (
        "InceptionC",
        lambda m, c_in: {"channels_7x7": m.branch7x7_1.conv.out_channels},
    ),
    ("torchvision.models.inception", "InceptionD"): ("InceptionD", lambda m, c_in: {}),
    ("torchvision.models.inception", "InceptionE"): ("InceptionE", lambda m, c_in: {}),
}
_KEYS: dict[str, dict[str, str]] = {"ConvNeXtBlock": _CN_BLOCK_KEYS}


def is_candidate(module) -> bool:
    """Is `module` of a class that may be one of our composite blocks?"""
    return (type(module).__module__, type(module).__name__) in _CANDIDATES


def _randomized(module, seed: int):
    """A copy with every tensor random (BatchNorm variances positive), for the proof."""
    import torch

    g = torch.Generator().manual_seed(seed)
    copy_ = copy.deepcopy(module).eval()
    with torch.no_grad():
        for name, t in copy_.state_dict().items():
            if not t.is_floating_point():
                continue
            if name.endswith("running_var") or (t.dim() == 1 and name.endswith("weight")):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)  # variances and BN scales
            elif t.dim() > 1:  # kernels: activations keep their scale through deep blocks
                t.copy_(torch.randn(t.shape, generator=g) / t[0].numel() ** 0.5)
            else:
                t.copy_(torch.randn(t.shape, generator=g) * 0.1)
    return copy_


def match_composite(child, in_shape: tuple[int, ...]) -> Composite | None:
    """Our composite block equal to `child` at this input shape (with batch), or None."""
    import torch

    from designer.core.registry import get_spec
    from designer.layers import block_modules

    entry = _CANDIDATES.get((type(child).__module__, type(child).__name__))
    if entry is None or len(in_shape) != 4:
        return None
    type_name, read = entry
    try:
        params = get_spec(type_name).resolve(read(child, in_shape[1]))
    except (AttributeError, IndexError, KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if get_spec(type_name).param_problems(params):
        return None
    ours = getattr(block_modules, type_name)(in_shape[1], **params).eval()
    theirs = _randomized(child, seed=0)
    source = theirs.state_dict()
    shapes = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    try:
        if type_name in _KEYS:
            mapped = {k: source[theirs_key] for k, theirs_key in _KEYS[type_name].items()}
            if any(tuple(mapped[k].shape) != shape for k, shape in shapes.items()):
                return None
        else:
            mapped = map_by_structure(source, shapes, type(child).__name__)
    except (WeightsError, KeyError):
        return None
    if set(mapped) != set(ours.state_dict()) or len(source) != len(mapped):
        return None
    ours.load_state_dict(mapped, strict=True)
    x = torch.randn(1, *in_shape[1:], generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        try:
            want, got = theirs(x.clone()), ours(x.clone())
        except (RuntimeError, TypeError, ValueError):
            return None
    if want.shape != got.shape or not torch.isfinite(want).all():
        return None  # a different block, or no proof either way
    scale = want.abs().max().clamp_min(1e-12)
    if ((want - got).abs().max() / scale).item() > 1e-5:
        return None
    ids = {id(t): k for k, t in source.items()}
    key_map = {ours_key: ids[id(t)] for ours_key, t in mapped.items()}
    return Composite(type_name, params, key_map)
