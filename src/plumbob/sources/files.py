"""Offline sources: plumbob snapshot files, `kubectl get -o json|yaml` output, manifest files and
directories (Helm/Kustomize rendered output), and `kubectl cluster-info dump` trees.

Everything given in one call that is not a snapshot file or a cluster dump forms one snapshot
(one cluster); each snapshot file and each dump is a cluster of its own.
"""

from __future__ import annotations

import functools
import gzip
import os
import stat
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from plumbob.model.collector import gc_paused
from plumbob.model.node_merge import merge_nodes
from plumbob.model.objects import Node, Object, Origin, Pod
from plumbob.model.snapshot import COMPONENTS, MANIFEST_COMPANIONS, ClusterInfo, Snapshot
from plumbob.report.model import Diagnostic, FileRead, Inputs, Level
from plumbob.report.model import DiagnosticCode as Code
from plumbob.report.text import encodable
from plumbob.sources import jsonstream
from plumbob.sources.decode import ObjectDecoder
from plumbob.sources.interface import Loaded, ProgressHook, SourceError
from plumbob.sources.jsonstream import prune_items
from plumbob.sources.limits import (
    gunzip,
    max_input_bytes,
    special_file,
    too_large,
)
from plumbob.sources.parallel import read_in_order
from plumbob.sources.snapshot_file import (
    SNAPSHOT_API_VERSION,
    SnapshotFile,
    snapshot_from_file,
    stream_snapshot,
)
from plumbob.sources.text_inventory import (
    NotInventory,
    TextInventory,
    label_map_node,
    read_text,
)
from plumbob.sources.yamlload import YamlError, load_documents

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json", ".json.gz", ".yaml.gz", ".yml.gz")
STREAM_ABOVE = 32 * 1024**2
"""JSON Lists from this size on are read block by block (sources/jsonstream.py)."""
_STREAM_SUFFIXES = (".json", ".json.gz")
_NOT_STREAMED = (
    jsonstream.NotStreamable,
    OSError,
    EOFError,
    zlib.error,
    ValueError,
    RecursionError,
)
"""What sends a streamed file to the whole-file read, which reports it precisely (an object
nested deeper than decoding goes included)."""
_SNIFF = 8192

_KIND_BY_NAME = {
    "nodes": "Node",
    "node": "Node",
    "pods": "Pod",
    "pod": "Pod",
    "services": "Service",
    "deployments": "Deployment",
    "daemonsets": "DaemonSet",
    "replicasets": "ReplicaSet",
    "statefulsets": "StatefulSet",
    "jobs": "Job",
    "cronjobs": "CronJob",
    "replication-controllers": "ReplicationController",
    "events": "Event",
    "namespaces": "Namespace",
    "persistentvolumes": "PersistentVolume",
    "configmaps": "ConfigMap",
}
"""File or directory names that say what kind an object without `kind` is (cluster dumps,
support archives)."""


class _Envelope(msgspec.Struct, rename="camel"):
    api_version: str = ""
    kind: str = ""
    items: list[msgspec.Raw] | None = None
    legacy_items: list[msgspec.Raw] | None = msgspec.field(default=None, name="Items")


_envelope = msgspec.json.Decoder(_Envelope)
_raw_list = msgspec.json.Decoder(list[msgspec.Raw])


class _NotJson(ValueError):
    """The text does not parse as JSON."""


OBJECTS = "objects"
INVENTORY = "inventory"
UNREAD = "unread"
"""What became of a file (report.model.FileRead.outcome)."""
DOCUMENT = "documentation or code, not Kubernetes data"

DUMP_KINDS = frozenset(
    {"Node", "Pod", "Service", "Deployment", "DaemonSet", "ReplicaSet", "ReplicationController"}
)
"""What `kubectl cluster-info dump` writes for every namespace it dumps (and nodes.json), in
full (kubectl/pkg/cmd/clusterinfo/clusterinfo_dump.go): none of these in a dump is a fact."""
_DEFAULT_DUMP_NAMESPACES = frozenset({"kube-system", "default"})
"""What `kubectl cluster-info dump` dumps without --all-namespaces or --namespaces."""


@dataclass(slots=True)
class _Collected:
    objects: list[Object] = field(default_factory=list)
    files: list[FileRead] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)


