"""The design file: round-trips, stable and readable; every bad file is one clear error."""

from __future__ import annotations

import json

import pytest

from designer.core import serialization
from designer.core.errors import DesignFileError
from designer.core.serialization import design_to_dict, dumps, load_design, loads, save_design
from designer.templates import list_templates, new_from_template


@pytest.mark.parametrize("name", [t.name for t in list_templates()])
def test_templates_round_trip_exactly(tmp_path, name):
    design = new_from_template(name)
    path = tmp_path / "d.json"
    save_design(design, path)
    again = load_design(path)
    assert design_to_dict(again) == design_to_dict(design)
    assert path.read_text() == dumps(again)


def test_file_is_readable_and_versioned(tmp_path):
    text = dumps(new_from_template("lenet5"))
    data = json.loads(text)
    assert data["format"] == "netdesigner-design" and data["version"] == serialization.VERSION
    assert list(data)[:2] == ["format", "version"]
    assert "\n  " in text  # indented, one field per line: diffs stay small


def test_blocks_are_stored(tmp_path):
    from designer.core.grouping import group_nodes

    design = new_from_template("lenet5")
    ids = [design.find(n).id for n in ("conv2", "relu2")]
    group_nodes(design, ids, "ConvRelu")
    again = loads(dumps(design))
    assert "ConvRelu" in again.blocks
    assert design_to_dict(again) == design_to_dict(design)


def write(tmp_path, text, name="bad.json"):
    p = tmp_path / name
    p.write_text(text) if isinstance(text, str) else p.write_bytes(text)
    return p


def good():
    return design_to_dict(new_from_template("lenet5"))


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: "this is not json", "not valid JSON at line 1"),
        (lambda d: json.dumps(d)[:200], "truncated"),
        (lambda d: json.dumps([1, 2]), "must hold a JSON object"),
        (lambda d: json.dumps({**d, "format": "other"}), "not a Network Designer design"),
        (lambda d: json.dumps({**d, "version": 99}), "newer Network Designer"),
        (lambda d: json.dumps({**d, "version": "1"}), "'version' must be a whole number"),
        (lambda d: json.dumps({k: v for k, v in d.items() if k != "nodes"}), "'nodes' is missing"),
        (lambda d: json.dumps({**d, "nodes": {}}), "'nodes' must be array"),
        (lambda d: json.dumps({**d, "input_shape": [0, 28]}), "'input_shape' must be"),
        (lambda d: json.dumps({**d, "task": "dreaming"}), "'task' must be one of"),
    ],
)
def test_bad_files_give_one_clear_message(tmp_path, mutate, expected):
    p = write(tmp_path, mutate(good()))
    with pytest.raises(DesignFileError) as err:
        load_design(p)
    assert str(p) in str(err.value) and expected in str(err.value)


def test_unknown_layer_type_names_the_node(tmp_path):
    d = good()
    d["nodes"][3]["type"] = "Conv3000d"
    with pytest.raises(
        DesignFileError, match=r"nodes\[3\] \(pool1\): unknown layer type 'Conv3000d'"
    ):
        load_design(write(tmp_path, json.dumps(d)))


def test_wrong_typed_node_field(tmp_path):
    d = good()
    d["nodes"][1]["params"] = [1, 2]
    with pytest.raises(DesignFileError, match=r"nodes\[1\] \(conv1\): 'params' must be object"):
        load_design(write(tmp_path, json.dumps(d)))
    d = good()
    d["nodes"][1]["trainable"] = "yes"
    with pytest.raises(DesignFileError, match="'trainable'"):
        load_design(write(tmp_path, json.dumps(d)))


def test_edge_to_a_missing_node(tmp_path):
    d = good()
    d["edges"][2]["to"] = "n999"
    with pytest.raises(
        DesignFileError, match=r"edges\[2\]: refers to node 'n999', which does not exist"
    ):
        load_design(write(tmp_path, json.dumps(d)))


def test_duplicate_ids(tmp_path):
    d = good()
    d["nodes"][2]["id"] = d["nodes"][1]["id"]
    with pytest.raises(DesignFileError, match="used twice"):
        load_design(write(tmp_path, json.dumps(d)))


def test_unreadable_files(tmp_path):
    with pytest.raises(DesignFileError, match="no such file"):
        load_design(tmp_path / "missing.json")
    with pytest.raises(DesignFileError, match="is a folder"):
        load_design(tmp_path)
    with pytest.raises(DesignFileError, match="not a text file"):
        load_design(write(tmp_path, b"\xff\xfe\x00garbage"))


def test_a_failed_load_changes_nothing_on_disk(tmp_path):
    p = write(tmp_path, json.dumps(good())[:300])
    before = p.read_bytes()
    with pytest.raises(DesignFileError):
        load_design(p)
    assert p.read_bytes() == before


def test_params_out_of_range_load_and_show_as_problems(tmp_path):
    """A wrong param value is the user's to fix in the editor, not a reason to refuse the file."""
    from designer.core.analysis import analyze

    d = good()
    d["nodes"][1]["params"]["out_channels"] = -3
    design = load_design(write(tmp_path, json.dumps(d)))
    assert any(p.param == "out_channels" for p in analyze(design).problems)


def test_migrations_run_in_order(monkeypatch):
    """An old file is brought forward one version at a time before it is read."""
    data = good()
    data["version"] = 1
    data["name_v1"] = data.pop("name")  # pretend version 1 called the field differently
    monkeypatch.setattr(serialization, "VERSION", 2)
    monkeypatch.setitem(
        serialization.MIGRATIONS,
        1,
        lambda d: {
            **{k: v for k, v in d.items() if k != "name_v1"},
            "name": d["name_v1"] + " (migrated)",
            "version": 2,
        },
    )
    design = serialization.design_from_dict(data)
    assert design.name == "LeNet-5 (migrated)"


def test_save_is_atomic(tmp_path, monkeypatch):
    """If writing fails midway, the old file is intact and no temp file is left."""
    design = new_from_template("lenet5")
    path = tmp_path / "d.json"
    save_design(design, path)
    before = path.read_text()
    design.name = "changed"

    def boom(*a, **k):
        raise OSError("disk full")

    from designer.core import atomic

    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(OSError):
        save_design(design, path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["d.json"]


def test_saved_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    path = tmp_path / "d.json"
    save_design(new_from_template("lenet5"), path)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
