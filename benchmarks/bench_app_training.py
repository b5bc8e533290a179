"""Training beside other work, as it happens from the app (issue 9).

Printed:
  ui lateness while training: p99 X ms, max Y ms   how late a 10 ms QTimer fires in the app's
      process while a LeNet-5 run (8 epochs) trains from the Training workspace, from Train
      to the end of the run (targets: p99 < 5 ms, max < 50 ms).
  app/cli training throughput ratio   the app run's samples/s over the same run started from the
      CLI, measured in this benchmark run (target >= 0.95).
  training throughput under contention / alone   samples/s of a CLI training run (LeNet-5 on
      digits with its template's settings, 8 epochs, CPU) while another process with torch's
      default thread settings keeps the CPU busy with bursts of matrix products (as a UI or a
      notebook does), over the same run alone. Target on 2 cores: >= 0.6. Before the thread
      rule of designer.threads it was 0.11: two processes' OpenMP threads spin-waiting against
      each other.
The throughput is the run's own: training samples over training seconds, from its
metrics.jsonl (no interpreter start, data loading or validation passes). Each process starts
without OMP_NUM_THREADS / OMP_WAIT_POLICY, so the CLI applies the project's rule and the
neighbour gets torch's defaults, whatever the shell running the benchmark set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

EPOCHS = 8
ROOT = Path(__file__).resolve().parents[1]  # the checkout whose `designer` is measured

# The neighbour: 0.2 s bursts of 256x256 matrix products and element-wise ops (MKL's and ATen's
# OpenMP parallel regions, each short: the case where spinning threads hurt most), 50 ms apart.
NEIGHBOUR = textwrap.dedent("""
    import time
    import torch

    a = torch.randn(256, 256)
    print("ready", flush=True)
    while True:
        end = time.perf_counter() + 0.2
        while time.perf_counter() < end:
            (a @ a).mul_(1e-3).add_(a)
        time.sleep(0.05)
""")


def _environment() -> dict[str, str]:
    """This environment without thread settings, with ROOT importable first."""
    from designer import threads

    env = {k: v for k, v in os.environ.items() if k not in (*threads.VARIABLES, threads.OURS)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def _design_file(folder: Path) -> Path:
    from designer.core.serialization import save_design
    from designer.templates import new_from_template

    path = folder / "lenet5.json"
    save_design(new_from_template("lenet5"), path)
    return path


def cli_throughput(design: Path, run_dir: Path, env: dict[str, str], epochs: int) -> float:
    """Training samples per training second of `netdesigner train` in its own process."""
    argv = [
        sys.executable,
        "-m",
        "designer",
        "train",
        str(design),
        "--run-dir",
        str(run_dir),
        "--epochs",
        str(epochs),
        "--device",
        "cpu",
    ]
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return _run_throughput(run_dir, epochs)


def training_under_contention(epochs: int = EPOCHS) -> float:
    """The CLI run's throughput beside the busy neighbour over its throughput alone."""
    env = _environment()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        design = _design_file(folder)
        alone = cli_throughput(design, folder / "alone", env, epochs)
        neighbour = subprocess.Popen(
            [sys.executable, "-c", NEIGHBOUR], env=env, stdout=subprocess.PIPE, text=True
        )
        try:
            neighbour.stdout.readline()  # "ready": torch is loaded and the bursts begin
            contended = cli_throughput(design, folder / "contended", env, epochs)
        finally:
            neighbour.kill()
            neighbour.wait()
    ratio = contended / alone
    print(
        f"lenet5 on digits, {epochs} epochs, CLI train: {alone:,.0f} samples/s alone, "
        f"{contended:,.0f} samples/s beside a busy torch process"
    )
    print(f"training throughput under contention / alone: {ratio:.3f}")
    return ratio


# The app in its own process, as `netdesigner` starts it (the "ui" thread role before torch),
# offscreen, driving the Training workspace and timing a 10 ms QTimer until the run ends.
APP = textwrap.dedent("""
    import json, os, sys, time

    def main():
        # As designer.cli.main does it: the "ui" role inside main(), so the spawned training
        # worker (which re-imports this file as __mp_main__) does not take it too.
        from designer import threads
        threads.apply_at_start("ui")
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        os.environ["NETDESIGNER_UNSAVED_RUNS"] = sys.argv[1]
        from designer.app.launch import make_app
        from designer.app.main_window import MainWindow
        from PySide6.QtCore import QTimer

        app = make_app()
        window = MainWindow()
        window.resize(1400, 900)
        window.show()
        ws = window.show_training()
        while ws.data.summary is None:
            app.processEvents()
            time.sleep(0.01)
        for key, text in (("epochs", sys.argv[2]),):
            ws.form.fields[key].editor.setText(text)
            ws.form.fields[key].edited.emit()
        ws.form.fields["device"].editor.setCurrentText("cpu")
        late = []
        last = [time.perf_counter()]
        def tick():
            now = time.perf_counter()
            late.append(max(0.0, (now - last[0]) * 1000 - 10))
            last[0] = now
        timer = QTimer()
        timer.setInterval(10)
        timer.timeout.connect(tick)
        ws.controller.ended.connect(lambda end: app.quit())
        assert ws.train(), ws.state_label.text()
        last[0] = time.perf_counter()
        timer.start()
        app.exec()
        timer.stop()
        print(json.dumps({"late": late, "run": str(ws.controller.run_dir)}))
        window.close()

    if __name__ == "__main__":
        main()
""")


def app_training(epochs: int = EPOCHS) -> None:
    """UI lateness while the app trains, and the app run's throughput over the CLI's."""
    import numpy as np

    env = _environment()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        script = folder / "app_run.py"
        script.write_text(APP)
        out = subprocess.run(
            [sys.executable, str(script), str(folder / "runs"), str(epochs)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        report = json.loads(out.stdout.strip().splitlines()[-1])
        run_dir = Path(report["run"])
        app = _run_throughput(run_dir, epochs)
        cli = cli_throughput(_design_file(folder), folder / "cli", env, epochs)
    late = np.array(report["late"])
    print(
        f"lenet5 on digits, {epochs} epochs: {app:,.0f} samples/s from the app, "
        f"{cli:,.0f} samples/s from the CLI; {len(late)} timer ticks while training"
    )
    print(
        f"  timer lateness: median {np.median(late):.1f} ms, p90 {np.percentile(late, 90):.1f} ms"
    )
    print(
        f"ui lateness while training: p99 {np.percentile(late, 99):.1f} ms, max {late.max():.1f} ms"
    )
    print(f"app/cli training throughput ratio: {app / cli:.3f}")


def _run_throughput(run_dir: Path, epochs: int) -> float:
    samples = json.loads((run_dir / "data.json").read_text())["train_samples"]
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    seconds = sum(samples / r["samples_per_second"] for r in records if r["kind"] == "epoch")
    return epochs * samples / seconds


def main() -> None:
    app_training()
    training_under_contention()


if __name__ == "__main__":
    main()
