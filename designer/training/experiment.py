"""Experiments: one base design, the factors to vary, how to combine them and how many seeds;
every combination is trained as an ordinary run directory (designer.training.experiment_run).

The experiment file is JSON with a `format` and a `version`, migrated forward on load like
designs (designer.core.serialization); loading returns a whole experiment or raises one
ExperimentError naming the file and the place of the first problem:

    {"format": "netdesigner-experiment", "version": 1,
     "title": "...", "description": "what the course found",
     "base": {"template": "thesis_fcn", "options": {"dropout": false}},  # or {"design": "x.json"}
     "settings": {"optimizer": "sgd", "momentum": 0.9},    # training settings (TrainConfig)
     "edits": {"conv1.out_channels": 48},                  # NODE.PARAM: value
     "factors": [
        {"name": "lr", "setting": "lr", "levels": [0.02, 0.04, 0.08]},
        {"name": "change", "levels": [{"label": "none", "options": {"variant": "plain"}},
                                      {"label": "BN", "options": {"variant": "batchnorm"}}]}],
     "combine": "grid",     # every combination; "list" + "combinations": [{"lr": "0.02", ...}]
                            # names them; "random" + "samples": N (+ "sample_seed") draws N
     "seeds": 1,            # or [0, 1, 2]: each combination once per seed (mean ± spread)
     "offline": {"note": "...", "settings": {"dataset": "digits"}, "edits": {...}}}

A factor names one target ("option": a template option, "setting": a training setting, "edit":
NODE.PARAM) and lists its values (a value can be labelled: {"label": "on", "value": {...}}), or
lists levels that each set several things ("options", "settings", "edits"), such as seed 001's
table of shift/scale mode pairs. What the levels set wins over "offline", which wins over the
base. "offline" is used when the dataset of the settings is not on this machine (CIFAR-10's
files absent: digits instead, at a reduced size); its "factors" replace factors of the same name
and labels (e.g. augmentation without flips for digits).
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from itertools import product
from pathlib import Path
from typing import Any

from designer.core.design import Design

FORMAT = "netdesigner-experiment"
VERSION = 1
SUFFIX = ".json"
SHIPPED_FOLDER = "experiments"  # inside the designer_templates package (templates/experiments)

# version N -> function turning a version-N dict into a version N+1 dict.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}

COMBINE = ("grid", "list", "random")
TARGETS = ("option", "setting", "edit")
_TOP_KEYS = (
    "format",
    "version",
    "name",
    "title",
    "description",
    "base",
    "settings",
    "edits",
    "factors",
    "combine",
    "combinations",
    "samples",
    "sample_seed",
    "seeds",
    "offline",
)
_CHANGE_KEYS = ("options", "settings", "edits")
_NAME_OK = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")


class ExperimentError(Exception):
    """An experiment that cannot be used as asked; the message names the file and the place."""


class _Bad(Exception):
    """A problem at a place in the file; becomes ExperimentError with the file's name."""


@dataclass(frozen=True)
class Change:
    """What a level (or the base, or the offline variant) sets."""

    options: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    edits: Mapping[str, Any] = field(default_factory=dict)  # "node.param" -> value

    def over(self, base: Change) -> Change:
        """This change on top of ``base``."""
        return Change(
            **{f.name: {**getattr(base, f.name), **getattr(self, f.name)} for f in fields(self)}
        )


@dataclass(frozen=True)
class Level:
    label: str
    change: Change


@dataclass(frozen=True)
class Factor:
    name: str
    levels: tuple[Level, ...]

    def level(self, label: str) -> Level | None:
        return next((lv for lv in self.levels if lv.label == label), None)


@dataclass(frozen=True)
class PlannedRun:
    """One run of an experiment: a level of every factor, and a seed."""

    levels: tuple[tuple[str, Level], ...]  # (factor name, level), in the file's factor order
    seed: int

    @property
    def labels(self) -> dict[str, str]:
        return {name: level.label for name, level in self.levels}

    @property
    def combination(self) -> str:
        """factor=label,... (the run's name without its seed; the same for every seed)."""
        return ",".join(f"{name}={_slug(level.label)}" for name, level in self.levels)

    @property
    def name(self) -> str:
        """The run directory's name: after its factors and seed."""
        return f"{self.combination},seed={self.seed}" if self.levels else f"seed={self.seed}"