def read_bytes(path: Path) -> bytes:
    """Read a regular file, gunzipping when it is gzip; bounded in size as it is read
    (sources/limits.py), the gzip output included. Raises OSError/ValueError (`TooLarge` past
    the cap, `NotRegular` for a FIFO, socket or device). Standard input (`plumbob scan -`,
    /dev/stdin) is read whatever it is, a pipe most often, as kubectl reads `-f -`: the user
    asked for it, and the cap bounds it too."""
    piped = str(path) == STDIN
    if not piped and (what := special_file(path)) is not None:
        raise NotRegular(what)
    limit = max_input_bytes()
    with open(path, "rb", buffering=0) as fh:
        st = os.fstat(fh.fileno())
        if not piped and not stat.S_ISREG(st.st_mode):  # (swapped since the look)
            raise NotRegular("not a regular file")
        if st.st_size > limit:
            raise too_large()
        chunks, total = [], 0
        while total <= limit and (chunk := fh.read(min(limit + 1 - total, 64 * 1024**2))):
            chunks.append(chunk)
            total += len(chunk)
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if total > limit:
        raise too_large()
    if data[:2] == b"\x1f\x8b":
        data = gunzip(data, limit)
    return from_bom(data)


_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
"""Byte order marks, UTF-32 first (its little-endian mark begins with UTF-16's)."""


def from_bom(data: bytes) -> bytes:
    """UTF-16 or UTF-32 text that starts with a byte order mark, as UTF-8; anything else as
    it is. kubectl reads files through `unicode.BOMOverride` (k8s.io/cli-runtime
    pkg/resource/visitor.go), so a manifest saved as UTF-16 by a Windows editor applies;
    UTF-32 with its mark is read the same way. Text that does not decode stays as it is (and
    is then called binary)."""
    if data[:1] not in (b"\x00", b"\xff", b"\xfe"):
        return data
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec).encode("utf-8")
            except UnicodeError:
                return data
    return data


class NotRegular(ValueError):
    """A FIFO, socket or device: never read (a FIFO may never end, /dev/zero never does)."""


def _looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:_SNIFF]


_DOCUMENT_SUFFIXES = (
    ".md",
    ".markdown",
    ".rst",
    ".adoc",
    ".html",
    ".htm",
    ".css",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".svg",
    ".ico",
    ".pdf",
    ".tpl",
    ".lock",
    ".py",
    ".sh",
    ".go",
    ".js",
    ".ts",
    ".rs",
    ".java",
    ".toml",
    ".cfg",
    ".ini",
    ".mod",
    ".sum",
)
_DOCUMENT_NAMES = frozenset(
    {"LICENSE", "NOTICE", "OWNERS", "CODEOWNERS", "Makefile", "Dockerfile", "Chart.lock"}
)


def _is_document(name: str) -> bool:
    """Files a folder of manifests often holds beside them that are never Kubernetes data:
    documentation, images, code, Helm's helper templates (`_helpers.tpl`). Named as not read,
    without reading them."""
    return name.lower().endswith(_DOCUMENT_SUFFIXES) or name.split(".")[0] in _DOCUMENT_NAMES


class _NotText:
    """The text is no inventory: read it as JSON or YAML."""


_NOT_TEXT = _NotText()


def _maybe_text(data: bytes, manifest: bool) -> bool:
    """Whether a file may be pasted terminal text rather than JSON/YAML objects: not JSON, and
    for a manifest suffix, no `apiVersion` near its start (the text readers are then not asked
    about every manifest of a big folder)."""
    start = data.lstrip()[:1]
    if start in (b"{", b"["):
        return False
    return not manifest or b"apiVersion" not in data[:_SNIFF]


def _looks_like_objects(data: bytes) -> bool:
    """Whether a file without a manifest suffix (node.txt, objects.out) holds JSON or YAML
    Kubernetes objects: it names a kind in its first few kilobytes."""
    head = data[:_SNIFF]
    return b"kind" in head and (b"apiVersion" in head or b"items" in head)


def _kind_hint(path: Path, root: Path | None) -> str | None:
    stem = path.name.split(".")[0]
    if stem in _KIND_BY_NAME:
        return _KIND_BY_NAME[stem]
    return _folder_kind(path.parent, root)


@functools.lru_cache(maxsize=1024)
def _folder_kind(folder: Path, root: Path | None) -> str | None:
    """The kind a folder's name (or an enclosing one's, up to the root) names; files of one
    folder share it, so it is worked out once per folder."""
    for parent in (folder, *folder.parents):
        if root is not None and parent == root.parent:
            break
        if parent.name in _KIND_BY_NAME:
            return _KIND_BY_NAME[parent.name]
    return None


