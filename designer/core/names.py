"""Node names: what a new node is called, and how a name that is taken becomes unique.

Names are what users see and what generated code is written with, so every place that makes
one (adding, pasting, duplicating, grouping, ungrouping, templates) asks here."""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection

# Short base names for new nodes (conv1, fc2...), as people name layers in papers and code.
_BASE_NAMES = {
    "Conv2d": "conv",
    "ConvTranspose2d": "deconv",
    "Linear": "fc",
    "MaxPool2d": "pool",
    "AvgPool2d": "avgpool",
    "GlobalAvgPool": "gap",
    "BatchNorm": "bn",
    "Dropout2d": "dropout",
    "LocalResponseNorm": "lrn",
    "InceptionModule": "inception",
    "ResidualBasicBlock": "res",
    "ResidualBottleneck": "bottleneck",
    "DenseBlock": "denseblock",
    "DenseTransition": "transition",
    "FireModule": "fire",
    "InvertedResidual": "ir",
    "LayerNorm2d": "ln",
    "SqueezeExcitation": "se",
    "DepthwiseSeparableConv": "dwsep",
    "ConvNeXtBlock": "cnblock",
    "FusedMBConv": "fused",
    "ShuffleUnit": "shuffle",
    "RegNetBottleneck": "regnet",
}
# Nodes a graph has one of are not numbered while the plain name is free.
_UNNUMBERED = {
    "Input": "input",
    "ClassificationOutput": "output",
    "RegressionOutput": "output",
    "BlockOutput": "output",
}


def unique_name(base: str, taken: Collection[str]) -> str:
    """`base`, or when it is taken, its stem (trailing digits dropped) numbered from 1 with the
    first number free: conv1 -> conv2, res_fc -> res_fc1."""
    if base not in taken:
        return base
    stem = base.rstrip("0123456789") or base
    return next(f"{stem}{i}" for i in itertools.count(1) if f"{stem}{i}" not in taken)


def new_node_name(type_name: str, taken: Collection[str], block: str = "") -> str:
    """The name of a node added from the palette: input / output while free, else the type's
    short name (or the custom block's name) with the first free number from 1: conv1, conv2."""
    plain = _UNNUMBERED.get(type_name)
    if plain is not None and plain not in taken:
        return plain
    return numbered(block or _BASE_NAMES.get(type_name, type_name.lower()), taken)


def numbered(base: str, taken: Collection[str]) -> str:
    """`base` with the first number from 1 that is free: conv1, conv2... (block1 for a block)."""
    return next(f"{base}{i}" for i in itertools.count(1) if f"{base}{i}" not in taken)


def copy_name(name: str, taken: Collection[str]) -> str:
    """The name of a duplicate: layer1_0 -> layer1_0_copy, then layer1_0_copy2... (a copy of a
    copy is not _copy_copy), so that it does not look like another member of its stage."""
    if name not in taken:
        return name
    base = re.sub(r"_copy\d*$", "", name)
    candidate, i = f"{base}_copy", 2
    while candidate in taken:
        candidate, i = f"{base}_copy{i}", i + 1
    return candidate