@dataclass(frozen=True)
class Offline:
    note: str
    change: Change
    factors: Mapping[str, Factor]  # replacements, by name


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    description: str
    source: str  # the file it was read from (for messages)
    template: str | None  # the base: a template with options...
    design_path: Path | None  # ...or a design file
    base: Change
    factors: tuple[Factor, ...]
    combine: str
    combinations: tuple[Mapping[str, str], ...]  # "list": factor name -> level label
    samples: int
    sample_seed: int
    seeds: tuple[int, ...]
    offline: Offline | None
    data: Mapping[str, Any] = field(default_factory=dict, compare=False)  # the file's contents
    # The base design in memory (the app's design as it is now), used instead of reading
    # design_path; see with_design.
    base_design: Design | None = field(default=None, compare=False)

    def with_design(self, design: Design) -> Experiment:
        """This experiment on ``design`` instead of its base design file (an experiment whose
        base is a design file; e.g. the app checking its form against the unsaved design)."""
        from dataclasses import replace

        if self.design_path is None:
            raise ExperimentError(f"{self.source}: the base is a template, not a design file")
        return replace(self, base_design=design)

    # -- what runs --------------------------------------------------------------------------
    def factors_for(self, offline: bool) -> tuple[Factor, ...]:
        if not offline or self.offline is None:
            return self.factors
        return tuple(self.offline.factors.get(f.name, f) for f in self.factors)

    def plan(self, offline: bool = False) -> list[PlannedRun]:
        """Every run, combination by combination, each with every seed."""
        factors = self.factors_for(offline)
        names = [f.name for f in factors]
        if self.combine == "list":
            chosen = [tuple(f.level(combo[f.name]) for f in factors) for combo in self.combinations]
        else:
            chosen = list(product(*(f.levels for f in factors)))
            if self.combine == "random":
                chosen = random.Random(self.sample_seed).sample(chosen, self.samples)
        return [
            PlannedRun(tuple(zip(names, levels, strict=True)), seed)
            for levels in chosen
            for seed in self.seeds
        ]

    def change_for(self, run: PlannedRun, offline: bool) -> Change:
        change = self.base
        if offline and self.offline is not None:
            change = self.offline.change.over(change)
        for _, level in run.levels:
            change = level.change.over(change)
        return change

    # -- building -----------------------------------------------------------------------------
    def build(self, run: PlannedRun, offline: bool = False, data_dir: str | None = None):
        """(design, TrainConfig) of one run; ExperimentError names the run and the problem."""
        from designer.training.config import ConfigError, config_for_design

        change = self.change_for(run, offline)
        where = f"{self.source}: the run {run.name}"
        design = self._design(change.options, where)
        apply_edits(design, change.edits, where)
        _require_valid(design, where)
        settings = {**change.settings, "seed": run.seed}
        if data_dir is not None:
            settings["data_dir"] = data_dir
        try:
            return design, config_for_design(design, settings)
        except ConfigError as exc:
            raise ExperimentError(f"{where}: {exc}") from None

    def _design(self, options: Mapping[str, Any], where: str) -> Design:
        from designer.core.errors import DesignFileError
        from designer.core.serialization import load_design
        from designer.templates import TemplateOptionError, get_template, new_from_template

        if self.base_design is not None:
            from designer.core.serialization import clone

            return clone(self.base_design)
        if self.design_path is not None:
            try:
                return load_design(self.design_path)
            except DesignFileError as exc:
                raise ExperimentError(f"{self.source}: the base design: {exc}") from None
        assert self.template is not None
        t = get_template(self.template)
        try:
            return new_from_template(self.template, **template_options(t, options))
        except TemplateOptionError as exc:
            raise ExperimentError(f"{where}: {exc}") from None

    def dataset(self, data_dir: str | None = None) -> tuple[str, str | None]:
        """(dataset, data_dir) of the base settings, before any offline change: what decides
        whether the offline variant is needed."""
        from designer.training.config import ConfigError, config_for_design

        design = self._design(self.base.options, f"{self.source}: the base")
        settings = dict(self.base.settings)
        if data_dir is not None:
            settings["data_dir"] = data_dir
        try:
            config = config_for_design(design, settings)
        except ConfigError as exc:
            raise ExperimentError(f"{self.source}: the base settings: {exc}") from None
        return config.dataset, config.data_dir

    def needs_offline(self, data_dir: str | None = None) -> bool:
        """Whether the base dataset's files are missing here and an offline variant exists."""
        from designer.data.sources import is_on_this_machine

        if self.offline is None:
            return False
        dataset, where = self.dataset(data_dir)
        return not is_on_this_machine(dataset, where)

    def check(self, offline: bool = False) -> list[PlannedRun]:
        """Build every run's design and settings (nothing trains); returns the plan."""
        plan = self.plan(offline)
        for run in plan:
            self.build(run, offline)
        return plan