class FileReader:
    """Reads one file into objects (or a snapshot file), reporting problems as diagnostics.

    JSON files of at least `stream_above` bytes (compressed size for gzip) that hold a List are
    read `block` bytes at a time (sources/jsonstream.py), so memory holds the objects, not the
    file."""

    def __init__(
        self,
        decoder: ObjectDecoder,
        *,
        stream_above: int = STREAM_ABOVE,
        block: int = jsonstream.BLOCK,
    ) -> None:
        self.decoder = decoder
        self.stream_above = stream_above
        self.block = block
        self.form: str | None = None
        """The form of the text inventory the last file read was (None: objects)."""

    def problem(
        self,
        path: Path,
        message: str,
        line: int | None = None,
        level: Level = Level.ERROR,
        *,
        code: Code,
    ) -> None:
        self.decoder.diagnostics.append(
            Diagnostic(level=level, code=code, message=message, path=str(path), line=line)
        )

    def account(
        self, path: Path, root: Path | None = None
    ) -> tuple[list[Object] | SnapshotFile | None, FileRead]:
        """`read`, and what became of the file: read as objects (or as a text inventory), or
        not read, and why (the problem reported for it)."""
        name = str(path)
        if _is_document(path.name):  # listed as not read, not reported one by one
            return None, FileRead(path=name, outcome=UNREAD, reason=DOCUMENT)
        mark, dropped = len(self.decoder.diagnostics), self.decoder.dropped
        self.form = None
        result = self.read(path, root)
        if self.form is not None and isinstance(result, list):
            return result, FileRead(
                path=name, outcome=INVENTORY, reason=self.form, objects=len(result)
            )
        if isinstance(result, SnapshotFile):
            return result, FileRead(path=name, outcome=OBJECTS, objects=len(result.snapshot))
        if result:
            return result, FileRead(path=name, outcome=OBJECTS, objects=len(result))
        if self.decoder.dropped > dropped:
            why = "only Events, which no check reads"
            return result, FileRead(path=name, outcome=OBJECTS, reason=why)
        problems = sorted(self.decoder.diagnostics[mark:], key=lambda d: d.level == Level.INFO)
        if result is not None and not problems:  # an empty List: read, and nothing in it
            return result, FileRead(path=name, outcome=OBJECTS, reason="an empty list")
        reason = "no Kubernetes objects"
        if problems:
            first = problems[0]
            reason = f"line {first.line}: {first.message}" if first.line else first.message
            if len(problems) > 1:
                reason += f" (and {len(problems) - 1} more problems)"
        return result, FileRead(path=name, outcome=UNREAD, reason=reason)

    def read(self, path: Path, root: Path | None = None) -> list[Object] | SnapshotFile | None:
        streamed = self._stream(path, root)
        if streamed is not None:
            return streamed
        try:
            data = read_bytes(path)
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            if path.is_symlink() and not path.exists():
                self.problem(path, "broken symlink", code=Code.FILE_UNREADABLE)
            else:
                why = getattr(exc, "strerror", None) or exc
                self.problem(path, f"cannot read: {why}", code=Code.FILE_UNREADABLE)
            return None
        except NotRegular as exc:
            self.problem(
                path, f"skipped: {exc}, not a file", level=Level.WARNING, code=Code.NOT_REGULAR_FILE
            )
            return None
        except ValueError as exc:
            self.problem(path, f"skipped: {exc}", code=Code.FILE_TOO_LARGE)
            return None
        if not data or data.isspace():  # (strip() would copy the whole file)
            self.problem(path, "empty file", level=Level.WARNING, code=Code.FILE_EMPTY)
            return None
        if _looks_binary(data):
            self.problem(path, "binary file, not JSON or YAML", code=Code.NOT_KUBERNETES_DATA)
            return None
        manifest = path.name.endswith(MANIFEST_SUFFIXES)
        if _maybe_text(data, manifest):
            nodes = self._text(path, data)
            if not isinstance(nodes, _NotText):
                return nodes
        if not manifest and not _looks_like_objects(data):
            self.problem(
                path,
                "not Kubernetes data: no apiVersion/kind, and not a node listing plumbob reads",
                level=Level.WARNING,
                code=Code.NOT_KUBERNETES_DATA,
            )
            return None
        try:
            return self._parse(path, data, _kind_hint(path, root))
        except RecursionError:
            self.problem(
                path, "nested too deeply to be a Kubernetes object", code=Code.NESTED_TOO_DEEPLY
            )
            return None

    def _parse(
        self, path: Path, data: bytes, hint: str | None
    ) -> list[Object] | SnapshotFile | None:
        if data.lstrip()[:1] in (b"{", b"["):
            try:
                return self._json(path, data, hint)
            except _NotJson as exc:
                if path.name.endswith((".json", ".json.gz")):
                    self.problem(path, str(exc), code=Code.JSON_INVALID)
                    return None
                # YAML flow style can look like JSON: let the YAML parser decide
        return self._yaml(path, data, hint)

    # ------------------------------------------------------------------ text inventories

    def _text(self, path: Path, data: bytes) -> list[Object] | _NotText | None:
        """Nodes from pasted terminal text (`kubectl describe node`, `kubectl get nodes -o
        wide`, ...): sources/text_inventory.py. _NOT_TEXT when the text is none of those."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return _NOT_TEXT
        found = read_text(text, path.name)
        if found is None:
            return _NOT_TEXT
        if isinstance(found, NotInventory):
            self.problem(path, found.reason, level=Level.WARNING, code=Code.TEXT_NOT_INVENTORY)
            return None
        return self._inventory(path, found)

    def _inventory(self, path: Path, found: TextInventory) -> list[Object]:
        for line, message in found.problems:
            self.problem(path, message, line, Level.WARNING, code=Code.INVENTORY_LINE_SKIPPED)
        out: list[Object] = []
        for text_node in found.nodes:
            obj = self.decoder.from_data(
                text_node.data, Origin(file=str(path), line=text_node.line)
            )
            if isinstance(obj, Node):
                out.append(msgspec.structs.replace(obj, unknown=text_node.unknown))
        if out:
            self.form = found.form
        return out

    def _label_map(self, path: Path, data: Any, line: int) -> list[Object] | None:
        """A node's labels dumped as a JSON or YAML map, as a node that shows only its
        labels; None when the mapping is not one."""
        found = label_map_node(data, path.name, line)
        return None if found is None else self._inventory(path, found)

    # ------------------------------------------------------------------ JSON

    def _stream(self, path: Path, root: Path | None) -> list[Object] | SnapshotFile | None:
        """The objects of a big JSON List read block by block; None when the file is small,
        not such a List, or turns out not to stream: the caller then reads it whole (and any
        diagnostics made on the way are taken back, so nothing is reported twice)."""
        if not path.name.endswith(_STREAM_SUFFIXES):
            return None  # (before the stat: a folder of manifests has thousands of files)
        try:
            if special_file(path) is not None:
                return None  # the whole-file path reports it
            size = path.stat().st_size
            if size < self.stream_above:
                return None
            with path.open("rb") as raw:
                gzipped = raw.read(2) == b"\x1f\x8b"
                raw.seek(0)
                if gzipped:
                    with gzip.GzipFile(fileobj=raw) as gz:
                        return self._stream_items(path, root, _Bounded(gz))
                if size > max_input_bytes():
                    return None
                return self._stream_items(path, root, _Bounded(raw))
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile, ValueError):
            return None  # the whole-file path reports it

    def _stream_items(
        self, path: Path, root: Path | None, stream: _Bounded
    ) -> list[Object] | SnapshotFile | None:
        first = stream.read(self.block)
        if first.lstrip()[:1] != b"{":
            return None
        try:
            items = jsonstream.ListStream(stream, first, self.block)
        except jsonstream.NotStreamable:
            return self._stream_snapshot(path, stream, first)
        hint = _kind_hint(path, root)
        if items.kind:
            hint = _item_hint(items.kind, hint)
        diagnostics, kindless = len(self.decoder.diagnostics), self.decoder.kindless
        origin = Origin(file=str(path))
        out: list[Object] = []
        try:
            for batch in items.batches():
                out.extend(self.decoder.from_raws(batch, origin, hint))
            # items without a kind of their own, read before the List's kind was known
            misread = _item_hint(items.kind, hint) != hint and self.decoder.kindless > kindless
        except _NOT_STREAMED:
            misread = True
        if misread or not out:
            del self.decoder.diagnostics[diagnostics:]
            self.decoder.kindless = kindless
            return None
        return out

    def _stream_snapshot(self, path: Path, stream: _Bounded, first: bytes) -> SnapshotFile | None:
        diagnostics, kindless = len(self.decoder.diagnostics), self.decoder.kindless
        try:
            return stream_snapshot(stream, first, self.block, Origin(file=str(path)), self.decoder)
        except _NOT_STREAMED:
            del self.decoder.diagnostics[diagnostics:]
            self.decoder.kindless = kindless
            return None

    def _json(
        self, path: Path, data: bytes, hint: str | None
    ) -> list[Object] | SnapshotFile | None:
        origin = Origin(file=str(path))
        if data.lstrip()[:1] == b"[":
            try:
                raws = _raw_list.decode(data)
            except msgspec.ValidationError:
                self.problem(path, "JSON array is not a list of objects", code=Code.NOT_AN_OBJECT)
                return None
            except msgspec.DecodeError as exc:
                raise _NotJson(f"malformed JSON: {_json_error(exc, data)}") from None
            return self._decode_items(raws, origin, hint)
        try:
            env = _envelope.decode(data)
        except msgspec.ValidationError as exc:
            self.problem(path, f"not a Kubernetes object or list: {exc}", code=Code.NOT_AN_OBJECT)
            return None
        except (msgspec.DecodeError, RecursionError) as exc:
            # one item that cannot be decoded (too deep, a lone surrogate escape, broken)
            # is left out alone, with its index; the rest of the List is read
            pruned = prune_items(data, "items") or prune_items(data, "objects")
            if pruned is None or not pruned.dropped:
                if isinstance(exc, RecursionError):
                    raise
                raise _NotJson(f"malformed JSON: {_json_error(exc, data)}") from None
            self._dropped_items(path, pruned.dropped)
            return self._json(path, pruned.text, hint)
        if env.kind == "Snapshot" and env.api_version.startswith("plumbob.dev/"):
            if env.api_version != SNAPSHOT_API_VERSION:
                self.problem(
                    path,
                    f"unsupported snapshot apiVersion {env.api_version!r} "
                    f"(this plumbob reads {SNAPSHOT_API_VERSION})",
                    code=Code.SNAPSHOT_INVALID,
                )
                return None
            return snapshot_from_file(data, origin, self.decoder)
        items = env.items if env.items is not None else env.legacy_items
        if items is None and env.kind.endswith("List"):
            items = []  # an empty list serialised as "items": null
        if items is not None:
            return self._decode_items(items, origin, _item_hint(env.kind, hint))
        if not env.kind and not env.api_version:
            nodes = self._label_map(path, msgspec.json.decode(data), 1)
            if nodes is not None:
                return nodes
        obj = self.decoder.from_raw(data, Origin(file=str(path), line=1), hint)
        return [obj] if obj is not None else []

    def _dropped_items(self, path: Path, dropped: list[tuple[int, str]]) -> None:
        for index, why in dropped:
            utf8 = why.startswith("not UTF-8")
            self.problem(
                path,
                f"item {index} skipped: {why}",
                level=Level.WARNING if utf8 else Level.ERROR,
                code=Code.NOT_UTF8
                if utf8
                else Code.NESTED_TOO_DEEPLY
                if why.startswith("nested")
                else Code.JSON_INVALID,
            )

    def _decode_items(
        self, raws: Iterable[msgspec.Raw], origin: Origin, hint: str | None
    ) -> list[Object]:
        return self.decoder.from_raws(raws, origin, hint)

    # ------------------------------------------------------------------ YAML

    def _yaml(self, path: Path, data: bytes, hint: str | None) -> list[Object] | None:
        out: list[Object] = []
        problems: list[YamlError] = []  # broken documents: each loses only itself
        try:
            for doc in load_documents(data, problems):
                origin = Origin(file=str(path), line=doc.line)
                payload = doc.data
                if (
                    isinstance(payload, dict)
                    and isinstance(payload.get("items"), list)
                    and (str(payload.get("kind", "")).endswith("List"))
                ):
                    kind = str(payload.get("kind"))
                    item_hint = kind[:-4] if kind != "List" else hint
                    for i, item in enumerate(payload["items"]):
                        line = doc.item_lines[i] if i < len(doc.item_lines) else doc.line
                        obj = self.decoder.from_data(
                            item, Origin(file=str(path), line=line), item_hint, nulls_dropped=True
                        )
                        if obj is not None:
                            out.append(obj)
                    continue
                if (
                    isinstance(payload, dict)
                    and "kind" not in payload
                    and "apiVersion" not in payload
                ):
                    nodes = self._label_map(path, payload, doc.line)
                    if nodes is not None:
                        out.extend(nodes)
                        continue
                obj = self.decoder.from_data(payload, origin, hint, nulls_dropped=True)
                if obj is not None:
                    out.append(obj)
        except UnicodeDecodeError as exc:
            self.problem(path, f"not UTF-8 text: {exc.reason}", code=Code.NOT_UTF8)
            return None
        for broken in problems:
            self.problem(path, str(broken), broken.line, broken.level, code=broken.code)
        return None if not out and any(p.level == Level.ERROR for p in problems) else out


def _item_hint(list_kind: str, hint: str | None) -> str | None:
    """Items of a `PodList` are Pods; a plain `List` says nothing."""
    return list_kind[:-4] if list_kind.endswith("List") and list_kind != "List" else hint


class _Bounded:
    """A binary stream that refuses to yield more than the input cap (sources/limits.py)."""

    def __init__(self, stream: jsonstream.Readable) -> None:
        self._stream = stream
        self._left = max_input_bytes()

    def read(self, size: int) -> bytes:
        data = self._stream.read(size)
        self._left -= len(data)
        if self._left < 0:
            raise too_large()
        return data


def _json_error(exc: msgspec.DecodeError, data: bytes) -> str:
    """msgspec reports a byte offset; add the line number people look for."""
    message = str(exc)
    marker = "at byte "
    if marker in message:
        try:
            offset = int(message.rsplit(marker, 1)[1].split()[0].rstrip(")."))
        except ValueError:
            return message
        line = data.count(b"\n", 0, offset) + 1
        return f"{message} (line {line})"
    return message


# ---------------------------------------------------------------------- walking


def is_cluster_dump(path: Path) -> bool:
    """A `kubectl cluster-info dump --output-directory` tree: nodes.json at the top and
    namespace folders holding pods.json and friends."""
    if not (path / "nodes.json").is_file():
        return False
    try:
        return any((child / "pods.json").is_file() for child in path.iterdir() if child.is_dir())
    except OSError:
        return False


def walk_manifests(
    root: Path,
    problems: list[Diagnostic],
    dumps: list[Path] | None = None,
    hidden: list[str] | None = None,
) -> Iterator[Path]:
    """Every file under a directory (not only manifests: each is read or named as unread),
    following symlinks but never in a loop. Hidden entries (.git, .helmignore) are not looked
    into; when `hidden` is given, their paths are appended to it. When `dumps` is given,
    cluster-info dump folders found below the root are appended to it, not walked."""
    seen: set[tuple[int, int]] = set()
    stack = [root]

    def skip(level: Level, code: Code, path: Path, message: str) -> None:
        problems.append(Diagnostic(level=level, code=code, path=str(path), message=message))

    while stack:
        current = stack.pop()
        try:
            st = current.stat()
        except OSError as exc:
            skip(Level.ERROR, Code.FILE_UNREADABLE, current, f"cannot read: {exc.strerror or exc}")
            continue
        ident = (st.st_dev, st.st_ino)
        if ident in seen:
            message = "symlink loop: directory already visited, skipped"
            skip(Level.WARNING, Code.SYMLINK_LOOP, current, message)
            continue
        seen.add(ident)
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name, reverse=True)
        except OSError as exc:
            message = f"cannot list directory: {exc.strerror or exc}"
            skip(Level.ERROR, Code.FILE_UNREADABLE, current, message)
            continue
        for entry in entries:
            if entry.name.startswith("."):
                if hidden is not None:
                    hidden.append(entry.path)
                continue
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                is_dir = False
            if is_dir:
                if dumps is not None and is_cluster_dump(path):
                    dumps.append(path)
                else:
                    stack.append(path)
            else:
                yield path  # (a broken symlink too: reading it says so)


@dataclass(frozen=True, slots=True)
class FileSource:
    """Reads paths given on the command line."""

    paths: tuple[Path, ...]
    cluster: str | None = None
    """Name for the cluster the paths hold: the one built from manifests (default: the first
    path's name), or, without manifests, the one snapshot file or dump."""
    complete: bool = False
    """The files hold the whole cluster (a GitOps repository of everything it runs, a full
    capture): a kind they do not contain has no objects. Otherwise such a kind is unseen."""

    def load(self, progress: ProgressHook | None = None) -> Loaded:
        with gc_paused():
            return self._load(progress)

    def _load(self, progress: ProgressHook | None) -> Loaded:
        decoder = ObjectDecoder()
        reader = FileReader(decoder)
        loaded = Loaded()
        manifests = _Collected()
        accounted: list[FileRead] = []
        for path in self.paths:
            if not os.path.lexists(path):
                decoder.diagnostics.append(
                    Diagnostic(
                        level=Level.ERROR,
                        code=Code.FILE_NOT_FOUND,
                        path=str(path),
                        message="no such file or directory",
                    )
                )
                accounted.append(
                    FileRead(path=str(path), outcome=UNREAD, reason="no such file or directory")
                )
                continue
            try:
                mode = path.stat().st_mode
            except OSError as exc:
                why = f"cannot read: {exc.strerror or exc}"
                decoder.diagnostics.append(
                    Diagnostic(
                        level=Level.ERROR, code=Code.FILE_UNREADABLE, path=str(path), message=why
                    )
                )
                accounted.append(FileRead(path=str(path), outcome=UNREAD, reason=why))
                continue
            if stat.S_ISDIR(mode) and is_cluster_dump(path):
                loaded.snapshots.append(self._dump(path, reader, progress, accounted, manifests))
                continue
            dumps: list[Path] = []
            is_dir = stat.S_ISDIR(mode)
            files = (
                list(walk_manifests(path, decoder.diagnostics, dumps, manifests.hidden))
                if is_dir
                else [path]
            )
            account = functools.partial(reader.account, root=path if is_dir else None)
            for file, (result, outcome) in read_in_order(files, account, decoder.diagnostics):
                accounted.append(outcome)
                if progress:
                    progress(str(file))
                if isinstance(result, SnapshotFile):
                    loaded.snapshots.append(result.snapshot)
                elif result is not None:
                    manifests.objects.extend(result)
            loaded.snapshots.extend(
                self._dump(d, reader, progress, accounted, manifests) for d in dumps
            )
        if self.cluster is not None and not manifests.objects:
            loaded.snapshots[:] = self._named(loaded.snapshots, decoder.diagnostics)
        if manifests.objects:
            name = self.cluster or _cluster_name(self.paths)
            objects = dedupe(manifests.objects, decoder.diagnostics)
            loaded.snapshots.append(
                Snapshot(
                    cluster=ClusterInfo(name=name),
                    objects=objects,
                    source=", ".join(str(p) for p in self.paths),
                    captured=None if self.complete else captured_kinds(objects),
                )
            )
        loaded.diagnostics.extend(decoder.diagnostics)
        loaded.inputs = inputs_of(accounted, manifests.hidden)
        if not loaded.snapshots:
            reasons = "; ".join(str(d) for d in decoder.diagnostics[:3]) or "no objects found"
            raise SourceError(f"nothing readable in {', '.join(map(str, self.paths))}: {reasons}")
        return loaded

    def _named(self, snapshots: list[Snapshot], diagnostics: list[Diagnostic]) -> list[Snapshot]:
        """`--cluster NAME` with snapshot files or dumps only: the one cluster they hold takes
        the name; several keep theirs, and a warning says so."""
        if len(snapshots) == 1:
            return [snapshots[0].renamed(str(self.cluster))]
        if snapshots:
            names = ", ".join(s.cluster.name for s in snapshots)
            diagnostics.append(
                Diagnostic(
                    level=Level.WARNING,
                    code=Code.CLUSTER_RENAMED,
                    message=f"--cluster {self.cluster} names one cluster, and these paths hold "
                    f"{len(snapshots)} ({names}): each keeps its own name (scan a snapshot file "
                    "alone to rename it)",
                )
            )
        return snapshots

    def _dump(
        self,
        path: Path,
        reader: FileReader,
        progress: ProgressHook | None,
        accounted: list[FileRead],
        collected: _Collected,
    ) -> Snapshot:
        objects: list[Object] = []
        for file in walk_manifests(path, reader.decoder.diagnostics, hidden=collected.hidden):
            if not file.name.endswith(".json"):
                what = "container log" if file.name.endswith(".txt") else "not a .json file"
                accounted.append(
                    FileRead(
                        path=str(file),
                        outcome=UNREAD,
                        reason=f"{what} in a cluster-info dump (only its .json files are read)",
                    )
                )
                continue
            result, outcome = reader.account(file, path)
            accounted.append(outcome)
            if progress:
                progress(str(file))
            if isinstance(result, list):
                objects.extend(result)
        namespaces = {child.name for child in _subfolders(path)}
        captured = set(DUMP_KINDS)
        if namespaces - _DEFAULT_DUMP_NAMESPACES:
            captured.add(COMPONENTS)  # dumped with --all-namespaces (or chosen namespaces)
        return Snapshot(
            cluster=ClusterInfo(name=path.resolve().name),
            objects=objects,
            source=f"cluster-info dump {path}",
            captured=captured | {o.kind for o in objects},
        )


def _subfolders(path: Path) -> list[Path]:
    try:
        return [child for child in path.iterdir() if child.is_dir()]
    except OSError:
        return []


def captured_kinds(objects: Iterable[Object]) -> frozenset[str]:
    """What a set of files shows in full. Files hold only what someone chose to save, so a kind
    is seen when some object of it is there. Two further cases: manifests that declare workloads
    and no cluster state (no Node, no scheduled Pod: a rendered chart) also show the kinds that
    ship with workloads (MANIFEST_COMPANIONS: a chart without a PodDisruptionBudget has none);
    and a capture holding the kube-system namespace's workloads beside others, with nodes, shows
    the cluster's add-ons (COMPONENTS)."""
    kinds: set[str] = set()
    state = False
    system = False
    namespaces: set[str | None] = set()
    for obj in objects:
        kinds.add(obj.kind)
        if obj.kind == "Node" or (isinstance(obj, Pod) and obj.spec.node_name):
            state = True
        elif obj.kind in ("DaemonSet", "Deployment"):
            namespaces.add(obj.namespace)
            system = system or obj.namespace == "kube-system"
    if not state:
        kinds |= MANIFEST_COMPANIONS
    elif system and len(namespaces) > 1:
        kinds.add(COMPONENTS)
    return frozenset(kinds)


def inputs_of(files: list[FileRead], hidden: list[str]) -> Inputs:
    """The report's account of the files given."""
    return Inputs(
        files=len(files),
        read=sum(1 for f in files if f.outcome != UNREAD),
        unread=[f for f in files if f.outcome == UNREAD],
        inventories=[f for f in files if f.outcome == INVENTORY],
        skipped_hidden=sorted(hidden),
    )


def dedupe(objects: list[Object], problems: list[Diagnostic]) -> list[Object]:
    """One object per kind/namespace/name, as in a cluster: the later file wins (as with
    `kubectl apply`), and the overwritten copy is reported."""
    index: dict[tuple[str, str, str | None, str], int] = {}
    out: list[Object] = []
    for obj in objects:
        if not obj.name:
            out.append(obj)
            continue
        key = (obj.api_version, obj.kind, obj.namespace, obj.name)
        at = index.get(key)
        if at is None:
            index[key] = len(out)
            out.append(obj)
            continue
        old = out[at]
        where = old.origin.file if old.origin else "?"
        if isinstance(old, Node) and isinstance(obj, Node) and (old.unknown or obj.unknown):
            out[at] = _merged(old, obj, problems)
            continue
        named = f"{obj.kind}/{obj.namespace + '/' if obj.namespace else ''}{obj.name}"
        said = f"duplicate object (also in {where}); this later copy is used"
        problems.append(_warning(Code.DUPLICATE_OBJECT, obj, named, said))
        out[at] = obj
    return out


def _warning(code: Code, obj: Object, named: str, message: str) -> Diagnostic:
    """A warning about one object, at its file and line."""
    return Diagnostic(
        level=Level.WARNING,
        code=code,
        path=obj.origin.file if obj.origin else None,
        line=obj.origin.line if obj.origin else None,
        object=named,
        message=message,
    )


def _merged(old: Node, new: Node, problems: list[Diagnostic]) -> Node:
    """Two descriptions of one node (text beside JSON, a describe beside a `get -o wide`): one
    node, each part from whichever showed it; parts both showed differently are a warning."""
    merged, conflicts = merge_nodes(old, new)
    if conflicts:
        kept = merged.origin or new.origin
        said = (
            f"described differently in {old.origin.file if old.origin else '?'}: "
            f"{', '.join(conflicts)} differ; those of {kept.file if kept else '?'} are used"
        )
        problems.append(_warning(Code.NODE_CONFLICT, new, f"Node/{new.name}", said))
    return merged


STDIN = "/dev/stdin"
"""What `plumbob scan -` reads (cli/common.py)."""


def _cluster_name(paths: Iterable[Path]) -> str:
    first = next(iter(paths), None)
    if first is None:
        return "manifests"
    if str(first) == STDIN:  # `plumbob scan -` (else the pipe's name, pipe:[123])
        return "stdin"
    name = encodable(first.resolve().name)
    for suffix in (".gz", ".json", ".yaml", ".yml"):
        name = name.removesuffix(suffix)
    return name or "manifests"
