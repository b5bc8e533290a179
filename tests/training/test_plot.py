"""Curves of real runs (designer.training.curves) and `netdesigner plot`: series by step, epoch
and time, smoothing equal to the engine's loss average, PNG/SVG/CSV files with one curve per run."""

from __future__ import annotations

import csv
import math
import shutil
import xml.dom.minidom

import numpy as np
import pytest
from PIL import Image

from designer.cli import main
from designer.training.curves import CurveError, ema, load_curves, run_names
from designer.training.engine import Trainer
from designer.training.metrics import LossAverage
from designer.training.rundir import RunDir
from tests.training.conftest import tiny_config, tiny_design

PALETTE = ("#4e79a7", "#f28e2b", "#e15759")  # the first colours of designer.app.plots.PALETTE


@pytest.fixture(scope="module")
def second_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("second") / "slow"
    Trainer(tiny_design(), tiny_config(epochs=2, lr=0.002), path).run_to_end()
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_smoothing_is_the_engines_loss_average(finished_run):
    (curve,) = load_curves([finished_run], "loss", smooth=0.99)
    (recorded,) = load_curves([finished_run], "loss_ema")
    assert np.allclose(curve.smoothed, recorded.y, rtol=1e-12, atol=0)
    values = np.random.default_rng(0).random(50_000) * 3
    for c in (0.5, 0.99, 0.999):
        average = LossAverage(c)
        loop = np.array([average.update(v) for v in values])
        assert np.allclose(ema(values, c), loop, rtol=1e-11, atol=0)
    assert np.array_equal(ema(values, 0.0), values)


def test_series_by_step_epoch_and_time(finished_run):
    per_epoch = math.ceil(RunDir(finished_run).read_json("data.json")["train_samples"] / 128)
    (by_epoch,) = load_curves([finished_run], "val_accuracy", x="epoch")
    (by_step,) = load_curves([finished_run], "val_accuracy", x="step")
    (by_time,) = load_curves([finished_run], "val_accuracy", x="time")
    epochs = [r for r in RunDir(finished_run).read_metrics() if r["kind"] == "epoch"]
    assert by_epoch.x.tolist() == [1, 2, 3]
    assert by_epoch.y.tolist() == [r["val_accuracy"] for r in epochs]
    assert by_step.x.tolist() == [per_epoch, 2 * per_epoch, 3 * per_epoch]
    assert by_time.x == pytest.approx(np.cumsum([r["seconds"] for r in epochs]))
    (loss,) = load_curves([finished_run], "loss", x="epoch")
    assert len(loss) == 3 * per_epoch and loss.x[-1] == 3
    assert loss.x[0] == pytest.approx(1 / per_epoch)
    (loss_time,) = load_curves([finished_run], "loss", x="time")
    assert (np.diff(loss_time.x) > 0).all() and loss_time.x[-1] == pytest.approx(by_time.x[-1])


def test_a_line_being_written_is_left_out(finished_run, tmp_path):
    shutil.copytree(finished_run, tmp_path / "live")
    with open(tmp_path / "live" / "metrics.jsonl", "a") as f:
        f.write('{"kind": "step", "epoch": 4, "st')
    live, done = load_curves([tmp_path / "live", finished_run], "loss")
    assert len(live) == len(done)


def test_bad_choices_and_names(tmp_path):
    with pytest.raises(CurveError, match="unknown metric 'accuracy'; the metrics are: loss, "):
        load_curves([tmp_path], "accuracy")
    with pytest.raises(CurveError, match="from 0 up to"):
        load_curves([tmp_path], "loss", smooth=1.0)
    with pytest.raises(CurveError, match="holds no metrics.jsonl"):
        load_curves([tmp_path], "loss")
    assert run_names([tmp_path / "a" / "run", tmp_path / "b" / "run"]) == ["a/run", "b/run"]
    assert run_names([tmp_path / "a", tmp_path / "b"]) == ["a", "b"]


def _pixels_near(image: np.ndarray, color: str) -> int:
    rgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(image[:, :, :3].astype(int) - rgb).max(axis=2) < 12).sum())


def test_plot_writes_one_curve_per_run(capsys, finished_run, second_run, tmp_path):
    out, table = tmp_path / "val.png", tmp_path / "val.csv"
    code, printed, err = run(
        capsys,
        "plot",
        finished_run,
        second_run,
        "--metric",
        "val_loss",
        "--x",
        "epoch",
        "-o",
        out,
        "--csv",
        table,
        "--size",
        "640x400",
    )
    assert code == 0, err
    assert "val_loss of 2 run(s) (run, slow) by epoch" in printed
    curves = load_curves([finished_run, second_run], "val_loss", x="epoch")
    assert [len(c) for c in curves] == [3, 2]
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == (640, 400)
        picture = np.asarray(im.convert("RGB"))
    # The first two colours are drawn (one curve each, plus legend swatches); the third is not.
    assert _pixels_near(picture, PALETTE[0]) > 100 and _pixels_near(picture, PALETTE[1]) > 100
    assert _pixels_near(picture, PALETTE[2]) == 0
    with open(table, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["run", "epoch", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["run"] * 3 + ["slow"] * 2
    assert [float(r[2]) for r in rows[1:4]] == curves[0].y.tolist()


def test_plot_smoothed_svg_and_csv(capsys, finished_run, second_run, tmp_path):
    code, _, err = run(
        capsys,
        "plot",
        finished_run,
        second_run,
        "--metric",
        "loss",
        "--smooth",
        0.9,
        "-o",
        tmp_path / "loss.svg",
        "--csv",
        tmp_path / "loss.csv",
        "--title",
        "Loss",
    )
    assert code == 0, err
    svg = xml.dom.minidom.parse(str(tmp_path / "loss.svg")).documentElement
    assert svg.tagName == "svg" and svg.getElementsByTagName("path")
    with open(tmp_path / "loss.csv", newline="") as f:
        header = next(csv.reader(f))
    assert header == ["run", "step", "loss", "loss_smoothed"]


def test_plot_usage_errors(capsys, finished_run, tmp_path):
    code, _, err = run(capsys, "plot", finished_run, "--metric", "acc", "-o", tmp_path / "a.png")
    assert code == 2 and "unknown metric 'acc'" in err and "val_accuracy" in err
    code, _, err = run(capsys, "plot", finished_run)
    assert code == 2 and "-o OUT.png" in err
    code, _, err = run(capsys, "plot", finished_run, "-o", tmp_path / "a.jpg")
    assert code == 2 and ".png or .svg" in err
    code, _, err = run(capsys, "plot", tmp_path / "nothing", "-o", tmp_path / "a.png")
    assert code == 1 and "no such run directory" in err
    assert not (tmp_path / "a.png").exists()
