"""The architecture comparison: one point per template with torchvision's documented top-1 at
the template's own MACs and parameters; runs at their test accuracy; the chart in the app, where
a click opens the template, and `netdesigner compare` headless."""

from __future__ import annotations

import subprocess
import sys

from designer.core.summary import summarize
from designer.templates import list_templates
from designer.training.compare import template_points, user_points
from designer.training.engine import Trainer
from tests.training.conftest import tiny_config, tiny_design


def test_one_point_per_template_at_the_right_coordinates():
    points = {p.name: p for p in template_points()}
    documented = {t.name: t for t in list_templates() if (t.accuracy or {}).get("top1")}
    assert set(points) == set(documented) and len(points) >= 10
    r50 = points["resnet50"]
    s = summarize(documented["resnet50"].build())
    assert (r50.macs, r50.accuracy) == (s.macs, 80.858)
    assert r50.params == 25_557_032  # torchvision's ResNet-50 (no BatchNorm statistics)


def test_runs_are_placed_at_their_test_accuracy(tmp_path):
    end = Trainer(tiny_design(), tiny_config(epochs=1), tmp_path / "r1").run_to_end()
    (point,) = user_points([tmp_path / "r1"])
    assert point.accuracy == 100 * end.test_accuracy
    assert point.params == summarize(tiny_design()).trainable_params


def test_the_chart_in_the_app_opens_a_clicked_template(window, qtbot):
    dialog = window.show_compare()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=120_000)
    chart = dialog.charts["templates"]
    assert len(chart.scatter.points()) == len(chart.points) == len(template_points())
    resnet18 = next(p for p in chart.scatter.points() if p.data().name == "resnet18")
    window.answers.replies["save_changes"] = "discard"
    dialog._open(resnet18.data())
    assert window.editor.design.name.startswith("ResNet-18")


def test_compare_writes_the_chart_headless(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "designer", "compare", "-o", str(tmp_path / "c.png")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    bad = subprocess.run(
        [sys.executable, "-m", "designer", "compare", str(tmp_path), "-o", str(tmp_path / "d.png")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert bad.returncode == 1 and "neither a design file, a run nor a folder" in bad.stderr