# -- applying changes ---------------------------------------------------------------------------
def template_options(t, options: Mapping[str, Any]) -> dict[str, Any]:
    """JSON values as a template's options: a list becomes a tuple where the default is one;
    types are checked (TemplateOptionError names the option; new_from_template checks the
    names)."""
    from designer.templates import TemplateOptionError, option_defaults

    defaults = option_defaults(t)
    out = {}
    for key, value in options.items():
        if key not in defaults:
            out[key] = value
            continue
        default = defaults[key]
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        if not _same_kind(default, value):
            raise TemplateOptionError(
                f"option {key} of {t.name} must be {_kind(default)}, got {value!r}"
            )
        out[key] = value
    return out


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def _kind(default: Any) -> str:
    names = {
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "text",
        tuple: "a list",
    }
    return names.get(type(default), type(default).__name__)


def apply_edits(design: Design, edits: Mapping[str, Any], where: str) -> None:
    """Set NODE.PARAM values of top-level nodes (by name or id), each checked like an edit in
    the inspector; ExperimentError names the edit."""
    from designer.core.registry import get_spec

    for key, value in edits.items():
        node_name, _, param = key.rpartition(".")
        node = design.find(node_name)
        if node is None:
            names = ", ".join(n.name for n in design.nodes.values())
            raise ExperimentError(
                f"{where}: the edit {key}: the design has no node {node_name!r} "
                f"(its nodes: {names})"
            )
        spec = get_spec(node.type)
        try:
            problem = spec.param(param).check(value)
        except KeyError:
            known = ", ".join(p.name for p in spec.params) or "none"
            raise ExperimentError(
                f"{where}: the edit {key}: {node.type} has no parameter "
                f"{param!r} (its parameters: {known})"
            ) from None
        if problem:
            raise ExperimentError(f"{where}: the edit {key}: {param} {problem}")  # names value
        design.set_node_attr(node.id, "params", {**node.params, param: value})


