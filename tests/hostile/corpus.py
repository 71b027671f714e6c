"""The hostile corpus: inputs other people control, each built next to good objects that must
still be reported.

`file_cases(root)` writes files, folders, cluster dumps and snapshot files under `root` and
returns one `Case` per hostile input: the `plumbob` arguments, the good GPU nodes placed beside
the bad input (every one must come out as a `gpu-node-untainted` finding), and optionally a
`verify` callable for what the class adds (a secret never written, a quantity refused).
`server_cases` describes the misbehaving API servers and Prometheus (tests/hostile/servers.py
starts them). tests/hostile/test_hostile.py runs every case in a subprocess bounded in time and
memory.

Run standalone to write the corpus into a folder and print its cases:
    python -m tests.hostile.corpus /tmp/hostile
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import socket
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Verify = Callable[["Outcome"], str | None]
"""A check of one outcome: None when it holds, else what is wrong."""


@dataclass(frozen=True)
class Outcome:
    rc: int
    stdout: bytes
    stderr: bytes
    report: dict[str, Any] | None
    written: dict[str, bytes]
    """Files the case names in `Case.keep`, as the run left them."""
    seconds: float
    peak_kib: int
    timed_out: bool


@dataclass(frozen=True)
class Case:
    name: str
    klass: str
    args: tuple[str | bytes, ...]
    good: frozenset[str] = frozenset()
    verify: tuple[Verify, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    keep: tuple[str, ...] = ()
    timeout: float = 60.0
    cwd: str | None = None
    server: str | None = None
    """A server case: the behaviour of the stand-in it scans (servers.py)."""


# ---------------------------------------------------------------------- objects

GOOD = ("good-a", "good-b")
"""The good neighbours: GPU nodes without a taint, so each is a finding by name."""


def node(name: str, gpus: str = "8", labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "uid": f"uid-{name}", "labels": labels or {}},
        "status": {"capacity": {"nvidia.com/gpu": gpus}, "allocatable": {"nvidia.com/gpu": gpus}},
    }


def deployment(name: str, env: dict[str, str], image: str = "nvcr.io/nvidia/pytorch:24.01") -> Any:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "ml"},
        "spec": {
            "replicas": 1,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "main",
                            "image": image,
                            "env": [{"name": k, "value": v} for k, v in env.items()],
                            "resources": {"limits": {"nvidia.com/gpu": "1"}},
                        }
                    ]
                },
            },
        },
    }


def yaml_doc(obj: Any) -> str:
    return json.dumps(obj)  # JSON is YAML; one per document


def goods() -> list[dict[str, Any]]:
    return [node(n) for n in GOOD]


def deep_json(depth: int) -> str:
    return '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"data":' + (
        '{"a":' * depth + "1" + "}" * depth + "}"
    )


def as_list(items: list[str]) -> bytes:
    return ('{"apiVersion":"v1","kind":"List","items":[' + ",".join(items) + "]}").encode()


# ---------------------------------------------------------------------- verifiers

CONTROL = tuple(chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)])


def raw_controls(data: bytes) -> list[str]:
    """Control characters (C0 but tab and newline, DEL, C1) and bytes that are not UTF-8."""
    text = data.decode("utf-8", "surrogateescape")
    bad = {repr(ch) for ch in text if ch in CONTROL or "\udc80" <= ch <= "\udcff"}
    return sorted(bad)


def gpus_total(expected: int) -> Verify:
    def verify(out: Outcome) -> str | None:
        assert out.report is not None
        got = sum(c.get("gpusAllocatable") or 0 for c in out.report["clusters"])
        return None if got == expected else f"{got} GPUs counted, expected {expected}"

    return verify


def warned(*words: str) -> Verify:
    """stderr or the report's diagnostics say each of `words`."""

    def verify(out: Outcome) -> str | None:
        text = out.stderr.decode("utf-8", "replace")
        if out.report is not None:
            text += json.dumps(out.report.get("diagnostics", []))
            text += json.dumps(out.report.get("inputs", {}))
        missing = [w for w in words if w.lower() not in text.lower()]
        return f"not said: {missing}" if missing else None

    return verify


