"""The "overfit a small sample" check and the random hyperparameter search, on real training
(its Optuna side: test_search_optuna.py)."""

from __future__ import annotations

import json

import pytest

from designer.training.config import ConfigError
from designer.training.model import TrainingError
from designer.training.rundir import RunDir
from designer.training.sanity import overfit_check
from designer.training.search import SearchSpace, Trial, format_table, random_search, ranked
from tests.training.conftest import tiny_config, tiny_design


def test_a_working_design_overfits_a_small_sample(tmp_path):
    end = overfit_check(
        tiny_design(), tiny_config(lr=0.03), tmp_path / "run", samples=20, max_epochs=300
    )
    assert end.overfit["reached"] and end.overfit["samples"] == 20
    assert 1 <= end.overfit["epoch"] == end.epochs_run < 300
    assert "reached 100% training accuracy on 20 samples" in end.message
    result = RunDir(tmp_path / "run").read_json("result.json")
    assert result["overfit"] == end.overfit
    assert RunDir(tmp_path / "run").read_json("data.json")["train_samples"] == 20


def test_a_crippled_design_does_not(tmp_path):
    # Each image averaged into one number: samples of different classes interleave on that
    # line, so no linear layer after it can tell all 20 apart.
    from tests.helpers import chain

    design = chain(
        ("AvgPool2d", {"kernel_size": 8}),
        "Flatten",
        ("Linear", {"out_features": 10}),
        input_shape=(1, 8, 8),
    )
    end = overfit_check(design, tiny_config(lr=0.05), tmp_path / "run", samples=20, max_epochs=30)
    assert end.overfit["reached"] is False and end.epochs_run == 30
    assert "did not reach 100%" in end.message


def test_random_search_ranks_trials_by_validation_accuracy(tmp_path):
    space = SearchSpace(
        lr=(1e-3, 3e-2), weight_decay=(1e-5, 1e-3), dropout=(0.1, 0.5), batch_sizes=(64, 128)
    )
    seen = []
    trials = random_search(
        tiny_design(),
        tiny_config(),
        tmp_path / "search",
        trials=3,
        epochs=1,
        space=space,
        seed=7,
        on_event=lambda n, e: seen.append((n, e.kind)),
    )
    assert len(trials) == 3 and {t.number for t in trials} == {1, 2, 3}
    accuracies = [t.best_val_accuracy for t in trials]
    assert accuracies == sorted(accuracies, reverse=True)
    for t in trials:
        assert 1e-3 <= t.lr <= 3e-2 and 1e-5 <= t.weight_decay <= 1e-3 and 0.1 <= t.dropout <= 0.5
        assert t.batch_size in (64, 128) and t.status == "completed"
        run = RunDir(t.run_dir)
        config = run.read_json("config.json")
        assert (config["lr"], config["dropout"], config["batch_size"], config["epochs"]) == (
            t.lr,
            t.dropout,
            t.batch_size,
            1,
        )
        assert (
            run.read_json("result.json")["test_accuracy"] is None
        )  # the search never looks at the test split
    assert len({t.lr for t in trials}) == 3
    saved = json.loads((tmp_path / "search" / "search.json").read_text())
    assert [s["number"] for s in saved] == [t.number for t in trials]
    assert {n for n, kind in seen if kind == "end"} == {1, 2, 3}
    table = format_table(trials).splitlines()
    assert table[0].split()[:3] == ["rank", "trial", "val"] and len(table) == 4
    # An existing search is never overwritten.
    with pytest.raises(TrainingError, match="holds a search already"):
        random_search(tiny_design(), tiny_config(), tmp_path / "search", trials=1, epochs=1)


def test_search_without_dropout_layers_leaves_dropout_alone(tmp_path):
    trials = random_search(
        tiny_design(dropout=False), tiny_config(), tmp_path / "s", trials=1, epochs=1
    )
    assert trials[0].dropout is None


def test_unfinished_trials_rank_last():
    done = Trial(1, "a", 0.1, 0.0, None, 64, "completed", 0.9, 0.3)
    better = Trial(2, "b", 0.1, 0.0, None, 64, "completed", 0.9, 0.2)
    failed = Trial(3, "c", 10.0, 0.0, None, 64, "diverged")
    assert [t.number for t in ranked([failed, done, better])] == [2, 1, 3]


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"lr": (0.1, 0.01)}, "lr must be two numbers"),
        ({"dropout": (0.2, 1.0)}, "dropout must be"),
        ({"batch_sizes": ()}, "batch sizes"),
    ],
)
def test_bad_search_spaces(kw, message):
    with pytest.raises(ConfigError, match=message):
        SearchSpace(**kw)
