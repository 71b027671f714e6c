"""Every file under a scanned path is read or named as not read, with the reason; none is
skipped without a word."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from plumbob.sources.files import FileSource
from tests.conftest import REAL, make_deployment, make_node

DEPLOYMENT = yaml.safe_dump(make_deployment("web"))


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    (tmp_path / "app.yaml").write_text(DEPLOYMENT)
    (tmp_path / "nodes.json").write_text(json.dumps({"kind": "List", "items": [make_node("n1")]}))
    (tmp_path / "README.md").write_text("# how to deploy\n")
    (tmp_path / "notes.txt").write_text("ssh to the bastion first, then run the playbook\n")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "broken.json").write_text('{"kind": "Pod", ')
    (tmp_path / "values.yaml").write_text("replicaCount: 2\nimage: {tag: latest}\n")
    (tmp_path / "events.json").write_text(
        json.dumps(
            {
                "kind": "List",
                "items": [{"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}}],
            }
        )
    )
    sub = tmp_path / "saved"
    sub.mkdir()
    (sub / "deploy.out").write_text(DEPLOYMENT)  # kubectl output saved under another suffix
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n")
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "gone.yaml")
    return tmp_path


def test_every_file_is_read_or_named(mixed: Path) -> None:
    loaded = FileSource((mixed,)).load()
    inputs = loaded.inputs
    assert inputs is not None
    unread = {Path(f.path).name: f.reason for f in inputs.unread}
    assert inputs.files == 11 and inputs.read == 4  # app, nodes, events, saved/deploy.out
    assert inputs.files == inputs.read + len(inputs.unread)
    assert set(unread) == {
        "README.md",
        "notes.txt",
        "blob.bin",
        "empty.yaml",
        "broken.json",
        "values.yaml",
        "dangling.yaml",
    }
    assert unread["README.md"] == "documentation or code, not Kubernetes data"
    assert unread["notes.txt"].startswith("not Kubernetes data")
    assert unread["blob.bin"] == "binary file, not JSON or YAML"
    assert unread["empty.yaml"] == "empty file"
    assert "malformed JSON" in (unread["broken.json"] or "")
    assert "not a Kubernetes object" in (unread["values.yaml"] or "")
    assert unread["dangling.yaml"] == "broken symlink"
    assert inputs.skipped_hidden == [str(mixed / ".git")]
    (snap,) = loaded.snapshots
    assert {o.kind for o in snap} == {"Deployment", "Node"}


def test_a_file_of_events_only_is_read_not_lost(mixed: Path) -> None:
    inputs = FileSource((mixed,)).load().inputs
    assert inputs is not None
    assert str(mixed / "events.json") not in {f.path for f in inputs.unread}


def test_strict_exits_2_after_writing_the_report(mixed: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    args = [sys.executable, "-m", "plumbob", "scan", str(mixed), "-q", "-f", "json", "-o", str(out)]
    env = {"CI": "1", "PATH": "/usr/bin:/bin"}
    plain = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert plain.returncode == 0, plain.stderr
    out.unlink()
    strict = subprocess.run(
        [*args, "--strict"], capture_output=True, text=True, env=env, timeout=120
    )
    assert strict.returncode == 2
    assert "--strict: 7 input files not read" in strict.stderr
    assert "Traceback" not in strict.stderr
    report = json.loads(out.read_text())  # written before the exit
    assert report["inputs"]["files"] == 11 and len(report["inputs"]["unread"]) == 7


def test_real_mixed_folders_account_for_every_file(real: Path) -> None:
    """The shared real nodes folder mixes JSON, label maps and terminal text."""
    folder = REAL / "nodes"
    files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    inputs = FileSource((folder,)).load().inputs
    assert inputs is not None
    assert inputs.files == len(files)
    named = {f.path for f in inputs.unread} | {f.path for f in inputs.inventories}
    assert inputs.read + len(inputs.unread) == len(files)
    assert all(f.reason for f in inputs.unread), named


def test_a_snapshot_made_from_files_keeps_what_was_not_seen(tmp_path: Path) -> None:
    from plumbob.sources.snapshot_file import write_snapshot

    (tmp_path / "app.yaml").write_text(DEPLOYMENT)
    (snap,) = FileSource((tmp_path / "app.yaml",)).load().snapshots
    write_snapshot(snap, tmp_path / "app.snapshot.json")
    (back,) = FileSource((tmp_path / "app.snapshot.json",)).load().snapshots
    assert back.captured == snap.captured and back.captured is not None
    assert back.unseen("Node") == "no node inventory: the input has no Node objects"
    assert back.unseen("PodDisruptionBudget") is None  # ships with the Deployment it declares


def test_an_empty_list_is_read(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(DEPLOYMENT)
    (tmp_path / "replicasets.json").write_text('{"apiVersion": "v1", "kind": "List", "items": []}')
    inputs = FileSource((tmp_path,)).load().inputs
    assert inputs is not None and (inputs.files, inputs.read, inputs.unread) == (2, 2, [])
