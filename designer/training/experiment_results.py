"""An experiment's results: one row per combination of factor levels, its seeds' runs summed up
(mean ± spread of the best validation accuracy and the test accuracy), best first; as a text
table, and as results.csv and results.json in the experiment's folder."""

from __future__ import annotations

import csv
import io
import json
import statistics
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from designer.core.atomic import atomic_write_text
from designer.training.experiment import Experiment, PlannedRun
from designer.training.rundir import RunDirError, clean_json
from designer.training.runs import read_run

RESULTS_CSV = "results.csv"
RESULTS_JSON = "results.json"
NOT_RUN = "not run"


@dataclass
class ResultRow:
    labels: dict[str, str]  # factor name -> level label
    combination: str  # factor=label,... (the runs' names without the seed)
    runs: list[dict[str, Any]] = field(default_factory=list)  # one per seed
    best_val_accuracy: float | None = None  # mean over the seeds that have one
    best_val_accuracy_std: float | None = None  # sample standard deviation (2+ seeds)
    test_accuracy: float | None = None
    test_accuracy_std: float | None = None
    epochs: float | None = None  # epochs run, mean
    seconds: float | None = None  # training time of a run, mean
    status: str = NOT_RUN  # "completed", or e.g. "2 completed, 1 diverged"


def collect(plan: list[PlannedRun], out: str | Path) -> list[ResultRow]:
    """The rows of the runs in ``plan`` under ``out``, best first: highest mean best-validation
    accuracy, then test accuracy; combinations without results last, in the plan's order."""
    out = Path(out)
    rows: dict[str, ResultRow] = {}
    for run in plan:
        row = rows.setdefault(run.combination, ResultRow(run.labels, run.combination))
        row.runs.append(_run_record(out / run.name, run))
    for row in rows.values():
        _sum_up(row)
    ordered = list(rows.values())
    return sorted(
        ordered,
        key=lambda r: (
            r.best_val_accuracy is None,
            -(r.best_val_accuracy or 0),
            -(r.test_accuracy or 0),
        ),
    )


def _run_record(path: Path, run: PlannedRun) -> dict[str, Any]:
    record: dict[str, Any] = {
        "name": run.name,
        "seed": run.seed,
        "path": str(path),
        "status": NOT_RUN,
        "best_val_accuracy": None,
        "test_accuracy": None,
        "epochs_run": None,
        "seconds": None,
    }
    try:
        info = read_run(path)
    except (RunDirError, OSError):
        return record
    record.update(
        status=info.status,
        best_val_accuracy=info.best_val_accuracy,
        test_accuracy=info.test_accuracy,
        epochs_run=info.epochs_run,
        seconds=info.seconds,
    )
    return record


def _mean_std(values: list[Any]) -> tuple[float | None, float | None]:
    numbers = [float(v) for v in values if v is not None]
    if not numbers:
        return None, None
    spread = statistics.stdev(numbers) if len(numbers) > 1 else None
    return statistics.fmean(numbers), spread


def _sum_up(row: ResultRow) -> None:
    runs = row.runs
    row.best_val_accuracy, row.best_val_accuracy_std = _mean_std(
        [r["best_val_accuracy"] for r in runs]
    )
    row.test_accuracy, row.test_accuracy_std = _mean_std([r["test_accuracy"] for r in runs])
    row.epochs = _mean_std([r["epochs_run"] for r in runs])[0]
    row.seconds = _mean_std([r["seconds"] for r in runs])[0]
    counts: dict[str, int] = {}
    for r in runs:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    row.status = (
        runs[0]["status"]
        if len(counts) == 1
        else ", ".join(f"{n} {status}" for status, n in counts.items())
    )


# -- output -------------------------------------------------------------------------------------
def _percent(mean: float | None, std: float | None) -> str:
    if mean is None:
        return "-"
    return f"{mean:.2%}" if std is None else f"{mean * 100:.2f} ± {std * 100:.2f}%"


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_table(rows: list[ResultRow], factors: list[str]) -> str:
    """The rows as an aligned text table, in their order, ranked."""
    header = ["rank", *factors, "val acc", "test acc", "epochs", "time", "status"]
    lines = []
    for rank, row in enumerate(rows, start=1):
        epochs = "-" if row.epochs is None else f"{row.epochs:g}"
        lines.append(
            [
                str(rank),
                *(row.labels.get(f, "") for f in factors),
                _percent(row.best_val_accuracy, row.best_val_accuracy_std),
                _percent(row.test_accuracy, row.test_accuracy_std),
                epochs,
                format_seconds(row.seconds),
                row.status,
            ]
        )
    widths = [max(len(x) for x in column) for column in zip(header, *lines, strict=True)]
    numeric = {0, len(header) - 5, len(header) - 4, len(header) - 3, len(header) - 2}

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), *(line(cells) for cells in lines)])


CSV_COLUMNS = (
    "seeds",
    "best_val_accuracy",
    "best_val_accuracy_std",
    "test_accuracy",
    "test_accuracy_std",
    "epochs",
    "seconds",
    "status",
    "runs",
)


def csv_text(rows: list[ResultRow], factors: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["rank", *factors, *CSV_COLUMNS])
    for rank, row in enumerate(rows, start=1):
        values = [
            len(row.runs),
            row.best_val_accuracy,
            row.best_val_accuracy_std,
            row.test_accuracy,
            row.test_accuracy_std,
            row.epochs,
            row.seconds,
            row.status,
            ";".join(r["name"] for r in row.runs),
        ]
        writer.writerow(
            [
                rank,
                *(row.labels.get(f, "") for f in factors),
                *("" if v is None else v for v in values),
            ]
        )
    return buffer.getvalue()


def write_results(
    experiment: Experiment, plan: list[PlannedRun], out: str | Path, offline: bool
) -> list[ResultRow]:
    """results.csv and results.json in ``out`` (written atomically); returns the rows."""
    out = Path(out)
    rows = collect(plan, out)
    factors = [name for name, _ in plan[0].levels] if plan else []
    atomic_write_text(out / RESULTS_CSV, csv_text(rows, factors))
    atomic_write_text(
        out / RESULTS_JSON,
        json.dumps(
            clean_json(
                {
                    "name": experiment.name,
                    "title": experiment.title,
                    "offline": offline,
                    "factors": factors,
                    "rows": [{"rank": i, **asdict(r)} for i, r in enumerate(rows, 1)],
                }
            ),
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
    )
    return rows


def read_results(out: str | Path) -> tuple[dict[str, Any], list[ResultRow]] | None:
    """The results.json of an experiment's folder: (its header: name, title, offline, factors;
    its rows, best first), or None when the folder has none or it cannot be read."""
    try:
        data = json.loads((Path(out) / RESULTS_JSON).read_text(encoding="utf-8"))
        header = {k: data[k] for k in ("name", "title", "offline", "factors")}
        known = {f.name for f in fields(ResultRow)}
        rows = [ResultRow(**{k: v for k, v in r.items() if k in known}) for r in data["rows"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return header, rows
