"""The experiment runner's overhead (issue 16).

Printed:
  experiment runner overhead: R   the wall time of `netdesigner experiment` over a 2x2
      experiment (the thesis' fully convolutional network at a few filters per layer, plain or
      with layer-wise shift and scale, at two learning rates, on the bundled digits resized to
      32x32 RGB) over the wall time of the same four runs started one by one with
      `netdesigner train` (each in its own process, with the run's design.json and
      config.json), target <= 1.05. Both include starting Python and preparing the data: the
      runner does that once, the separate runs once each, so below 1 is expected.

`python -m benchmarks.bench_experiments --smoke` runs one epoch per run, to check the script.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout whose `designer` is measured
EPOCHS = 4

# A few filters per layer, so the four runs take seconds and the runner's own work shows.
EDITS = {f"conv{i}.out_channels": 8 for i in (1, 2, 3)} | {
    f"conv{i}.out_channels": 16 for i in (4, 5, 6, 7, 8)
}


def _environment() -> dict[str, str]:
    """This environment without thread settings (the CLI applies the project's), with ROOT
    importable first."""
    from designer import threads

    env = {k: v for k, v in os.environ.items() if k not in (*threads.VARIABLES, threads.OURS)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def _spec(folder: Path, epochs: int) -> Path:
    path = folder / "bench.json"
    path.write_text(
        json.dumps(
            {
                "format": "netdesigner-experiment",
                "version": 1,
                "title": "runner overhead",
                "base": {"template": "thesis_fcn"},
                "edits": EDITS,
                "settings": {
                    "dataset": "digits",
                    "epochs": epochs,
                    "batch_size": 64,
                    "device": "cpu",
                },
                "factors": [
                    {"name": "variant", "option": "variant", "levels": ["plain", "shiftscale"]},
                    {"name": "lr", "setting": "lr", "levels": [0.02, 0.04]},
                ],
            }
        )
    )
    return path


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def runner_overhead(epochs: int = EPOCHS) -> float:
    env = _environment()
    python = [sys.executable, "-m", "designer"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        out = folder / "experiment"
        runner = _timed([*python, "experiment", str(_spec(folder, epochs)), "--out", str(out)], env)
        runs = sorted(p for p in out.iterdir() if (p / "config.json").exists())
        one_by_one = 0.0
        for run in runs:
            one_by_one += _timed(
                [
                    *python,
                    "train",
                    str(run / "design.json"),
                    "--run-dir",
                    str(folder / "single" / run.name),
                    "--config",
                    str(run / "config.json"),
                ],
                env,
            )
    ratio = runner / one_by_one
    print(
        f"{len(runs)} runs of {epochs} epoch(s): experiment {runner:.1f}s, one by one "
        f"{one_by_one:.1f}s"
    )
    print(f"experiment runner overhead: {ratio:.3f}")
    return ratio


def main() -> None:
    runner_overhead(1 if "--smoke" in sys.argv else EPOCHS)


if __name__ == "__main__":
    main()