def never_written(*secrets: str) -> Verify:
    def verify(out: Outcome) -> str | None:
        blobs = [out.stdout, out.stderr, json.dumps(out.report or {}).encode()]
        for name, data in out.written.items():
            blobs.append(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
            del name
        leaked = [s for s in secrets if any(s.encode() in b for b in blobs)]
        return f"written: {leaked}" if leaked else None

    return verify


def exit_code(*codes: int) -> Verify:
    def verify(out: Outcome) -> str | None:
        return None if out.rc in codes else f"exit {out.rc}, expected {codes}"

    return verify


def objects_counted(expected: int) -> Verify:
    def verify(out: Outcome) -> str | None:
        assert out.report is not None
        got = sum(c.get("objects") or 0 for c in out.report["clusters"])
        return None if got == expected else f"{got} objects counted, expected {expected}"

    return verify


# ---------------------------------------------------------------------- file cases

LIMIT_ENV = {"PLUMBOB_MAX_INPUT_MB": "64"}
"""The decompressed-size cap lowered for the corpus, so a bomb past it stays cheap."""

SECRETS = {
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "hf": "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "ngc": "nvapi-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdEFGHijkl",
    "github": "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbHVtYm9iIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg",
    "pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAxyz\n-----END RSA PRIVATE KEY-----",
    "url": "postgresql://trainer:Sup3rS3cretPw@db.internal:5432/runs",
}
SECRET_NEEDLES = {
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "hf": SECRETS["hf"],
    "ngc": SECRETS["ngc"],
    "github": SECRETS["github"],
    "jwt": SECRETS["jwt"],
    "pem": "MIIEowIBAAKCAQEAxyz",
    "url": "Sup3rS3cretPw",
}


class _Writer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.cases: list[Case] = []

    def folder(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write(self, case: str, filename: str | bytes, data: bytes | str) -> Path:
        folder = self.folder(case)
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        if isinstance(filename, bytes):
            target = os.path.join(os.fsencode(folder), filename)
            with open(target, "wb") as fh:
                fh.write(raw)
            return Path(os.fsdecode(target))
        path = folder / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
        return path

    def goods(self, case: str) -> Path:
        return self.write(case, "good.yaml", "\n---\n".join(yaml_doc(n) for n in goods()))

    def add(self, case: str, klass: str, *args: str | bytes, **kw: Any) -> None:
        good = kw.pop("good", frozenset(GOOD))
        self.cases.append(Case(case, klass, tuple(args), frozenset(good), **kw))


def _terminal(w: _Writer) -> None:
    names = {
        "term-markup-close": "evil[/]tag",
        "term-markup-link": "[link=https://evil.example]click[/link]",
        "term-markup-style": "[bold red blink]alarm[/bold red blink][",
        "term-esc-clear-screen": "clear\x1b[2J\x1b[3J\x1b[Hscreen",
        "term-osc8-hyperlink": "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07",
        "term-osc-title": "\x1b]0;owned\x07title",
        "term-c1-csi": "c1\u009b2J\u009dtitle\u009c",
        "term-nul": "nul\x00byte",
        "term-bell-backspace": "bell\x07\x08\x08\x08hidden",
        "term-carriage-return": "real\rfake-node",
        "term-bidi-override": "abc\u202edcba\u2066x",
        "term-newline-in-name": "line\nINJECTED: critical",
    }
    for case, name in names.items():
        doc = json.dumps(node(name, labels={"pool": name}))
        w.write(case, "bad.json", doc)
        w.goods(case)
        w.add(case, "terminal", str(w.root / case))
    # a hostile image in a GPU workload (quoted in finding messages)
    case = "term-esc-image"
    w.write(case, "bad.json", json.dumps(deployment("esc", {}, "repo\x1b[2J[/]:latest")))
    w.goods(case)
    w.add(case, "terminal", str(w.root / case))
    # a hostile namespace
    case = "term-esc-namespace"
    dep = deployment("x", {})
    dep["metadata"]["namespace"] = "ns\x1b]8;;http://e\x07[link=x]"
    w.write(case, "bad.json", json.dumps(dep))
    w.goods(case)
    w.add(case, "terminal", str(w.root / case))
    # file names with markup / escapes, unreadable so that a diagnostic quotes them
    for case, fname in {
        "term-markup-file-name": "[link=https:/[/]x.yaml",
        "term-esc-file-name": "esc\x1b[2Jname\x9b.yaml",
    }.items():
        w.write(case, fname, "kind: [unclosed\n")
        w.goods(case)
        w.add(case, "terminal", str(w.root / case))
    # a parse error that quotes a line holding escapes
    case = "term-esc-in-parse-error"
    w.write(
        case, "bad.yaml", "apiVersion: v1\nkind: Node\nmetadata: {name: \x1b[2J\x9b [/]\n  : :\n"
    )
    w.goods(case)
    w.add(case, "terminal", str(w.root / case))
    # --cluster with markup and escapes
    case = "term-cluster-name"
    w.goods(case)
    w.add(case, "terminal", str(w.root / case), "--cluster", "c[/]\x1b[2J\u009b[link=x]")
    # JSON to stdout: C1 and escapes in strings must come out as \\u escapes
    case = "term-json-stdout"
    w.write(case, "bad.json", json.dumps(node("json\u009b\x1b[2J")))
    w.goods(case)
    w.add(case, "terminal", str(w.root / case), "--format", "json")
    case = "term-markdown-stdout"
    w.write(case, "bad.json", json.dumps(node("md\u009b\x1b[2J")))
    w.goods(case)
    w.add(case, "terminal", str(w.root / case), "--format", "markdown")


def _special(w: _Writer) -> None:
    case = "special-fifo-argument"
    w.goods(case)
    fifo = w.folder(case) / "fifo.yaml"
    os.mkfifo(fifo)
    w.add(case, "special", str(w.root / case / "good.yaml"), str(fifo), verify=(warned("fifo"),))
    case = "special-fifo-in-folder"
    w.goods(case)
    os.mkfifo(w.folder(case) / "pipe.json")
    w.add(case, "special", str(w.root / case), verify=(warned("fifo"),))
    case = "special-socket-in-folder"
    w.goods(case)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(w.folder(case) / "s.yaml"))
    sock.close()
    w.add(case, "special", str(w.root / case), verify=(warned("socket"),))
    case = "special-dev-zero-argument"
    w.goods(case)
    w.add(
        case, "special", str(w.root / case / "good.yaml"), "/dev/zero", verify=(warned("device"),)
    )
    case = "special-dev-zero-symlink-in-folder"
    w.goods(case)
    os.symlink("/dev/zero", w.folder(case) / "zero.yaml")
    w.add(case, "special", str(w.root / case), verify=(warned("device"),))
    case = "special-dev-urandom-symlink-in-folder"
    w.goods(case)
    os.symlink("/dev/urandom", w.folder(case) / "random.json")
    w.add(case, "special", str(w.root / case), verify=(warned("device"),))
    # a cluster-info dump: nodes.json with the good nodes, a FIFO for a namespace's pods
    case = "special-fifo-in-dump"
    dump = w.folder(case)
    (dump / "nodes.json").write_text(json.dumps({"kind": "NodeList", "items": goods()}))
    (dump / "ml").mkdir()
    os.mkfifo(dump / "ml" / "pods.json")
    (dump / "default").mkdir()
    (dump / "default" / "pods.json").write_text('{"kind":"PodList","items":[]}')
    w.add(case, "special", str(dump), verify=(warned("fifo"),))
    case = "special-device-in-dump"
    dump = w.folder(case)
    (dump / "nodes.json").write_text(json.dumps({"kind": "NodeList", "items": goods()}))
    (dump / "ml").mkdir()
    os.symlink("/dev/zero", dump / "ml" / "pods.json")
    (dump / "ml" / "deployments.json").write_text('{"kind":"DeploymentList","items":[]}')
    w.add(case, "special", str(dump), verify=(warned("device"),))


def _limits(w: _Writer) -> None:
    a, b = (yaml_doc(n) for n in goods())
    deep_yaml = "[" * 20000 + "]" * 20000
    case = "limit-deep-yaml-document-between-good"
    w.write(case, "all.yaml", f"{a}\n---\n{deep_yaml}\n---\n{b}\n")
    w.add(case, "limits", str(w.root / case), verify=(warned("nest"),))
    case = "limit-deep-yaml-mapping-between-good"
    w.write(case, "all.yaml", f"{a}\n---\n" + "a: {" * 3000 + "}" * 3000 + f"\n---\n{b}\n")
    w.add(case, "limits", str(w.root / case), verify=(warned("nest"),))
    case = "limit-deep-json-list-item"
    w.write(case, "list.json", as_list([a, deep_json(100000), b]))
    w.add(case, "limits", str(w.root / case), verify=(warned("nest"),))
    case = "limit-deep-json-list-item-moderate"
    w.write(case, "list.json", as_list([a, deep_json(900), b]))
    w.add(case, "limits", str(w.root / case))
    case = "limit-deep-json-file-beside-good"
    w.write(case, "deep.json", deep_json(200000))
    w.goods(case)
    w.add(case, "limits", str(w.root / case), verify=(warned("nest"),))
    case = "limit-yaml-alias-bomb"
    laughs = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    laughs.extend(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10))
    bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n" + "\n".join(
        "  " + line for line in laughs
    )
    w.write(case, "all.yaml", f"{a}\n---\n{bomb}\n---\n{b}\n")
    w.add(case, "limits", str(w.root / case))
    case = "limit-huge-string-value"
    big = node("big", labels={"x": "y" * (20 * 1024 * 1024)})
    w.write(case, "big.json", json.dumps(big))
    w.goods(case)
    w.add(case, "limits", str(w.root / case))
    case = "limit-many-keys"
    many = node("many", labels={f"k{i}": "v" for i in range(200000)})
    w.write(case, "many.json", json.dumps(many))
    w.goods(case)
    w.add(case, "limits", str(w.root / case))
    case = "limit-many-documents"
    w.write(case, "docs.yaml", f"{a}\n" + "---\n{}\n" * 100000 + f"---\n{b}\n")
    w.add(case, "limits", str(w.root / case))
    case = "limit-deep-snapshot-object"
    snap = {
        "apiVersion": "plumbob.dev/v1",
        "kind": "Snapshot",
        "cluster": {"name": "snap"},
        "objects": [node("good-a"), json.loads(deep_json(50)), node("good-b")],
    }
    text = json.dumps(snap).replace('"a": 1', '"a": ' + "[" * 50000 + "]" * 50000)
    w.write(case, "snap.json", text)
    w.add(case, "limits", str(w.root / case / "snap.json"))


