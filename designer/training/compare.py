"""Architecture comparison (seed 000's chart after Canziani et al.): accuracy against operations,
with the parameter count as the bubble's size — for the templates (ImageNet top-1 as torchvision
documents it) and for the user's own runs (their test accuracy on their data).

Qt-free; designer.app.plots.compare draws the points, for the app and `netdesigner compare`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from designer.core.analysis import analyze
from designer.core.errors import DesignFileError
from designer.core.serialization import load_design, loads
from designer.core.summary import summarize
from designer.training.rundir import RunDirError
from designer.training.runs import list_runs, read_run, runs_folder_for


class CompareError(ValueError):
    """A path that is neither a design nor a run; the message names it."""


@dataclass(frozen=True)
class Point:
    name: str  # a template's name, or a run's folder name
    label: str  # what the chart writes beside the point
    macs: int  # per sample
    params: int  # learned parameters (as papers and torchvision count them; no statistics)
    accuracy: float  # percent: ImageNet top-1 (templates) or test accuracy (runs)


def template_points() -> list[Point]:
    """Every template torchvision documents an ImageNet top-1 accuracy for."""
    from designer.templates import list_templates

    points = []
    for t in list_templates():
        top1 = (t.accuracy or {}).get("top1")
        if top1 is None:
            continue
        design = t.build()
        points.append(
            Point(t.name, t.title, summarize(design).macs, learned_params(design), float(top1))
        )
    return sorted(points, key=lambda p: p.macs)


def run_point(run_dir: Path) -> Point | None:
    """A finished run with a test accuracy, placed by its own design's size; else None."""
    info = read_run(run_dir)
    if info.test_accuracy is None:
        return None
    design_file = info.path / "design.json"
    try:
        design = loads(design_file.read_text(encoding="utf-8"), str(design_file))
    except (OSError, DesignFileError):
        return None
    return Point(
        info.name,
        f"{info.name} ({design.name})",
        summarize(design).macs,
        learned_params(design),
        100 * info.test_accuracy,
    )


def learned_params(design) -> int:
    """Weights and biases, frozen or not; BatchNorm's running statistics are not counted."""
    return sum(i.trainable_params for i in analyze(design).info.values())


def user_points(paths: list[str | Path]) -> list[Point]:
    """The runs named: a run directory, a folder of runs, or a design file (its runs beside it)."""
    points = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            try:
                load_design(path)
            except DesignFileError as exc:
                raise CompareError(str(exc)) from None
            runs = [r.path for r in list_runs(runs_folder_for(path))]
            if not runs:
                raise CompareError(f"{path} has no runs yet (they go in {runs_folder_for(path)})")
        else:
            try:
                runs = [read_run(path).path]
            except RunDirError:
                runs = [r.path for r in list_runs(path)]
            if not runs:
                raise CompareError(f"{path} is neither a design file, a run nor a folder of runs")
        points += [p for p in (run_point(r) for r in runs) if p is not None]
    return points


def points_json(points: list[Point]) -> str:
    return json.dumps([p.__dict__ for p in points], indent=2)
