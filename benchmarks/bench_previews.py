"""Live previews on the canvas (issue 10), on the ResNet-18 template at 224 x 224 (10 classes,
so the bundled digits are its sample images).

Printed:
  preview after a late edit / full pass: R   the time to re-preview after a param edit of a node
      in the last stage (layer4_1's stride, 1 <-> 2: it and the three nodes after it are
      computed again; the block keeps its convolutions' weights and gets a new shortcut
      projection) over a full pass (every node computed for another pinned sample, the
      modules already built), medians of a few; the engine alone, one CPU thread as in the
      app's process (target <= 0.35). Printed above it: the same for a width edit, whose new
      weights are initialized (layer4_1 and fc).
  ui lateness while previewing: p99 X ms   how late a 10 ms QTimer fires in the app's process
      (offscreen, View > Previews on) while previews compute in the background: the ticks
      while a pass runs, over full passes (every node computed) for other pinned samples and
      for a run's new weights, as after an epoch (target < 5 ms). The lateness over the whole
      sequence, with the repaints of the nodes as their previews arrive, is printed above it.
`python -m benchmarks bench_previews`
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout whose `designer` is measured
REPEATS = 3


def resnet18(input_size: int = 224):
    from designer.templates import new_from_template

    return new_from_template("resnet18", num_classes=10, input_size=input_size)


def late_edit_ratio(input_size: int = 224, repeats: int = REPEATS) -> float:
    import torch

    from designer.viz.previews import PreviewEngine, Sample

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the app's process has one ("ui" role, designer.threads)
    try:
        design = resnet18(input_size)
        engine = PreviewEngine()
        classes = tuple(str(i) for i in range(10))
        gen = torch.Generator().manual_seed(0)

        def pin(i: int) -> None:
            x = torch.randn(*design.input_shape, generator=gen)
            engine.set_sample(Sample(x, None, classes, f"sample {i}"))

        def timed() -> tuple[float, int]:
            counted = engine.recomputed
            start = time.perf_counter()
            engine.update(design)
            return time.perf_counter() - start, engine.recomputed - counted

        pin(0)
        first, _ = timed()
        full = []
        for i in range(1, repeats + 1):
            pin(i)
            seconds, computed = timed()
            full.append(seconds)
        assert computed == len(design.nodes), computed
        block = design.find("layer4_1")

        def edits(param: str, values: tuple) -> list[float]:
            times = []
            for i in range(2 * repeats):
                block.params = {**block.params, param: values[i % 2]}
                seconds, computed = timed()
                times.append(seconds)
                assert computed == 4, computed  # layer4_1, avgpool, fc, output
            return times

        late = edits("stride", (2, 1))
        wider = edits("out_channels", (384, 512))
    finally:
        torch.set_num_threads(threads)
    full_ms, late_ms = statistics.median(full) * 1000, statistics.median(late) * 1000
    ratio = late_ms / full_ms
    print(
        f"resnet-18 at {input_size}x{input_size}, {len(design.nodes)} nodes: first pass "
        f"{first * 1000:.0f} ms (every module built), full pass {full_ms:.0f} ms, after a late "
        f"edit {late_ms:.0f} ms (4 nodes computed)"
    )
    print(
        f"  a width edit instead (layer4_1 out_channels 512 <-> 384: new weights for it and fc): "
        f"{statistics.median(wider) * 1000 / full_ms:.3f} of a full pass"
    )
    print(f"preview after a late edit / full pass: {ratio:.3f}")
    return ratio


# The app in its own process, as `netdesigner` starts it (the "ui" thread role before torch),
# offscreen, with previews on; a 10 ms QTimer is timed while each action's previews compute.
APP = textwrap.dedent("""
    import json, os, sys, time

    def main():
        from designer import threads
        threads.apply_at_start("ui")
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        os.environ["NETDESIGNER_PREVIEWS"] = "on"
        from PySide6.QtCore import QTimer

        from designer.app.launch import make_app
        from designer.app.main_window import MainWindow
        from designer.templates import new_from_template

        app = make_app()
        window = MainWindow(
            new_from_template("resnet18", num_classes=10, input_size=int(sys.argv[1]))
        )
        window.resize(1400, 900)
        window.show()
        previews = window.previews
        deadline = time.monotonic() + 600
        while not previews.passes and time.monotonic() < deadline:  # torch, digits, first pass
            app.processEvents()
            time.sleep(0.01)
        assert previews.passes, previews.message
        missing = [p.reason for p, _ in previews.shown.values() if p.kind == "none"]
        assert not missing, missing  # every node computed (the digits stand in for ImageNet)
        # A run's epoch: its latest weights (here: another initialization) in its folder.
        from designer.interop.weights import save_weights
        from designer.viz import load_model

        run = os.path.join(sys.argv[2], "run")
        os.makedirs(run)
        save_weights(load_model(window.editor.design, seed=1).module, run + "/last.safetensors")
        actions = [  # each makes a full pass, and no other work for the UI
            lambda: previews.pin_sample(1),
            lambda: previews.pin_sample(2),
            lambda: previews.refresh_from_run(run),
            lambda: previews.pin_sample(3),
        ]
        late, busy = [], []  # every tick's lateness; those while a pass computed throughout
        last = [time.perf_counter(), False]

        def tick():
            now, computing = time.perf_counter(), previews.job.running
            ms = max(0.0, (now - last[0]) * 1000 - 10)
            late.append(ms)
            if computing and last[1]:
                busy.append(ms)
            last[:] = [now, computing]

        def next_action():
            if not actions:
                app.exit(0)  # not quit(): that closes the window, which asks to save the edits
                return
            actions.pop(0)()

        timer = QTimer()
        timer.setInterval(10)
        timer.timeout.connect(tick)
        previews.updated.connect(next_action)
        last[0] = time.perf_counter()
        timer.start()
        QTimer.singleShot(0, next_action)
        app.exec()
        timer.stop()
        print(json.dumps({"late": late, "busy": busy, "passes": previews.passes}), flush=True)
        previews.dispose()

    if __name__ == "__main__":
        main()
""")


def ui_lateness(input_size: int = 224) -> float:
    import numpy as np

    from designer import threads

    env = {k: v for k, v in os.environ.items() if k not in (*threads.VARIABLES, threads.OURS)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env["NETDESIGNER_RECOVERY_DIR"] = str(folder / "recovery")
        env["NETDESIGNER_UNSAVED_RUNS"] = str(folder / "runs")
        script = folder / "app_previews.py"
        script.write_text(APP)
        out = subprocess.run(
            [sys.executable, str(script), str(input_size), str(folder)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    late, busy = np.array(report["late"]), np.array(report["busy"])
    p99 = float(np.percentile(busy, 99))
    print(
        f"  {len(late)} timer ticks over {report['passes'] - 1} full preview passes: p99 "
        f"{np.percentile(late, 99):.1f} ms, max {late.max():.1f} ms late, counting the repaints "
        f"of the nodes when their previews arrive"
    )
    print(
        f"  {len(busy)} ticks while a pass computed in the background: median "
        f"{np.median(busy):.1f} ms, max {busy.max():.1f} ms late"
    )
    print(f"ui lateness while previewing: p99 {p99:.1f} ms")
    return p99


def main() -> None:
    late_edit_ratio()
    ui_lateness()


if __name__ == "__main__":
    main()
