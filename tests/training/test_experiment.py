"""Experiment files: what they combine into (grid, listed, random; seeds), how each run is built
(template options, design edits, settings, the offline variant), one clear error per bad file,
and the shipped experiments, which all load and build (nothing trains here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from designer.core.serialization import save_design
from designer.training.experiment import (
    ExperimentError,
    experiment_from_dict,
    find_experiment,
    list_experiments,
    load_experiment,
)
from tests.training.conftest import tiny_design

# The worktree's own templates/experiments (the installed designer_templates may be another
# checkout's).
SHIPPED = Path(__file__).resolve().parents[2] / "templates" / "experiments"
SHIPPED_NAMES = {
    "thesis_shift_scale",
    "thesis_shift_scale_dropout",
    "thesis_shift_scale_mlp",
    "thesis_shift_scale_mlp_dropout",
    "thesis_shift_scale_cifar100",
    "thesis_shift_scale_cifar100_dropout",
    "bn_before_after_activation",
    "optimizers",
    "augmentation_on_off",
}


def spec(**changes):
    data = {
        "format": "netdesigner-experiment",
        "version": 1,
        "base": {"template": "thesis_fcn"},
        "settings": {"epochs": 1},
        "factors": [
            {"name": "variant", "option": "variant", "levels": ["plain", "shiftscale"]},
            {"name": "lr", "setting": "lr", "levels": [0.02, 0.04]},
        ],
    }
    data.update(changes)
    return data


def test_a_grid_is_every_combination_once_per_seed_named_after_its_levels():
    exp = experiment_from_dict(spec(seeds=[3, 5]), "x.json")
    plan = exp.plan()
    assert [r.name for r in plan[:3]] == [
        "variant=plain,lr=0.02,seed=3",
        "variant=plain,lr=0.02,seed=5",
        "variant=plain,lr=0.04,seed=3",
    ]
    assert len(plan) == 8 and len({r.name for r in plan}) == 8
    design, config = exp.build(plan[-1])
    assert design.metadata["template_options"] == {"variant": "shiftscale"}
    assert any(n.type == "Shift" for n in design.nodes.values())
    assert (config.lr, config.seed, config.epochs) == (0.04, 5, 1)
    assert config.dataset == "cifar10"  # the template's, under the experiment's settings


def test_listed_combinations_and_multi_part_levels():
    table = {
        "name": "change",
        "levels": [
            {"label": "none", "options": {"variant": "plain"}},
            {
                "label": "layer-wise shift+scale",
                "options": {"variant": "shiftscale", "mode": "layer"},
                "settings": {"momentum": 0.5},
            },
        ],
    }
    lr = {"name": "lr", "setting": "lr", "levels": [0.02, 0.08]}
    exp = experiment_from_dict(
        spec(
            factors=[table, lr],
            combine="list",
            combinations=[
                {"change": "none", "lr": 0.02},
                {"change": "layer-wise shift+scale", "lr": "0.08"},
            ],
        )
    )
    plan = exp.plan()
    assert [r.name for r in plan] == [
        "change=none,lr=0.02,seed=0",
        "change=layer-wise_shift+scale,lr=0.08,seed=0",
    ]
    design, config = exp.build(plan[1])
    assert {n.params.get("mode") for n in design.nodes.values() if n.type == "Scale"} == {"layer"}
    assert (config.lr, config.momentum) == (0.08, 0.5)


def test_random_samples_are_distinct_and_repeatable():
    exp = experiment_from_dict(spec(combine="random", samples=3, sample_seed=7))
    names = [r.name for r in exp.plan()]
    assert len(set(names)) == 3 and names == [r.name for r in exp.plan()]


def test_edits_set_node_params_and_offline_overrides_the_base(tmp_path):
    path = tmp_path / "tiny.json"
    save_design(tiny_design(), path)
    conv = next(n.name for n in tiny_design().nodes.values() if n.type == "Conv2d")
    exp = experiment_from_dict(
        {
            "format": "netdesigner-experiment",
            "version": 1,
            "base": {"design": "tiny.json"},
            "settings": {"dataset": "cifar10", "data_dir": str(tmp_path), "epochs": 3},
            "factors": [{"name": "width", "edit": f"{conv}.out_channels", "levels": [2, 6]}],
            "offline": {"settings": {"dataset": "digits"}, "edits": {f"{conv}.kernel_size": 1}},
        },
        str(tmp_path / "e.json"),
        tmp_path,
    )
    assert exp.needs_offline()  # no CIFAR-10 files in tmp_path
    design, config = exp.build(exp.plan(offline=True)[1], offline=True)
    node = design.find(conv)
    assert (node.params["out_channels"], node.params["kernel_size"]) == (6, 1)
    assert (config.dataset, config.epochs) == ("digits", 3)
    design, config = exp.build(exp.plan()[0])
    assert design.find(conv).params["out_channels"] == 2 and config.dataset == "cifar10"


def test_a_design_in_memory_replaces_the_base_file_and_a_template_base_refuses_one(tmp_path):
    design = tiny_design()
    conv = next(n.name for n in design.nodes.values() if n.type == "Conv2d")
    exp = experiment_from_dict(
        {
            "format": "netdesigner-experiment",
            "version": 1,
            "base": {"design": "not-written-yet.json"},
            "factors": [{"name": "width", "edit": f"{conv}.out_channels", "levels": [2, 6]}],
        },
        str(tmp_path / "e.json"),
        tmp_path,
    )
    with pytest.raises(ExperimentError, match="not-written-yet.json"):
        exp.build(exp.plan()[0])  # the file is read when a run is built
    built, _ = exp.with_design(design).build(exp.plan()[1])
    assert built.find(conv).params["out_channels"] == 6
    assert design.find(conv).params["out_channels"] == 4  # the given design is not changed
    with pytest.raises(ExperimentError, match="template"):
        experiment_from_dict(spec()).with_design(design)


def test_offline_factors_replace_the_factor_of_their_name():
    aug = {
        "name": "aug",
        "setting": "augmentation",
        "levels": [
            {"label": "off", "value": {}},
            {"label": "on", "value": {"horizontal_flip": True}},
        ],
    }
    digits_aug = {
        **aug,
        "levels": [
            {"label": "off", "value": {}},
            {"label": "on", "value": {"rotation_range": 10.0}},
        ],
    }
    exp = experiment_from_dict(spec(factors=[aug], offline={"factors": [digits_aug]}))
    online, offline = exp.build(exp.plan()[1])[1], exp.build(exp.plan(True)[1], True)[1]
    assert online.augmentation.horizontal_flip and not offline.augmentation.horizontal_flip
    assert offline.augmentation.rotation_range == 10.0
    assert exp.plan()[1].name == exp.plan(True)[1].name == "aug=on,seed=0"


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"format": "netdesigner-design"}, "not a Network Designer experiment"),
        ({"version": 9}, "newer Network Designer"),
        ({"factor": []}, "unknown field 'factor'"),
        ({"base": {"template": "nope"}}, "unknown template 'nope'"),
        ({"base": {}}, "name a 'template'"),
        ({"settings": {"lrr": 1}}, "unknown training setting 'lrr'"),
        (
            {"factors": [{"name": "a", "setting": "lr", "option": "mode", "levels": [1]}]},
            "not both option and setting",
        ),
        ({"factors": [{"name": "a", "setting": "lr", "levels": []}]}, "factors[0] (a): 'levels'"),
        ({"factors": [{"name": "a", "setting": "lr", "levels": [0.1, 0.1]}]}, "two levels"),
        ({"factors": [{"name": "a", "levels": [0.1]}]}, "factors[0] (a) levels[0]"),
        ({"factors": [{"name": "a b", "setting": "lr", "levels": [1]}]}, "a factor's name"),
        ({"combine": "all"}, "'combine' must be one of grid, list, random"),
        ({"combine": "random", "samples": 5}, "'samples' must be from 1 to 4"),
        (
            {"combine": "list", "combinations": [{"variant": "plain"}]},
            "combinations[0]: has no level for the factor 'lr'",
        ),
        (
            {"combine": "list", "combinations": [{"variant": "bn", "lr": 0.02}]},
            "the factor variant has no level 'bn'",
        ),
        ({"seeds": 0}, "'seeds' must be at least 1"),
        ({"settings": {"seed": 4}}, "the seed is set by the experiment's 'seeds'"),
        ({"edits": {"conv1": 3}}, "must be NODE.PARAM"),
        ({"base": {"design": "d.json"}}, "factor variant, level 'plain': sets template options"),
        ({"name": "my sweep"}, "'name' is the name of the experiment's folder"),
    ],
)
def test_a_bad_file_is_one_message_naming_the_place(tmp_path, changes, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(spec(**changes)))
    with pytest.raises(ExperimentError) as err:
        load_experiment(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"edits": {"conv9.out_channels": 3}}, "the design has no node 'conv9'"),
        ({"edits": {"conv1.channels": 3}}, "Conv2d has no parameter 'channels'"),
        ({"edits": {"conv1.out_channels": -3}}, "the edit conv1.out_channels: out_channels"),
        (
            {"base": {"template": "thesis_fcn", "options": {"mode": "diagonal"}}},
            "mode must be one of",
        ),
        (
            {"base": {"template": "thesis_fcn", "options": {"dropout": "yes"}}},
            "option dropout of thesis_fcn must be true or false",
        ),
        ({"base": {"template": "thesis_fcn", "options": {"depth": 3}}}, "has no option 'depth'"),
        ({"settings": {"optimizer": "lion"}}, "'optimizer' must be one of"),
    ],
)
def test_a_run_that_cannot_be_built_is_named(changes, message):
    exp = experiment_from_dict(spec(**changes), "x.json")
    with pytest.raises(ExperimentError) as err:
        exp.check()
    assert "x.json: the run variant=plain,lr=0.02,seed=0" in str(err.value)
    assert message in str(err.value)


def test_not_json_and_missing_files_are_named(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": ')
    with pytest.raises(ExperimentError, match=r"broken.json: not valid JSON at line 1"):
        load_experiment(path)
    with pytest.raises(ExperimentError, match="no such file"):
        load_experiment(tmp_path / "gone.json")
    with pytest.raises(ExperimentError, match="no shipped experiment of that name"):
        find_experiment("gone", SHIPPED)


def test_the_shipped_experiments_load_and_every_run_builds_online_and_offline():
    experiments = list_experiments(SHIPPED)
    assert {e.name for e in experiments} == SHIPPED_NAMES
    for e in experiments:
        assert e.description and e.title and e.offline is not None, e.name
        assert "found" in e.description, f"{e.name} does not say what the course found"
        for offline in (False, True):
            plan = e.check(offline)
            _, config = e.build(plan[0], offline)
            assert config.dataset == "digits" if offline else config.dataset != "digits"
    thesis = find_experiment("thesis_shift_scale", SHIPPED)
    plan = thesis.plan()
    # none, batch norm and the table's 9 shift/scale combinations, at 3 learning rates
    assert len(plan) == 33 and {r.labels["lr"] for r in plan} == {"0.02", "0.04", "0.08"}
    design, config = thesis.build(plan[-1])
    assert (config.optimizer, config.momentum, config.init) == ("sgd", 0.9, "he")
    assert not any(n.type == "Dropout" for n in design.nodes.values())
