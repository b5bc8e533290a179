"""Live previews on the canvas (issue 10), on the ResNet-18 template at 224 x 224 (10 classes,
so the bundled digits are its sample images).

Printed:
  preview after a late edit / full pass: R   the time to re-preview after a param edit of a node
      in the last stage (layer4_1's stride, 1 <-> 2: it and the three nodes after it are
      computed again) over a full pass (every node computed for another pinned sample, the
      modules already built), medians of a few; the engine alone, one CPU thread as in the
      app's process (target <= 0.35).
  ui lateness while previewing: p99 X ms   how late a 10 ms QTimer fires in the app's process
      (offscreen, View > Previews on) while previews compute: another pinned sample (a full
      pass), late and early edits, from the first action to the last pass (target < 5 ms).
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
        late = []
        block = design.find("layer4_1")
        for i in range(2 * repeats):
            block.params = {**block.params, "stride": 2 if i % 2 == 0 else 1}
            seconds, late_computed = timed()
            late.append(seconds)
        assert late_computed == 4, late_computed  # layer4_1, avgpool, fc, output
    finally:
        torch.set_num_threads(threads)
    ratio = statistics.median(late) / statistics.median(full)
    print(
        f"resnet-18 at {input_size}x{input_size}, {len(design.nodes)} nodes: first pass "
        f"{first * 1000:.0f} ms (every module built), full pass {statistics.median(full) * 1000:.0f}"
        f" ms, after a late edit {statistics.median(late) * 1000:.0f} ms "
        f"({late_computed} nodes computed)"
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
        editor = window.editor
        late_node = editor.design.find("layer4_1").id
        early_node = editor.design.find("conv1").id
        actions = [
            lambda: previews.pin_sample(1),  # every node again
            lambda: editor.set_node_attr(late_node, "params.stride", 2),
            lambda: editor.set_node_attr(late_node, "params.stride", 1),
            lambda: editor.set_node_attr(early_node, "params.kernel_size", 5),  # nearly all
            lambda: previews.pin_sample(2),
        ]
        late = []
        last = [time.perf_counter()]

        def tick():
            now = time.perf_counter()
            late.append(max(0.0, (now - last[0]) * 1000 - 10))
            last[0] = now

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
        print(json.dumps({"late": late, "passes": previews.passes}), flush=True)
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
            [sys.executable, str(script), str(input_size)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    late = np.array(report["late"])
    p99 = float(np.percentile(late, 99))
    print(
        f"  {len(late)} timer ticks over {report['passes'] - 1} preview passes: median "
        f"{np.median(late):.1f} ms, max {late.max():.1f} ms late"
    )
    print(f"ui lateness while previewing: p99 {p99:.1f} ms")
    return p99


def main() -> None:
    late_edit_ratio()
    ui_lateness()


if __name__ == "__main__":
    main()
