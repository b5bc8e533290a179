"""Dataset downloads through the project's one downloader: chunks with progress, Cancel, MD5
checks, atomic files — served here from a real HTTP server on the loopback address, with real
MNIST-format files; torchvision's mirror list is pointed at it."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading

import pytest
import torchvision

from designer.data import DataError, load_source
from tests.data.conftest import write_mnist


@pytest.fixture
def mnist_server(tmp_path, monkeypatch):
    written = write_mnist(tmp_path / "served", raw=False, gz=True, n_train=30, n_test=10)
    served = tmp_path / "served" / "MNIST" / "raw"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    resources = [
        (p.name, hashlib.md5(p.read_bytes()).hexdigest()) for p in sorted(served.glob("*.gz"))
    ]
    monkeypatch.setattr(
        torchvision.datasets.MNIST, "mirrors", [f"http://127.0.0.1:{httpd.server_address[1]}/"]
    )
    monkeypatch.setattr(torchvision.datasets.MNIST, "resources", resources)
    yield written, resources
    httpd.shutdown()


def test_a_download_reports_progress_per_file_and_loads(mnist_server, tmp_path):
    _written, resources = mnist_server
    seen = []
    raw = load_source("mnist", tmp_path / "data", progress=lambda *a: seen.append(a))
    assert len(raw.train_labels) == 30 and len(raw.test_labels) == 10
    assert {name for name, _done, _total in seen} == {name for name, _ in resources}
    last = {name: (done, total) for name, done, total in seen}
    assert all(done == total for done, total in last.values())


def test_a_stopped_download_leaves_no_partial_file(mnist_server, tmp_path):
    with pytest.raises(DataError, match="the download was stopped"):
        load_source("mnist", tmp_path / "data", progress=lambda *a: True)
    raw_dir = tmp_path / "data" / "MNIST" / "raw"
    assert not raw_dir.exists() or list(raw_dir.iterdir()) == []


def test_a_damaged_download_is_refused(mnist_server, tmp_path, monkeypatch):
    _written, resources = mnist_server
    monkeypatch.setattr(
        torchvision.datasets.MNIST, "resources", [(name, "0" * 32) for name, _ in resources]
    )
    with pytest.raises(DataError, match="damaged"):
        load_source("mnist", tmp_path / "data")


def test_train_from_the_command_line_shows_the_download(mnist_server, tmp_path, capsys):
    from designer.cli import main
    from designer.core.serialization import save_design
    from designer.templates import new_from_template

    _written, resources = mnist_server
    design = tmp_path / "lenet5.json"
    save_design(new_from_template("lenet5"), design)
    argv = ["train", str(design), "--run-dir", str(tmp_path / "run"), "--epochs", "1"]
    argv += ["--data", "mnist", "--data-dir", str(tmp_path / "data"), "--device", "cpu"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if line.startswith("downloading ")] == [
        f"downloading {name}" for name, _ in resources
    ]
    assert (tmp_path / "run" / "result.json").is_file()
