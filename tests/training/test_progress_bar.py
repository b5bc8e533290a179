"""The terminal progress bar (tqdm): a bar with an ETA on a terminal, lines only off one."""

from __future__ import annotations

import io

from designer.cli.train_verb import ProgressBar
from designer.training.engine import Trainer
from tests.training.conftest import tiny_config, tiny_design


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def train_with_bar(tmp_path, stream) -> str:
    bar = ProgressBar(stream, refresh_seconds=0)  # every step drawn: an epoch takes milliseconds
    trainer = Trainer(tiny_design(), tiny_config(epochs=2, batch_size=32), tmp_path / "run")
    trainer.run_to_end(bar.show)
    return stream.getvalue()


def test_off_a_terminal_the_progress_is_lines_only(tmp_path):
    out = train_with_bar(tmp_path, io.StringIO())
    assert "\r" not in out and "\x1b" not in out
    epochs = [line.split()[1] for line in out.splitlines() if line.startswith("epoch ")]
    assert epochs == ["1/2", "2/2"]
    assert "run directory:" in out


def test_on_a_terminal_a_bar_with_an_eta_is_drawn_and_replaced_by_the_epoch_line(tmp_path):
    out = train_with_bar(tmp_path, Terminal())
    assert "\r" in out
    drawn = [part for part in out.split("\r") if part.startswith("epoch 1:")]
    assert drawn and "batch" in drawn[-1] and "<" in drawn[-1]  # tqdm's elapsed<remaining
    assert "loss " in drawn[-1]
    lines = [line for line in out.replace("\r", "\n").splitlines() if line.startswith("epoch 1/2")]
    assert len(lines) == 1 and "val loss" in lines[0]