def _require_valid(design: Design, where: str) -> None:
    from designer.core.analysis import analyze

    problems = analyze(design).problems
    if problems:
        shown = "; ".join(str(p) for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ExperimentError(f"{where}: the design has {len(problems)} problem(s): {shown}{more}")


def _slug(label: str) -> str:
    """A label as part of a folder name: letters, digits and . _ + - only."""
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", label).strip("_") or "_"


def label_of(value: Any) -> str:
    """How a level's value is named: 0.02, true, plain, 16x32."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "x".join(label_of(v) for v in value)
    if value is None:
        return "none"
    return str(value)


# -- reading ------------------------------------------------------------------------------------
def _need(obj: Mapping, key: str, types: type | tuple, where: str, default: Any = ...) -> Any:
    if key not in obj:
        if default is not ...:
            return default
        raise _Bad(f"{where}: the field '{key}' is missing")
    value = obj[key]
    allowed = types if isinstance(types, tuple) else (types,)
    if (isinstance(value, bool) and bool not in allowed) or not isinstance(value, allowed):
        names = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in allowed)
        raise _Bad(f"{where}: '{key}' must be {names}, got {json.dumps(value)[:60]}")
    return value


_TYPE_NAMES = {
    dict: "an object",
    list: "an array",
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
}


def _only_keys(obj: Mapping, known: tuple[str, ...], where: str) -> None:
    unknown = [k for k in obj if k not in known]
    if unknown:
        raise _Bad(f"{where}: unknown field '{unknown[0]}'; the fields are: {', '.join(known)}")


def _read_change(obj: Mapping, where: str) -> Change:
    options = _need(obj, "options", dict, where, default={})
    settings = _need(obj, "settings", dict, where, default={})
    edits = _need(obj, "edits", dict, where, default={})
    _check_settings(settings, f"{where} settings")
    for key in edits:
        node, _, param = key.rpartition(".")
        if not node or not param:
            raise _Bad(f"{where} edits: {key!r} must be NODE.PARAM, e.g. conv1.out_channels")
    return Change(dict(options), dict(settings), dict(edits))


def _check_settings(settings: Mapping, where: str) -> None:
    from designer.training.config import TrainConfig

    known = [f.name for f in fields(TrainConfig)]
    for key in settings:
        if key not in known:
            raise _Bad(
                f"{where}: unknown training setting '{key}'; the settings are: {', '.join(known)}"
            )
        if key == "seed":
            raise _Bad(f"{where}: the seed is set by the experiment's 'seeds', not as a setting")


def _read_factor(raw: Any, where: str) -> Factor:
    if not isinstance(raw, dict):
        raise _Bad(f"{where}: a factor must be an object with a name and levels")
    name = _need(raw, "name", str, where)
    where = f"{where} ({name})"
    if not _NAME_OK.match(name) or name == "seed":
        raise _Bad(
            f"{where}: a factor's name is letters, digits and _ . + - (and not 'seed'), "
            f"got {name!r}"
        )
    targets = [t for t in TARGETS if t in raw]
    _only_keys(raw, ("name", "levels", *TARGETS), where)
    if len(targets) > 1:
        raise _Bad(
            f"{where}: a factor varies one of {', '.join(TARGETS)}, not both "
            f"{targets[0]} and {targets[1]}"
        )
    raw_levels = _need(raw, "levels", list, where)
    if not raw_levels:
        raise _Bad(f"{where}: 'levels' is empty; a factor needs at least one level")
    levels = []
    for i, value in enumerate(raw_levels):
        at = f"{where} levels[{i}]"
        if targets:
            levels.append(_target_level(targets[0], _need(raw, targets[0], str, where), value, at))
        else:
            if not isinstance(value, dict):
                raise _Bad(
                    f"{at}: without 'option', 'setting' or 'edit' the factor's levels are "
                    f"objects with a label and options / settings / edits"
                )
            _only_keys(value, ("label", *_CHANGE_KEYS), at)
            label = _need(value, "label", str, at)
            levels.append(Level(label, _read_change(value, f"{at} ({label})")))
    labels = [lv.label for lv in levels]
    for label in labels:
        if labels.count(label) > 1 or [_slug(x) for x in labels].count(_slug(label)) > 1:
            raise _Bad(
                f"{where}: two levels are named {label!r} (in a run's name); label them apart"
            )
    return Factor(name, tuple(levels))


def _target_level(target: str, key: str, value: Any, where: str) -> Level:
    label = None
    if isinstance(value, dict) and set(value) <= {"label", "value"} and "value" in value:
        label = _need(value, "label", str, where, default=None)
        value = value["value"]
    if target == "setting":
        _check_settings({key: value}, where)
        change = Change(settings={key: value})
    elif target == "option":
        change = Change(options={key: value})
    else:
        _read_change({"edits": {key: value}}, where)
        change = Change(edits={key: value})
    if label is None:
        if isinstance(value, dict):
            raise _Bad(f'{where}: an object value needs a label: {{"label": ..., "value": ...}}')
        label = label_of(value)
    return Level(label, change)


def _read_seeds(raw: Any, where: str) -> tuple[int, ...]:
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw < 1:
            raise _Bad(f"{where}: 'seeds' must be at least 1 (the number of seeds), got {raw}")
        return tuple(range(raw))
    ok = (
        isinstance(raw, list)
        and raw
        and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in raw)
    )
    if not ok or len(set(raw)) != len(raw):
        raise _Bad(
            f"{where}: 'seeds' must be a number of seeds or a list of different whole "
            f"numbers from 0, got {json.dumps(raw)[:60]}"
        )
    return tuple(raw)


def _read_base(raw: dict, folder: Path) -> tuple[str | None, Path | None, dict]:
    from designer.templates import UnknownTemplate, get_template

    base = _need(raw, "base", dict, "experiment")
    _only_keys(base, ("template", "options", "design"), "base")
    if ("template" in base) == ("design" in base):
        raise _Bad("base: name a 'template' (with 'options') or a 'design' file, one of the two")
    if "design" in base:
        if base.get("options"):
            raise _Bad("base: 'options' go with a template; a design file is used as it is")
        path = Path(_need(base, "design", str, "base"))
        return None, path if path.is_absolute() else folder / path, {}
    name = _need(base, "template", str, "base")
    try:
        get_template(name)
    except UnknownTemplate as exc:
        raise _Bad(f"base: {exc.args[0]}") from None
    return name, None, dict(_need(base, "options", dict, "base", default={}))


def experiment_from_dict(
    data: Any, source: str = "<experiment>", folder: Path | None = None
) -> Experiment:
    try:
        return _from_dict(data, source, folder or Path("."))
    except _Bad as exc:
        raise ExperimentError(f"{source}: {exc}") from None


def _from_dict(data: Any, source: str, folder: Path) -> Experiment:
    if not isinstance(data, dict):
        raise _Bad("the file must hold a JSON object")
    if data.get("format") != FORMAT:
        raise _Bad(
            f"this is not a Network Designer experiment (format is "
            f"{data.get('format')!r}, expected '{FORMAT}')"
        )
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise _Bad(f"'version' must be a whole number, got {version!r}")
    if version > VERSION:
        raise _Bad(
            f"it was written by a newer Network Designer (file version {version}; this "
            f"version reads up to {VERSION}); update Network Designer to run it"
        )
    original = data
    while version < VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    _only_keys(data, _TOP_KEYS, "experiment")
    template, design_path, options = _read_base(data, folder)
    base = _read_change(
        {
            "options": options,
            "settings": _need(data, "settings", dict, "experiment", default={}),
            "edits": _need(data, "edits", dict, "experiment", default={}),
        },
        "base",
    )
    factors = tuple(
        _read_factor(f, f"factors[{i}]")
        for i, f in enumerate(_need(data, "factors", list, "experiment", default=[]))
    )
    names = [f.name for f in factors]
    for name in names:
        if names.count(name) > 1:
            raise _Bad(f"factors: two factors are named {name!r}")
    combine = _need(data, "combine", str, "experiment", default="grid")
    if combine not in COMBINE:
        raise _Bad(f"'combine' must be one of {', '.join(COMBINE)}, got {combine!r}")
    combinations = _read_combinations(data, combine, factors)
    grid = math.prod(len(f.levels) for f in factors)
    samples = _need(data, "samples", int, "experiment", default=0)
    if combine == "random" and not 1 <= samples <= grid:
        raise _Bad(
            f"'samples' must be from 1 to {grid} (the combinations of the factors) when "
            f"'combine' is random, got {samples}"
        )
    if combine != "random" and ("samples" in data or "sample_seed" in data):
        raise _Bad("'samples' and 'sample_seed' go with \"combine\": \"random\"")
    offline = _read_offline(data.get("offline"), factors)
    if design_path is not None:
        _no_options(factors, offline)
    stem = _slug(Path(source).stem) if source.endswith(SUFFIX) else "experiment"
    name = _need(data, "name", str, "experiment", default=stem)
    if not _NAME_OK.match(name):
        raise _Bad(
            f"'name' is the name of the experiment's folder of runs: letters, digits and "
            f"_ . + -, got {name!r}"
        )
    return Experiment(
        name=name,
        title=_need(data, "title", str, "experiment", default=stem),
        description=_need(data, "description", str, "experiment", default=""),
        source=source,
        template=template,
        design_path=design_path,
        base=base,
        factors=factors,
        combine=combine,
        combinations=combinations,
        samples=samples,
        sample_seed=_need(data, "sample_seed", int, "experiment", default=0),
        seeds=_read_seeds(data.get("seeds", 1), "experiment"),
        offline=offline,
        data=original,
    )


def _no_options(factors: tuple[Factor, ...], offline: Offline | None) -> None:
    """Template options mean nothing to a design file: refuse them rather than ignore them."""
    changes = [
        (f"factor {f.name}, level {lv.label!r}", lv.change) for f in factors for lv in f.levels
    ]
    changes += [
        (f"offline factor {f.name}, level {lv.label!r}", lv.change)
        for f in (offline.factors.values() if offline else ())
        for lv in f.levels
    ]
    if offline is not None:
        changes.append(("offline", offline.change))
    for where, change in changes:
        if change.options:
            raise _Bad(
                f"{where}: sets template options, but the base is a design file; vary "
                f"its nodes with edits instead"
            )


def _read_combinations(data: dict, combine: str, factors: tuple[Factor, ...]):
    if combine != "list":
        if "combinations" in data:
            raise _Bad('\'combinations\' go with "combine": "list"')
        return ()
    raw = _need(data, "combinations", list, "experiment")
    if not raw:
        raise _Bad("'combinations' is empty; list at least one")
    by_name = {f.name: f for f in factors}
    out = []
    for i, combo in enumerate(raw):
        where = f"combinations[{i}]"
        if not isinstance(combo, dict):
            raise _Bad(f"{where}: must be an object of factor name -> level")
        missing = [name for name in by_name if name not in combo]
        unknown = [name for name in combo if name not in by_name]
        if unknown or missing:
            what = (
                f"names no factor {unknown[0]!r}"
                if unknown
                else f"has no level for the factor {missing[0]!r}"
            )
            raise _Bad(
                f"{where}: {what}; each combination names a level of each factor "
                f"({', '.join(by_name)})"
            )
        labels = {}
        for name, value in combo.items():
            label = value if isinstance(value, str) else label_of(value)
            if by_name[name].level(label) is None:
                known = ", ".join(lv.label for lv in by_name[name].levels)
                raise _Bad(
                    f"{where}: the factor {name} has no level {label!r} (its levels: {known})"
                )
            labels[name] = label
        if labels in out:
            raise _Bad(f"{where}: this combination is listed twice")
        out.append(labels)
    return tuple(out)


def _read_offline(raw: Any, factors: tuple[Factor, ...]) -> Offline | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _Bad("'offline' must be an object (note, options, settings, edits, factors)")
    _only_keys(raw, ("note", *_CHANGE_KEYS, "factors"), "offline")
    change = _read_change(raw, "offline")
    by_name = {f.name: f for f in factors}
    replaced = {}
    for i, item in enumerate(_need(raw, "factors", list, "offline", default=[])):
        factor = _read_factor(item, f"offline factors[{i}]")
        if factor.name not in by_name:
            raise _Bad(
                f"offline factors[{i}]: replaces a factor by name, and there is no factor "
                f"{factor.name!r}"
            )
        if [lv.label for lv in factor.levels] != [lv.label for lv in by_name[factor.name].levels]:
            raise _Bad(
                f"offline factors[{i}] ({factor.name}): the replacement needs the same "
                f"level labels as the factor, in order, so the runs keep their names"
            )
        replaced[factor.name] = factor
    return Offline(_need(raw, "note", str, "offline", default=""), change, replaced)


def loads(text: str, source: str = "<experiment>", folder: Path | None = None) -> Experiment:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExperimentError(
            f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    return experiment_from_dict(data, source, folder)


def load_experiment(path: str | Path) -> Experiment:
    """Read an experiment file; every failure is one ExperimentError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExperimentError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ExperimentError(f"{path}: is a folder, not an experiment file") from None
    except UnicodeDecodeError as exc:
        raise ExperimentError(f"{path}: not a text file (bad UTF-8 at byte {exc.start})") from None
    except OSError as exc:
        raise ExperimentError(f"{path}: cannot be read ({exc.strerror})") from None
    return loads(text, str(path), path.parent)


# -- the shipped experiments --------------------------------------------------------------------
def shipped_folder() -> Path:
    """templates/experiments, installed as designer_templates/experiments."""
    import designer_templates

    return Path(designer_templates.__file__).resolve().parent / SHIPPED_FOLDER


def list_experiments(folder: str | Path | None = None) -> list[Experiment]:
    """The experiments in ``folder`` (default: the shipped ones), by name."""
    folder = Path(folder) if folder is not None else shipped_folder()
    if not folder.is_dir():
        return []
    return sorted((load_experiment(p) for p in folder.glob(f"*{SUFFIX}")), key=lambda e: e.name)


def find_experiment(spec: str, folder: str | Path | None = None) -> Experiment:
    """An experiment file's path, or the name of a shipped experiment."""
    path = Path(spec)
    if path.suffix == SUFFIX or path.exists():
        return load_experiment(path)
    folder = Path(folder) if folder is not None else shipped_folder()
    candidate = folder / f"{spec}{SUFFIX}"
    if candidate.is_file():
        return load_experiment(candidate)
    known = ", ".join(e.name for e in list_experiments(folder)) or "none"
    raise ExperimentError(
        f"{spec}: no such experiment file, and no shipped experiment of that "
        f"name (the shipped ones: {known})"
    )