def _encodings(w: _Writer) -> None:
    a, b = (yaml_doc(n) for n in goods())
    case = "enc-invalid-utf8-in-list-item"
    bad = json.dumps(node("bad-utf8")).replace("bad-utf8", "bad-\xff\xfe").encode("latin-1")
    w.write(case, "list.json", as_list([a])[:-2] + b"," + bad + b"," + b.encode() + b"]}")
    w.add(case, "encoding", str(w.root / case), verify=(warned("UTF-8"),))
    case = "enc-lone-surrogate-in-list-item"
    bad_s = json.dumps(node("x")).replace('"x"', '"bad-\\ud800"')
    w.write(case, "list.json", as_list([a, bad_s, b]))
    w.add(case, "encoding", str(w.root / case), verify=(warned("surrogate"),))
    case = "enc-lone-surrogate-yaml"
    w.write(
        case,
        "all.yaml",
        f'{a}\n---\nkind: Node\napiVersion: v1\nmetadata: {{name: "s\\ud800"}}\n---\n{b}\n',
    )
    w.add(case, "encoding", str(w.root / case))
    yaml_text = f"{a}\n---\n{b}\n"
    for case, codec, bom in (
        ("enc-utf16le-bom-yaml", "utf-16-le", b"\xff\xfe"),
        ("enc-utf16be-bom-yaml", "utf-16-be", b"\xfe\xff"),
        ("enc-utf32le-bom-yaml", "utf-32-le", b"\xff\xfe\x00\x00"),
        ("enc-utf32be-bom-yaml", "utf-32-be", b"\x00\x00\xfe\xff"),
    ):
        w.write(case, "nodes.yaml", bom + yaml_text.encode(codec))
        w.add(case, "encoding", str(w.root / case))
    for case, codec, bom in (
        ("enc-utf16le-bom-json", "utf-16-le", b"\xff\xfe"),
        ("enc-utf32be-bom-json", "utf-32-be", b"\x00\x00\xfe\xff"),
    ):
        w.write(case, "list.json", bom + as_list([a, b]).decode().encode(codec))
        w.add(case, "encoding", str(w.root / case))
    case = "enc-utf8-bom-json"
    w.write(case, "list.json", b"\xef\xbb\xbf" + as_list([a, b]))
    w.add(case, "encoding", str(w.root / case))
    case = "enc-non-utf8-file-name"
    w.write(case, b"nodes-\xff\xfe\x1b.yaml", yaml_text)
    w.write(case, b"broken-\xff.yaml", "kind: [x\n")
    w.add(case, "encoding", os.fsencode(w.root / case))
    case = "enc-non-utf8-folder-name"
    folder = os.path.join(os.fsencode(w.folder(case)), b"team-\xe9\xff")
    os.mkdir(folder)
    with open(os.path.join(folder, b"nodes.yaml"), "w") as fh:
        fh.write(yaml_text)
    w.add(case, "encoding", os.fsencode(w.root / case))
    case = "enc-non-utf8-cluster"
    w.goods(case)
    w.add(case, "encoding", str(w.root / case), "--cluster", b"prod-\xff\xfe\x1b")
    case = "enc-invalid-utf8-in-yaml-document"
    w.write(
        case,
        "all.yaml",
        f"{a}\n---\n".encode() + b"kind: Node\nmetadata: {name: n\xff}\n---\n" + b.encode(),
    )
    w.add(case, "encoding", str(w.root / case))
    case = "enc-latin1-file"
    w.write(
        case,
        "latin.yaml",
        "kind: ConfigMap\napiVersion: v1\nmetadata: {name: caf\xe9}\n".encode("latin-1"),
    )
    w.goods(case)
    w.add(case, "encoding", str(w.root / case))


