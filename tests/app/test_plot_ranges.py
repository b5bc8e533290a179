"""Live plots move their axes in steps: few range changes over a run, the data always inside,
and a user's zoom is kept until the plot's "A" button asks to follow again."""

from __future__ import annotations

import numpy as np
import pytest

from designer.app.plots.ranges import settled_range


def test_a_falling_loss_moves_the_range_a_few_times_and_stays_inside():
    rng = np.random.default_rng(0)
    loss = 2.3 * np.exp(-np.arange(2000) / 300) + 0.1 * rng.random(2000)
    current, changes = None, 0
    for n in range(1, len(loss) + 1):
        low, high = loss[:n].min(), loss[:n].max()
        new = settled_range(current, low, high, floor=0.0)
        changes += new != current
        current = new
        assert current[0] <= low and high <= current[1]
    assert changes <= 12
    assert current[0] == 0.0 and high <= current[1] <= 1.5 * high  # from 0, and not far above


@pytest.mark.parametrize(
    ("low", "high", "floor", "ceiling"),
    [
        (0.2, 0.99, 0.0, 1.0),
        (0.95, 0.99, 0.0, 1.0),
        (-3.0, -1.0, 0.0, None),
        (0.02, 0.02, 0.0, None),
    ],
)
def test_a_fresh_range_holds_the_data_within_its_bounds(low, high, floor, ceiling):
    lo, hi = settled_range(None, low, high, floor=floor, ceiling=ceiling)
    assert lo <= low and high <= hi and lo < hi
    if low >= floor:
        assert lo >= floor
    if ceiling is not None:
        assert hi <= ceiling


def test_a_range_the_data_no_longer_fills_is_tightened():
    assert settled_range((0.0, 100.0), 40.0, 41.0) != (0.0, 100.0)
    assert settled_range((0.0, 100.0), 10.0, 90.0) == (0.0, 100.0)


def test_the_plots_follow_a_live_run_in_steps_and_keep_a_users_zoom(qtbot):
    from designer.app.training.plots import TrainingPlots

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(900, 600)
    plots.show()
    plots.add_run("r", "run", [{"kind": "start", "steps_per_epoch": 20, "epochs": 5}])
    vb = plots.step_loss.item.vb
    ranges = []
    vb.sigRangeChanged.connect(lambda _vb, r, *_: ranges.append(r))
    for step in range(1, 101):
        plots.add_record("r", {"kind": "step", "step": step, "loss": 2.3 / step**0.5, "lr": 0.1})
        plots.refresh()
    x, y = vb.viewRange()
    assert x == [0.0, 100.0]  # the run's 5 x 20 steps from the start
    assert y[0] == 0.0 and 2.3 <= y[1] <= 3.5
    assert 1 <= len(ranges) <= 6  # not once per refresh

    vb.setRange(xRange=(10, 20), yRange=(0, 1), padding=0)
    vb.sigRangeChangedManually.emit(vb.state["mouseEnabled"])  # as a mouse zoom does
    plots.add_record("r", {"kind": "step", "step": 101, "loss": 9.0, "lr": 0.1})
    plots.refresh()
    assert vb.viewRange()[0] == [10.0, 20.0]  # the user's zoom stays
    button = plots.step_loss.item.autoBtn
    button.clicked.emit(button)
    assert vb.viewRange()[1][1] >= 9.0 and not any(vb.autoRangeEnabled())


def test_a_finished_run_is_shown_whole(qtbot):
    from designer.app.training.plots import TrainingPlots

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    records = [
        {"kind": "step", "step": s, "loss": 3.0 - s / 400, "lr": 0.01} for s in range(1, 801)
    ]
    records += [
        {"kind": "epoch", "epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e} for e in (1, 2)
    ]
    plots.add_run("done", "done", records)  # read back from metrics.jsonl: no start record
    (x0, x1), (y0, y1) = plots.step_loss.item.vb.viewRange()
    assert x0 <= 1 and 800 <= x1 <= 1200 and y0 == 0.0 and 3.0 <= y1 <= 4.5
    (x0, x1), (y0, y1) = plots.epoch_loss.item.vb.viewRange()
    assert x0 <= 400 and 800 <= x1 and y0 == 0.0 and 1.2 <= y1
