"""New from template with ImageNet weights, in the app: offline it names the URL and takes a
local file instead; the download itself (chunks, progress, cancel, hash check) is tested
against a server on this machine's loopback address."""

from __future__ import annotations

import errno
import hashlib
import http.server
import socket
import threading

import pytest
import torch

from designer.interop.pretrained import DownloadCancelled, download, pretrained_file
from designer.interop.torchvision_weights import PretrainedUnavailable
from designer.interop.weights import WEIGHTS_KEY, read_tensors


@pytest.fixture
def offline(monkeypatch):
    def no_lookup(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def no_connect(self, address):
        raise OSError(errno.ENETUNREACH, "Network is unreachable")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    monkeypatch.setattr(socket.socket, "connect", no_connect)


def test_offline_the_url_is_named_and_a_local_file_is_used(window, offline, tmp_path, monkeypatch):
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # nothing cached
    local = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18().state_dict(), local)
    url = pretrained_file("resnet18").url
    window.answers.replies.update(
        {
            "choose_template": ("resnet18", True),
            "save_path": str(tmp_path / "r18.json"),
            "confirm": True,
            "open_weights": str(local),
        }
    )
    assert window.files.new_from_template()
    asked = [args for name, args in window.answers.asked if name == "confirm"]
    assert url in asked[0][1] and "Choose a weights file" in asked[0][1]
    design = window.editor.design
    assert window.editor.path == str(tmp_path / "r18.json")
    assert design.metadata[WEIGHTS_KEY] == "r18.safetensors"
    mapped = read_tensors(tmp_path / "r18.safetensors")
    original = torch.load(local, weights_only=True)
    assert torch.equal(mapped["conv1.weight"], original["conv1.weight"])


def test_the_gallery_offers_imagenet_weights_only_where_torchvision_has_them(qtbot):
    from designer.app.dialogs.gallery import TemplateGallery

    gallery = TemplateGallery()
    qtbot.addWidget(gallery)
    names = [t.name for t in gallery.templates]
    gallery.table.selectRow(names.index("resnet18"))
    assert gallery.pretrained.isEnabled()
    gallery.pretrained.setChecked(True)
    assert gallery.chosen() == ("resnet18", True)
    gallery.table.selectRow(names.index("lenet5"))
    assert not gallery.pretrained.isEnabled() and gallery.chosen() == ("lenet5", False)


class _Serve(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    body = bytes(range(256)) * 2000  # 512 kB: several chunks
    _Serve.body = body
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Serve)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/weights.pth", body
    httpd.shutdown()


def test_download_reports_progress_and_checks_the_hash_prefix(server, tmp_path):
    url, body = server
    prefix = hashlib.sha256(body).hexdigest()[:8]
    seen = []
    download(url, tmp_path / f"net-{prefix}.pth", progress=lambda d, t: seen.append((d, t)))
    assert (tmp_path / f"net-{prefix}.pth").read_bytes() == body
    assert seen[-1] == (len(body), len(body)) and len(seen) > 1
    with pytest.raises(PretrainedUnavailable, match="damaged"):
        download(url, tmp_path / "net-00000000.pth")
    assert not (tmp_path / "net-00000000.pth").exists()


def test_a_cancelled_download_leaves_nothing(server, tmp_path):
    url, _ = server
    calls = []
    with pytest.raises(DownloadCancelled):
        download(url, tmp_path / "w.pth", cancelled=lambda: calls.append(1) or len(calls) > 2)
    assert not (tmp_path / "w.pth").exists() and list(tmp_path.iterdir()) == []
