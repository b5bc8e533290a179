"""Turning user text into safe Python: identifiers for submodules and classes, safe doc text.

No user text ever becomes code as is: names are reduced to [a-z0-9_] (or CamelCase for classes),
made unique, and kept clear of keywords, nn.Module attributes and the names the file uses.
"""

from __future__ import annotations

import keyword
import re
import unicodedata

# Public attributes of torch.nn.Module (a submodule named like one would shadow it).
_MODULE_ATTRS = frozenset(
    [
        "T_destination",
        "add_module",
        "apply",
        "bfloat16",
        "buffers",
        "call_super_init",
        "children",
        "compile",
        "cpu",
        "cuda",
        "double",
        "dump_patches",
        "eval",
        "extra_repr",
        "float",
        "forward",
        "get_buffer",
        "get_extra_state",
        "get_parameter",
        "get_submodule",
        "half",
        "ipu",
        "load_state_dict",
        "modules",
        "mtia",
        "named_buffers",
        "named_children",
        "named_modules",
        "named_parameters",
        "parameters",
        "register_backward_hook",
        "register_buffer",
        "register_forward_hook",
        "register_forward_pre_hook",
        "register_full_backward_hook",
        "register_full_backward_pre_hook",
        "register_load_state_dict_post_hook",
        "register_load_state_dict_pre_hook",
        "register_module",
        "register_parameter",
        "register_state_dict_post_hook",
        "register_state_dict_pre_hook",
        "requires_grad_",
        "set_extra_state",
        "set_submodule",
        "share_memory",
        "state_dict",
        "to",
        "to_empty",
        "train",
        "training",
        "type",
        "xpu",
        "zero_grad",
    ]
)
# Names the generated file itself uses in forward() and at module level.
_FILE_NAMES = frozenset(
    {
        "self",
        "torch",
        "nn",
        "Tensor",
        "x",
        "out",
        "model",
        "build_model",
        "super",
        "print",
        "tuple",
        "int",
        "float",
        "list",
    }
)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _reserved(name: str) -> bool:
    return (
        keyword.iskeyword(name)
        or keyword.issoftkeyword(name)
        or name in _FILE_NAMES
        or re.fullmatch(r"x\d+", name) is not None
    )


def attr_name(text: str, taken: set[str], fallback: str = "layer") -> str:
    """A unique snake_case attribute name for a node; adds it to `taken`."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", _ascii(text)).strip("_").lower()
    name = (
        re.sub(r"_+", "_", name)
        or re.sub(r"[^0-9a-z]+", "_", fallback.lower()).strip("_")
        or "layer"
    )
    if name[0].isdigit():
        name = f"layer{name}"
    if _reserved(name) or name in _MODULE_ATTRS:
        name += "_"
    base, i = name, 2
    while name in taken:
        name = f"{base}_{i}" if not base.endswith("_") else f"{base}{i}"
        i += 1
    taken.add(name)
    return name


def class_name(text: str, taken: set[str], fallback: str = "Network") -> str:
    """A unique CamelCase class name; adds it to `taken`."""
    parts = re.split(r"[^0-9a-zA-Z]+", _ascii(text))
    name = "".join(p[:1].upper() + p[1:] for p in parts if p) or fallback
    if name[0].isdigit():
        name = f"{fallback}{name}"
    if keyword.iskeyword(name) or name in _FILE_NAMES:
        name += "_"
    base, i = name, 2
    while name in taken:
        name = f"{base}{i}"
        i += 1
    taken.add(name)
    return name


def local_name(base: str, in_use: set[str]) -> str:
    """A forward() variable named `base` (an attribute name or part of one), clear of the
    names the file uses and of the variables in `in_use`."""
    name = base + "_" if _reserved(base) and base != "out" else base
    stem, i = name, 2
    while name in in_use:
        name = f"{stem}_{i}" if not stem.endswith("_") else f"{stem}{i}"
        i += 1
    return name


def doc_text(text: str) -> str:
    """User text made safe for a docstring or comment: printable ASCII, no double quotes or
    backslashes (so it cannot close the docstring), no newlines (so it cannot end the comment).
    Never shortened: a docstring wraps, and a cut would end it mid-sentence."""
    clean = re.sub(r"[^A-Za-z0-9 .,;:()/+*=<>?!%&@#'\-\[\]]", " ", _ascii(text))
    return re.sub(r"\s+", " ", clean).strip()
