"""The experiment verbs: `experiment` runs an experiment file (every combination of its factors as
a run directory, resumable) and prints its results table; `experiments` lists the shipped ones."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from designer.cli import CliError
from designer.cli.train_verb import ctrl_c_cancels

EXIT_CANCELLED = 130


def register(sub) -> None:
    p = sub.add_parser(
        "experiment",
        help="run an experiment: every combination of its factors, as run "
        "directories; prints the results table",
        description="Train every combination of an experiment file's factors (template options, "
        "design edits, training settings), each seed in its own run directory "
        "under --out, one after another. Run it again to continue a stopped "
        "experiment: finished runs are not trained again. The results go to "
        "OUT/results.csv and OUT/results.json; `netdesigner plot OUT/*=*` overlays "
        "the runs.",
    )
    p.add_argument(
        "spec",
        metavar="SPEC",
        help="an experiment file (.json), or the name of a shipped experiment "
        "(netdesigner experiments lists them)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="the experiment's folder: one run directory per combination and seed, and the results",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--offline",
        action="store_true",
        help="run the experiment's reduced offline variant (e.g. on the bundled "
        "digits) even when its dataset is here",
    )
    where.add_argument(
        "--full",
        action="store_true",
        help="run on the experiment's own dataset (downloaded if it is missing) "
        "even when its files are not here",
    )
    p.add_argument("--data-dir", metavar="DIR", help="where the named datasets are")
    p.add_argument(
        "--at-once",
        type=int,
        default=1,
        metavar="N",
        help="train N runs side by side, each in its own process on its own GPU (needs N "
        "GPUs; on a CPU runs train one at a time, default)",
    )
    p.add_argument(
        "--plan",
        action="store_true",
        help="list the runs (and, with --out, what each has done) without training",
    )
    p.set_defaults(func=cmd_experiment)

    s = sub.add_parser("experiments", help="list the shipped experiments (the course's)")
    s.add_argument("--json", action="store_true", help="print them as one JSON list")
    s.set_defaults(func=cmd_experiments)


def _load(spec: str):
    from designer.training.experiment import ExperimentError, find_experiment

    try:
        return find_experiment(spec)
    except ExperimentError as exc:
        raise CliError(str(exc)) from None


def cmd_experiment(args) -> int:
    from designer.training.experiment import ExperimentError
    from designer.training.experiment_results import collect, format_table
    from designer.training.experiment_run import choose_offline, run_experiment

    experiment = _load(args.spec)
    if not args.plan and not args.out:
        raise CliError(
            "say where the runs go: --out DIR (or look at them first with --plan)", code=2
        )
    asked = True if args.offline else False if args.full else None
    out = Path(args.out) if args.out else None
    try:
        if args.plan:
            offline = (
                choose_offline(experiment, out, asked, args.data_dir)
                if out
                else asked
                if asked is not None
                else experiment.needs_offline(args.data_dir)
            )
            return _show_plan(experiment, out, offline)
        from designer.training.control import TrainingControl
        from designer.training.experiment_run import gpu_slots

        if args.at_once < 1:
            raise CliError(f"--at-once must be at least 1, got {args.at_once}", code=2)
        try:
            slots = gpu_slots(args.at_once)
        except ExperimentError as exc:
            raise CliError(str(exc), code=2) from None
        control = TrainingControl()
        resume = f"netdesigner experiment {args.spec} --out {args.out}"
        with ctrl_c_cancels(control, resume, "the experiment"):
            outcome = run_experiment(
                experiment,
                out,
                offline=asked,
                data_dir=args.data_dir,
                control=control,
                progress=Printer(),
                slots=slots,
            )
    except ExperimentError as exc:
        raise CliError(str(exc)) from None
    factors = [f.name for f in experiment.factors_for(outcome.offline)]
    print()
    print(format_table(collect(outcome.plan, out), factors))
    print(
        f"\nresults: {out / 'results.csv'} and {out / 'results.json'}; the curves of all "
        f"runs: netdesigner plot {out}/*=* -o curves.png"
    )
    if outcome.cancelled:
        print(f"stopped; continue it with: {resume}")
        return EXIT_CANCELLED
    if outcome.failed:
        print(f"{len(outcome.failed)} run(s) failed: {', '.join(outcome.failed)}", file=sys.stderr)
        return 1
    return 0


def _show_plan(experiment, out: Path | None, offline: bool) -> int:
    from designer.training.experiment_run import run_status

    experiment.check(offline)  # every run's design and settings build
    plan = experiment.plan(offline)
    combos = len({run.combination for run in plan})
    how = (
        "offline: " + (experiment.offline.note or "its reduced variant")
        if offline
        else "on its own dataset"
    )
    print(
        f"{experiment.name}: {combos} combination(s) x {len(experiment.seeds)} seed(s) = "
        f"{len(plan)} run(s), {how}"
    )
    for run in plan:
        status = run_status(out / run.name) if out else None
        print(f"  {run.name}{f'  ({status})' if status else ''}")
    return 0


def cmd_experiments(args) -> int:
    from designer.training.experiment import ExperimentError, list_experiments

    try:
        experiments = list_experiments()
    except ExperimentError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": e.name,
                        "title": e.title,
                        "description": e.description,
                        "runs": len(e.plan()),
                        "offline_runs": len(e.plan(True)),
                        "path": e.source,
                    }
                    for e in experiments
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    if not experiments:
        print("no shipped experiments found")
        return 0
    width = max(len(e.name) for e in experiments) + 2
    for e in experiments:
        print(f"{e.name.ljust(width)}{len(e.plan()):>4} runs  {e.title}")
        print(f"{''.ljust(width)}{e.description}")
    return 0


class Printer:
    """An experiment's progress in the terminal: a line per run and per epoch."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stdout

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def begin(self, experiment, total: int, finished: int, offline: bool) -> None:
        how = (
            f" offline ({experiment.offline.note})"
            if offline and experiment.offline.note
            else " offline"
            if offline
            else ""
        )
        done = f", {finished} finished before" if finished else ""
        self._write(f"experiment {experiment.name}{how}: {total} run(s){done}")

    def skip_run(self, index: int, total: int, run, status: str) -> None:
        self._write(f"[{index}/{total}] {run.name}: {status} before, not trained again")

    def start_run(self, index: int, total: int, run, resumed: bool) -> None:
        self._write(f"[{index}/{total}] {run.name}{' (continuing)' if resumed else ''}")

    def event(self, e, run=None) -> None:
        whose = f"    {run.name}: " if run is not None else "    "  # runs side by side
        if e.kind == "epoch":
            acc = f"{e.val_accuracy:.2%}" if e.val_accuracy is not None else "-"
            self._write(
                f"{whose}epoch {e.epoch}/{e.epochs}  train loss {e.train_loss:.4f}  "
                f"val acc {acc}  {e.seconds:.1f}s"
            )
        elif e.kind == "log":
            self._write(f"{whose}note: {e.message}")

    def end_run(self, index: int, total: int, run, end, eta: float | None) -> None:
        from designer.training.experiment_results import format_seconds

        figures = []
        if end.best_val_accuracy is not None:
            figures.append(f"best val acc {end.best_val_accuracy:.2%}")
        if end.test_accuracy is not None:
            figures.append(f"test acc {end.test_accuracy:.2%}")
        text = f"    {run.name} {end.status}" + (f": {', '.join(figures)}" if figures else "")
        if end.status not in ("completed",) and end.message:
            text += f" ({end.message})"
        if eta:
            text += f"; about {format_seconds(eta)} to go"
        self._write(text)