def _gzip_bomb(size: int, head: bytes, tail: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(head)]
    block = b" " * (1024 * 1024)
    parts.extend(packer.compress(block) for _ in range(size // len(block)))
    parts.append(packer.compress(tail) + packer.flush())
    return b"".join(parts)


def _compression(w: _Writer) -> None:
    a, b = (yaml_doc(n) for n in goods())
    mib = 1024 * 1024
    case = "gz-bomb-json-beside-good"
    w.write(case, "bomb.json.gz", _gzip_bomb(300 * mib, b'{"kind":"List","items":[', b"]}"))
    w.goods(case)
    w.add(case, "compression", str(w.root / case), env=LIMIT_ENV, verify=(warned("MiB"),))
    case = "gz-bomb-yaml-beside-good"
    w.write(case, "bomb.yaml.gz", _gzip_bomb(300 * mib, b"kind: Node\nx: '", b"'\n"))
    w.goods(case)
    w.add(case, "compression", str(w.root / case), env=LIMIT_ENV, verify=(warned("MiB"),))
    case = "gz-bomb-streamed-list"
    # big enough on disk to take the streaming path (32 MiB compressed)
    items = ",".join(json.dumps(node(f"pad-{i}", "0")) for i in range(200))
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    parts = [packer.compress(b'{"kind":"List","items":[' + items.encode() + b',{"x":"')]
    noise = os.urandom(mib)
    parts.extend(packer.compress(base64.b64encode(noise)) for _ in range(40))
    parts.append(packer.compress(b'"}]}') + packer.flush())
    w.write(case, "big.json.gz", b"".join(parts))
    w.goods(case)
    w.add(
        case,
        "compression",
        str(w.root / case),
        env={"PLUMBOB_MAX_INPUT_MB": "32"},
        verify=(warned("PLUMBOB_MAX_INPUT_MB"),),
    )
    case = "gz-truncated-beside-good"
    w.write(case, "cut.json.gz", gzip.compress(as_list([a, b]))[:-30])
    w.goods(case)
    w.add(case, "compression", str(w.root / case))
    case = "gz-nested"
    w.write(case, "twice.yaml.gz", gzip.compress(gzip.compress(b"kind: Node\n")))
    w.goods(case)
    w.add(case, "compression", str(w.root / case))
    case = "gz-bomb-snapshot"
    w.write(
        case,
        "snap.json.gz",
        _gzip_bomb(300 * mib, b'{"apiVersion":"plumbob.dev/v1","kind":"Snapshot","x":"', b'"}'),
    )
    w.goods(case)
    w.add(case, "compression", str(w.root / case), env=LIMIT_ENV)
    case = "gz-bomb-in-dump"
    dump = w.folder(case)
    (dump / "nodes.json").write_text(json.dumps({"kind": "NodeList", "items": goods()}))
    (dump / "ml").mkdir()
    (dump / "ml" / "pods.json").write_bytes(gzip.compress(b"not json"))
    (dump / "default").mkdir()
    bomb = _gzip_bomb(300 * mib, b'{"kind":"PodList","items":[', b"]}")
    (dump / "default" / "pods.json").write_bytes(bomb)
    w.add(case, "compression", str(dump), env=LIMIT_ENV)


def _snapshots(w: _Writer) -> None:
    a, b = goods()
    base = {"apiVersion": "plumbob.dev/v1", "kind": "Snapshot", "cluster": {"name": "snap"}}
    case = "snap-wrong-api-version"
    w.write(case, "snap.json", json.dumps({**base, "apiVersion": "plumbob.dev/v999"}))
    w.goods(case)
    w.add(case, "snapshot", str(w.root / case))
    case = "snap-objects-not-a-list"
    w.write(case, "snap.json", json.dumps({**base, "objects": {"a": 1}}))
    w.goods(case)
    w.add(case, "snapshot", str(w.root / case))
    case = "snap-bad-object-among-good"
    w.write(case, "snap.json", json.dumps({**base, "objects": [a, {"kind": 7}, "x", None, b]}))
    w.add(case, "snapshot", str(w.root / case / "snap.json"))
    case = "snap-truncated-gz"
    w.write(
        case, "snap.json.gz", gzip.compress(json.dumps({**base, "objects": [a, b]}).encode())[:-40]
    )
    w.goods(case)
    w.add(case, "snapshot", str(w.root / case))
    case = "snap-hostile-cluster-name"
    doc = {**base, "cluster": {"name": "c\x1b[2J[/]\u009b"}, "objects": [a, b]}
    w.write(case, "snap.json", json.dumps(doc))
    w.add(case, "snapshot", str(w.root / case / "snap.json"))


def _secrets(w: _Writer) -> None:
    for key, value in SECRETS.items():
        case = f"secret-{key}-under-neutral-name"
        dep = deployment("trainer", {"MODEL_SOURCE_CONFIG": value, "OPTS": f"--x {value}"})
        w.write(case, "dep.json", json.dumps(dep))
        w.goods(case)
        w.add(
            case,
            "secrets",
            str(w.root / case),
            "--output",
            f"html={w.root / case / 'report.html'}",
            "--output",
            f"sarif={w.root / case / 'report.sarif'}",
            keep=("report.html", "report.sarif"),
            verify=(never_written(SECRET_NEEDLES[key]),),
        )


def _quantities(w: _Writer) -> None:
    for case, gpus in (
        ("qty-negative-gpus", "-8"),
        ("qty-arabic-indic-digits", "\u0663"),
        ("qty-fullwidth-digits", "\uff11\uff10"),
        ("qty-superscript-digits", "\u00b2"),
        ("qty-huge-exponent", "1e999999"),
    ):
        w.write(case, "bad.json", json.dumps(node("odd", gpus)))
        w.goods(case)
        w.add(case, "quantities", str(w.root / case), verify=(gpus_total(16), warned("quantit")))


def _store(w: _Writer) -> None:
    case = "store-nul-in-label-sqlite"
    w.write(
        case, "bad.json", json.dumps(node("nul-label", labels={"team": "a\x00b", "k\x00": "v"}))
    )
    w.goods(case)
    db = w.root / case / "store.db"
    w.add(case, "store", str(w.root / case), "--store", f"sqlite:///{db}", verify=(exit_code(0),))
    case = "store-sqlite-relative-url"
    w.goods(case)
    w.add(
        case,
        "store",
        str(w.root / case),
        "--store",
        "sqlite:///relative-store.db",
        verify=(exit_code(0), warned(str(w.root / case / "relative-store.db"))),
        cwd=str(w.root / case),
    )


def file_cases(root: Path) -> list[Case]:
    """Write every file case under `root`; the cases, in order."""
    w = _Writer(root)
    for part in (_terminal, _special, _limits, _encodings, _compression, _snapshots, _secrets):
        part(w)
    _quantities(w)
    _store(w)
    return w.cases


def main() -> None:
    root = Path(sys.argv[1])
    root.mkdir(parents=True, exist_ok=True)
    for case in file_cases(root):
        print(f"{case.klass:12} {case.name}")


if __name__ == "__main__":
    main()
