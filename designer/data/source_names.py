"""The names of the data sources, without importing torch: the CLI's parser checks and lists
them at every start (the loaders live in designer.data.sources and builtin_datasets)."""

from __future__ import annotations

from pathlib import Path

NAMED_SOURCES = ("digits", "mnist", "fashion_mnist", "cifar10", "cifar100")
FOLDER_PREFIX = "folder:"
KNOWN_SOURCES = (*NAMED_SOURCES, f"{FOLDER_PREFIX}PATH")


def source_problem(spec: str) -> str | None:
    """Why ``spec`` names no data source (None when it does: a name, folder:PATH, or the path
    of an existing folder). Whether a named dataset's files are here is asked when it loads."""
    if not isinstance(spec, str) or not spec.strip():
        return f"no data source given; known sources: {', '.join(KNOWN_SOURCES)}"
    spec = spec.strip()
    if spec.lower().replace("-", "_") in NAMED_SOURCES:
        return None
    if spec.startswith(FOLDER_PREFIX):
        if not spec[len(FOLDER_PREFIX) :].strip():
            return "the data source 'folder:' needs a path, e.g. folder:/home/me/pictures"
        return None
    if Path(spec).expanduser().is_dir():
        return None
    return (
        f"unknown data source '{spec}'; known sources: {', '.join(KNOWN_SOURCES)} "
        f"(or the path of an existing image folder)"
    )
