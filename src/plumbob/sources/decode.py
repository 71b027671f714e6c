"""Turn raw JSON bytes or YAML-loaded data into typed snapshot objects, with diagnostics.

One reused msgspec decoder per model (msgspec perf tips); YAML data goes through
`msgspec.convert`. Objects that fail their typed model fall back to a GenericObject so they still
count in the inventory, and the failure becomes a diagnostic naming the field. Manifests (objects
no API server has accepted) are also screened for unrendered template values (`{{ .Values.x }}`,
`${IMAGE}`, `<image>`) and amounts that are not quantities, each named with its field path.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import msgspec

from plumbob.model.gpu import is_gpu_resource
from plumbob.model.objects import (
    TYPED_KINDS,
    Container,
    CronJob,
    DaemonSet,
    Deployment,
    GenericObject,
    Job,
    Node,
    Object,
    ObjectMeta,
    Origin,
    Pod,
    PodSpec,
    ReplicaSet,
    ResourceQuota,
    StatefulSet,
    as_list,
    kind_key,
    model_for,
)
from plumbob.model.quantity import is_negative, is_quantity
from plumbob.model.workloads import CUSTOM_TEMPLATES, POD_SPEC_SHAPED
from plumbob.report.model import Diagnostic, Level
from plumbob.report.model import DiagnosticCode as Code
from plumbob.sources.compact import Compactor
from plumbob.sources.jsonstream import item_problem

T = TypeVar("T")

DROPPED_KINDS = frozenset({"Event"})
"""Kinds no analysis reads; cluster dumps carry many of them."""

_LEAD = re.compile(
    rb'\{\s*"apiVersion"\s*:\s*"([ -!#-\[\]-~]*)"\s*,\s*"kind"\s*:\s*"([ -!#-\[\]-~]+)"\s*[,}]'
)
"""How nearly every object's JSON starts: its apiVersion and kind, in that order, printable
ASCII without quotes or escapes (anything else, invalid UTF-8 included, takes the general
path, which reports it)."""
_GENERIC_KEYS = frozenset({"apiVersion", "kind", "metadata", "spec", "status", "data", "origin"})
_SECRET_VALUE_KEYS = ("data", "stringData")

_CORE_KINDS = {
    "Node",
    "Pod",
    "Service",
    "Namespace",
    "ResourceQuota",
    "ConfigMap",
    "Secret",
    "Event",
    "PersistentVolumeClaim",
    "PersistentVolume",
    "ServiceAccount",
    "ReplicationController",
    "LimitRange",
    "Endpoints",
}
_APPS_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}


class _MetadataOnly(msgspec.Struct):
    metadata: ObjectMeta


class _Generic(msgspec.Struct, rename="camel", forbid_unknown_fields=True, gc=False):
    """An object of a kind without a typed model whose JSON holds nothing but these members
    (Services, PodDisruptionBudgets, HPAs, most custom resources), decoded in one pass."""

    api_version: str
    kind: str
    metadata: ObjectMeta
    spec: Any = None
    status: Any = None
    data: Any = None
    origin: Origin | None = None


_GENERIC_DEPTH = 100
"""Brackets from which a generic object takes the general path, which bounds its depth."""


class TypeMeta(msgspec.Struct, rename="camel"):
    api_version: str = ""
    kind: str = ""


def default_api_version(kind: str) -> str:
    """API version to assume for objects exported without one (cluster dumps, archives)."""
    if kind in _CORE_KINDS:
        return "v1"
    if kind in _APPS_KINDS:
        return "apps/v1"
    if kind in ("Job", "CronJob"):
        return "batch/v1"
    return ""


def _where(kind: str, data: Any) -> str:
    meta = data.get("metadata") if isinstance(data, dict) else None
    if isinstance(meta, dict):
        name = meta.get("name") or meta.get("generateName") or "?"
        ns = meta.get("namespace")
        return f"{kind}/{ns}/{name}" if isinstance(ns, str) else f"{kind}/{name}"
    return kind or "object"


class ObjectDecoder:
    """Decodes objects and collects diagnostics; one per load."""

    def __init__(self, compactor: Compactor | None = None) -> None:
        self.diagnostics: list[Diagnostic] = []
        self._json: dict[type[Object], msgspec.json.Decoder[Any]] = {}
        self._typed: dict[tuple[str, str], msgspec.json.Decoder[Any] | None] = {}
        self.kindless = 0
        """JSON objects seen without a `kind` of their own (they take the hint's)."""
        self.dropped = 0
        """Objects read and left out on purpose (DROPPED_KINDS: Events)."""
        self._typemeta = msgspec.json.Decoder(TypeMeta)
        self._generic_text = msgspec.json.Decoder(_Generic)
        self._dict = msgspec.json.Decoder(dict[str, Any])
        self._compact = compactor or Compactor()
        self._origins: dict[Origin, Origin] = {}
        self._leads: dict[bytes, tuple[str, str, msgspec.json.Decoder[Any] | None, bool]] = {}
        self._known_quantities: set[str] = set()

    def problem(
        self,
        level: Level,
        origin: Origin | None,
        message: str,
        obj: str | None = None,
        *,
        code: Code,
    ) -> None:
        self.diagnostics.append(
            Diagnostic(
                level=level,
                code=code,
                message=message,
                path=origin.file if origin else None,
                line=origin.line if origin else None,
                object=obj,
            )
        )

    # ------------------------------------------------------------------ JSON bytes

    def from_raw(
        self,
        raw: bytes | msgspec.Raw,
        origin: Origin,
        hint: str | None = None,
        keep_origin: bool = False,
    ) -> Object | None:
        """Decode one object from its JSON text. `keep_origin` keeps an origin recorded in the
        object itself (plumbob snapshot files). Text that cannot be decoded (not UTF-8, a lone
        surrogate escape, nested past the parser's depth) costs this object only."""
        try:
            return self._from_raw(raw, origin, hint, keep_origin)
        except (msgspec.DecodeError, RecursionError):
            why = item_problem(bytes(raw)) or "cannot be decoded"
            utf8 = why.startswith("not UTF-8")
            self.problem(
                Level.WARNING if utf8 else Level.ERROR,
                origin,
                f"object skipped: {why}",
                code=Code.NOT_UTF8
                if utf8
                else Code.NESTED_TOO_DEEPLY
                if why.startswith("nested")
                else Code.JSON_INVALID,
            )
            return None

    def _from_raw(
        self,
        raw: bytes | msgspec.Raw,
        origin: Origin,
        hint: str | None,
        keep_origin: bool,
    ) -> Object | None:
        lead = _LEAD.match(raw)
        if lead is not None:
            fast = self._from_lead(raw, lead.group(0))
            if fast is not None:
                return self._placed(fast, origin, keep_origin)
        try:
            meta = self._typemeta.decode(raw)
        except msgspec.ValidationError:
            # not an object, or apiVersion/kind of the wrong type: the dict path explains
            return self.from_data(self._decode_any(raw, origin), origin, hint, keep_origin)
        except msgspec.DecodeError as exc:
            self.problem(Level.ERROR, origin, f"malformed JSON: {exc}", code=Code.JSON_INVALID)
            return None
        if not meta.kind:
            self.kindless += 1
        kind = meta.kind or (hint or "")
        if kind in DROPPED_KINDS:
            self.dropped += 1
            return None
        decoder = self._typed_decoder(meta.api_version, meta.kind)
        if decoder is None:
            return self.from_data(self._decode_any(raw, origin), origin, hint, keep_origin)
        try:
            obj: Object = decoder.decode(raw)
        except msgspec.ValidationError:
            return self.from_data(self._decode_any(raw, origin), origin, hint, keep_origin)
        return self._placed(obj, origin, keep_origin)

    def _from_lead(self, raw: bytes | msgspec.Raw, lead: bytes) -> Object | None:
        """The object decoded by its kind's typed model, found from the text it starts with
        (`{"apiVersion":"v1","kind":"Pod",`, as the API server, kubectl and plumbob write
        objects) without reading the object twice. None for anything else, which takes the
        general path: another layout, a kind without a typed model, a decoding error, or an
        apiVersion or kind given twice (the last one counts, as the general path reads it)."""
        types = self._leads.get(lead)
        if types is None:
            found = _LEAD.match(lead)
            assert found is not None
            api_version, kind = found.group(1).decode(), found.group(2).decode()
            decoder = None if kind in DROPPED_KINDS else self._typed_decoder(api_version, kind)
            generic = (
                bool(api_version)  # (without one, the dict path supplies it or says so)
                and kind not in DROPPED_KINDS
                and kind != "Secret"  # (never kept as it is: its values are left out)
                and model_for(api_version, kind) is GenericObject
            )
            types = self._leads[lead] = (api_version, kind, decoder, generic)
        api_version, kind, decoder, generic = types
        if decoder is None:
            return self._generic_from_text(raw, api_version, kind) if generic else None
        try:
            obj: Object = decoder.decode(raw)
        except msgspec.DecodeError:  # includes ValidationError
            return None
        if obj.kind != kind or obj.api_version != api_version:
            return None
        return obj

    def _placed(self, obj: Object, origin: Origin, keep_origin: bool) -> Object:
        """A typed object just decoded, compacted, with its origin."""
        if not keep_origin and (not obj.metadata.uid or obj.__class__ is Node):
            # (a node's amounts are screened whatever its origin: a GPU count of `-8` or
            # `٣` in a file is named, never counted)
            self._screen_decoded(obj, origin)
        self._compact.object(obj)
        if keep_origin and obj.origin is not None:
            # snapshot files record each object's origin: one copy of each distinct origin
            origin = self._origins.setdefault(obj.origin, obj.origin)
        # The object was just decoded and nothing else holds it: setting its origin in place
        # spares a copy of every object (structs.replace) on big snapshots.
        msgspec.structs.force_setattr(obj, "origin", origin)
        return obj

    def from_raws(
        self,
        raws: Iterable[msgspec.Raw],
        origin: Origin,
        hint: str | None = None,
        keep_origin: bool = False,
    ) -> list[Object]:
        """Decode the items of a List (or a snapshot's objects), skipping the ones dropped."""
        out = []
        for raw in raws:
            obj = self.from_raw(raw, origin, hint, keep_origin)
            if obj is not None:
                out.append(obj)
        return out

    def _generic_from_text(
        self, raw: bytes | msgspec.Raw, api_version: str, kind: str
    ) -> Object | None:
        """A generic object decoded straight from its text when nothing in it needs the dict
        path: no nulls to leave out, no members other than `_Generic`'s, nesting that cannot
        be too deep, metadata of the right types. None otherwise (the dict path reads it and
        says what is wrong). Secrets never come here: their values are left out."""
        text = bytes(raw)
        if b"null" in text or text.count(b"{") + text.count(b"[") > _GENERIC_DEPTH:
            return None
        try:
            parts = self._generic_text.decode(text)
        except msgspec.DecodeError:  # includes ValidationError
            return None
        if parts.kind != kind or parts.api_version != api_version:
            return None
        return GenericObject(
            api_version=api_version,
            kind=kind,
            metadata=parts.metadata,
            spec=parts.spec,
            status=parts.status,
            data=parts.data,
            origin=parts.origin,
        )

    def _typed_decoder(self, api_version: str, kind: str) -> msgspec.json.Decoder[Any] | None:
        """The JSON decoder of this kind's typed model; None when the object needs the dict
        path (no apiVersion or kind, a kind without a model, a Secret whose values are
        dropped). Looked up once per (apiVersion, kind)."""
        key = (api_version, kind)
        try:
            return self._typed[key]
        except KeyError:
            pass
        cls = model_for(api_version, kind)
        decoder = None
        if api_version and kind and cls is not GenericObject and kind != "Secret":
            decoder = self._json.get(cls)
            if decoder is None:
                decoder = self._json[cls] = msgspec.json.Decoder(cls)
        self._typed[key] = decoder
        return decoder

    def _decode_any(self, raw: bytes | msgspec.Raw, origin: Origin) -> Any:
        try:
            return msgspec.json.decode(raw)
        except (msgspec.DecodeError, RecursionError) as exc:
            self.problem(Level.ERROR, origin, f"malformed JSON: {exc}", code=Code.JSON_INVALID)
            return None

    # ------------------------------------------------------------------ loaded data

    def from_data(
        self,
        data: Any,
        origin: Origin,
        hint: str | None = None,
        keep_origin: bool = False,
        *,
        nulls_dropped: bool = False,
    ) -> Object | None:
        """Decode one object from YAML/JSON-loaded data. `nulls_dropped`: the loader already
        left out null-valued keys (sources/yamlload.py does)."""
        if data is None:
            return None
        if not isinstance(data, dict):
            self.problem(
                Level.WARNING,
                origin,
                f"not a Kubernetes object: a {type(data).__name__}, not a mapping",
                code=Code.NOT_AN_OBJECT,
            )
            return None
        if "metadata" not in data and "name" in data and ("Spec" in data or "Status" in data):
            data = normalise_legacy(data)
        if not isinstance(data.get("metadata"), dict):
            hint = None  # a folder name only names the kind of things that look like objects
        kind = data.get("kind") or hint
        api_version = data.get("apiVersion")
        if not isinstance(kind, str) or not kind:
            self.problem(Level.WARNING, origin, _not_an_object(data), code=Code.NOT_AN_OBJECT)
            return None
        if kind in DROPPED_KINDS:
            self.dropped += 1
            return None
        if not isinstance(api_version, str) or not api_version:
            api_version = default_api_version(kind)
            if not api_version:
                self._not_an_object(origin, f"{_where(kind, data)} has no apiVersion", kind, data)
                return None
        if "metadata" not in data or not isinstance(data.get("metadata"), dict):
            message = f"{kind} has no metadata mapping: not a Kubernetes object"
            self._not_an_object(origin, message, kind, data)
            return None
        meta = data["metadata"]
        if "managedFields" in meta:  # the bulk of a live object; nothing reads it
            data = {**data, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
        try:
            data = dict(data) if nulls_dropped else drop_nulls(data)
        except RecursionError:  # the one object is left out, not the rest of its file
            self._too_deep(origin, kind, data)
            return None
        data["apiVersion"] = api_version
        data["kind"] = kind
        embedded = data.pop("origin", None)
        if keep_origin and isinstance(embedded, dict):
            with contextlib.suppress(msgspec.ValidationError):
                origin = msgspec.convert(embedded, Origin)
        manifest = not keep_origin and not data["metadata"].get("uid")
        key = kind_key(api_version, kind)
        if manifest and key in CUSTOM_TEMPLATES and isinstance(data.get("spec"), dict):
            data["spec"] = self._screen_custom(key, data["spec"], origin, _where(kind, data))
        cls = model_for(api_version, kind)
        if cls is not GenericObject:
            try:
                obj = self._convert_lenient(
                    data, cls, kind, origin, failed=f"kept as a generic {kind}"
                )
            except RecursionError:
                self._too_deep(origin, kind, data)
                return None
            if obj is not None:
                obj = msgspec.structs.replace(obj, origin=origin)
                if manifest:
                    self._screen_typed(obj, origin)
                return self._compact.object(obj)
        return self._generic(data, api_version, kind, origin)

    def _not_an_object(self, origin: Origin, message: str, kind: str, data: Any) -> None:
        self.problem(Level.WARNING, origin, message, _where(kind, data), code=Code.NOT_AN_OBJECT)

    def _too_deep(self, origin: Origin, kind: str, data: Any) -> None:
        """The one object is left out, not the rest of its file."""
        self.problem(
            Level.ERROR,
            origin,
            "object nested too deeply",
            _where(kind, data),
            code=Code.NESTED_TOO_DEEPLY,
        )

    def _convert_lenient(
        self,
        data: dict[str, Any],
        cls: type[T],
        kind: str,
        origin: Origin,
        failed: str,
        level: Level = Level.WARNING,
    ) -> T | None:
        """Convert to the typed model; a field of the wrong type is dropped (with a warning
        naming it) and the rest of the object kept, so one bad `periodSeconds: "10"` does not
        hide a Deployment from every check. None when that does not converge, reported as
        `failed` says (what becomes of the object) at `level`."""
        for _ in range(MAX_DROPPED_FIELDS + 1):
            try:
                return msgspec.convert(data, cls)
            except msgspec.ValidationError as exc:
                message, path = _split_error(str(exc))
                pruned, what = None, "field ignored"
                if path and path.endswith(_ANY_KEY):
                    pruned, what = _without_values(data, path, message) or (None, what)
                elif path and _ANY_KEY not in path:
                    pruned = _without(data, path)
                if pruned is None:
                    self.problem(
                        level,
                        origin,
                        f"wrong field type, {failed}: {exc}",
                        _where(kind, data),
                        code=Code.WRONG_FIELD_TYPE,
                    )
                    return None
                value = _value_at(data, path) if path and what == "field ignored" else None
                if path and isinstance(value, str) and unrendered(value):
                    said = (
                        f"{path[2:]}: unrendered template value {_quoted(value)}; read as not set"
                    )
                    code = Code.UNRENDERED_TEMPLATE
                else:
                    said, code = (
                        f"wrong field type at {path}, {what}: {message}",
                        Code.WRONG_FIELD_TYPE,
                    )
                self.problem(Level.WARNING, origin, said, _where(kind, data), code=code)
                data = pruned
        self.problem(
            level,
            origin,
            f"more than {MAX_DROPPED_FIELDS} fields of the wrong type, {failed}",
            _where(kind, data),
            code=Code.WRONG_FIELD_TYPE,
        )
        return None

    # ------------------------------------------------------------------ manifests

    # A manifest (an object without a uid: no API server has accepted it) can hold what no
    # cluster would: template text a tool was to fill in, amounts that are not quantities.
    # Those values are named with their field; an image that is template text is left out
    # (unknown: no image check reads the placeholder as a registry or a tag); a quantity stays,
    # so a GPU resource name still makes a GPU container, with its count unknown
    # (model/gpu.py GPU_COUNT_UNKNOWN). Objects read from a cluster are not looked at: the
    # API server parsed their quantities and typed their fields.

    def _screen_decoded(self, obj: Object, origin: Origin) -> None:
        """Screen a manifest object just decoded from JSON, before anything shares its parts."""
        if isinstance(obj, GenericObject):
            key = kind_key(obj.api_version, obj.kind)
            if key in CUSTOM_TEMPLATES and isinstance(obj.spec, dict):
                spec = self._screen_custom(key, obj.spec, origin, _named(obj))
                msgspec.structs.force_setattr(obj, "spec", spec)
        else:
            self._screen_typed(obj, origin)

    def _screen_typed(self, obj: Object, origin: Origin) -> None:
        """Screen an object of a typed kind just converted, before it is compacted: its
        containers' lists are its own, and a container with a template image is replaced by a
        copy without it."""
        match obj:
            case Pod():
                self._screen_pod_spec("spec", obj.spec, origin, obj)
            case Deployment() | StatefulSet() | DaemonSet() | ReplicaSet() | Job():
                self._screen_pod_spec("spec.template.spec", obj.spec.template.spec, origin, obj)
            case CronJob():
                path = "spec.jobTemplate.spec.template.spec"
                self._screen_pod_spec(path, obj.spec.job_template.spec.template.spec, origin, obj)
            case ResourceQuota():
                if not self._all_quantities(obj.spec.hard):
                    self._quantities("spec.hard", obj.spec.hard, origin, _named(obj))
            case Node():
                for part in ("capacity", "allocatable"):
                    amounts = getattr(obj.status, part)
                    if not self._all_quantities(amounts):
                        self._quantities(f"status.{part}", amounts, origin, _named(obj))

    def _screen_pod_spec(self, path: str, spec: PodSpec, origin: Origin, obj: Object) -> None:
        if spec.init_containers:
            self._screen_containers(path, "initContainers", spec.init_containers, origin, obj)
        self._screen_containers(path, "containers", spec.containers, origin, obj)

    def _screen_containers(
        self, path: str, field: str, containers: list[Container], origin: Origin, obj: Object
    ) -> None:
        for i, container in enumerate(containers):
            image = container.image
            if image and unrendered(image):
                at = f"{path}.{field}[{i}]"
                self._unrendered_image(at, image, origin, _named(obj))
                containers[i] = msgspec.structs.replace(container, image=None)
            resources = container.resources
            for part, amounts in (("requests", resources.requests), ("limits", resources.limits)):
                if amounts and not self._all_quantities(amounts):
                    at = f"{path}.{field}[{i}].resources.{part}"
                    self._quantities(at, amounts, origin, _named(obj))

    def _all_quantities(self, amounts: dict[str, Any]) -> bool:
        """Whether every amount is a quantity; the texts found to be are kept (a manifest
        folder repeats the same few: `1`, `500m`, `16Gi`)."""
        known = self._known_quantities
        for value in amounts.values():
            if value.__class__ is str and value in known:
                continue
            if not is_quantity(value) or is_negative(value):
                return False
            if value.__class__ is str:
                known.add(value)
        return True

    def _screen_custom(
        self, key: str, spec: dict[str, Any], origin: Origin, where: str
    ) -> dict[str, Any]:
        """The spec of a custom workload (PyTorchJob, InferenceService, ...) with its containers
        screened: a copy without the images that are template text, or the spec itself."""
        images: list[str] = []
        for prefix, index, container in _custom_containers(key, spec):
            image = container.get("image")
            if image.__class__ is str and unrendered(image):
                path = prefix if index is None else f"{prefix}[{index}]"
                self._unrendered_image(path, image, origin, where)
                images.append(f"$.{path}.image")
            resources = container.get("resources")
            if resources.__class__ is dict:
                for part in ("requests", "limits"):
                    amounts = resources.get(part)
                    if amounts.__class__ is dict and not self._all_quantities(amounts):
                        path = prefix if index is None else f"{prefix}[{index}]"
                        self._quantities(f"{path}.resources.{part}", amounts, origin, where)
        if images:
            whole: Any = {"spec": spec}
            for path in images:
                whole = _without(whole, path) or whole
            return dict(whole["spec"])
        return spec

    def _unrendered_image(self, path: str, image: str, origin: Origin, where: str) -> None:
        self.problem(
            Level.WARNING,
            origin,
            f"{path}.image: unrendered template value {_quoted(image)}; image unknown",
            where,
            code=Code.UNRENDERED_TEMPLATE,
        )

    def _quantities(self, path: str, resources: Any, origin: Origin, where: str) -> None:
        """Name the amounts of a resource list that are not quantities."""
        if not isinstance(resources, dict):
            return  # (the typed model names a list or a string where a mapping belongs)
        for name, value in resources.items():
            if isinstance(value, dict | list) or (is_quantity(value) and not is_negative(value)):
                continue
            what = "GPU count" if isinstance(name, str) and is_gpu_resource(name) else "amount"
            template = isinstance(value, str) and unrendered(value)
            problem = (
                "unrendered template value"
                if template
                else "negative quantity (refused by the API server):"
                if is_quantity(value)
                else "not a Kubernetes quantity:"
            )
            self.problem(
                Level.WARNING,
                origin,
                f"{path}.{name}: {problem} {_quoted(value)}; {what} unknown",
                where,
                code=Code.UNRENDERED_TEMPLATE if template else Code.NOT_A_QUANTITY,
            )

    def _generic(
        self, data: dict[str, Any], api_version: str, kind: str, origin: Origin
    ) -> Object | None:
        head = self._convert_lenient(
            {"metadata": data["metadata"]},
            _MetadataOnly,
            kind,
            origin,
            failed="object skipped",
            level=Level.ERROR,
        )
        if head is None:
            return None
        meta = head.metadata
        extra = {k: v for k, v in data.items() if k not in _GENERIC_KEYS}
        nested = data.get("extra")
        if isinstance(nested, dict) and "extra" in extra:  # plumbob's own snapshot encoding
            extra.pop("extra")
            extra.update(nested)
        body = data.get("data")
        if kind == "Secret":  # never keep secret values
            body = None
            for key in _SECRET_VALUE_KEYS:
                extra.pop(key, None)
        generic = GenericObject(
            api_version=api_version,
            kind=kind,
            metadata=meta,
            spec=data.get("spec"),
            status=data.get("status"),
            data=body,
            extra=extra,
            origin=origin,
        )
        return self._compact.object(generic)


_UNRENDERED = re.compile(
    r"""\{\{.*?\}\}            # Go templates (Helm): {{ .Values.image }}, {{ include "x" . }}
      | \$\{[A-Za-z_][A-Za-z0-9_]*\}  # envsubst, shell: ${IMAGE}
      | \$\(?[A-Za-z_][A-Za-z0-9_]*\b # $IMAGE, and $(IMAGE): Kubernetes expands that only in
                                   # command, args and env values
      | <[A-Za-z][^<>]*>           # documentation placeholders: <image>, <your-registry>
      | (?<![A-Za-z0-9])(?:REPLACE_?ME|CHANGE_?ME)(?![A-Za-z0-9])
      | (?:^|(?<=[/:@]))[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?=$|[/:@])  # for sed: CONTAINER_IMAGE,
                                   # GPU_COUNT, REGISTRY_URL/app, app:IMAGE_TAG
      | ^[A-Z][A-Z0-9]+$           # one word in capitals where a name or number belongs: IMAGE
    """,
    re.VERBOSE | re.DOTALL,
)
"""Text that is a placeholder for a value some tool was to fill in. Only looked for in values
where it cannot be meant: an image reference has no `{`, `$`, `<` or capitals in its name, a
quantity or a count no letters but its suffix."""


def unrendered(value: str) -> bool:
    """Whether a string holds unrendered template text (`_UNRENDERED`)."""
    if value.islower() and "$" not in value and "{" not in value and "<" not in value:
        return False  # (most images: nothing to look for)
    return _UNRENDERED.search(value) is not None


def _quoted(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _named(obj: Object) -> str:
    """kind/namespace/name, as `_where` names an object's data."""
    name = obj.name or "?"
    return f"{obj.kind}/{obj.namespace}/{name}" if obj.namespace else f"{obj.kind}/{name}"


def _custom_containers(
    key: str, spec: dict[str, Any]
) -> Iterable[tuple[str, int | None, dict[str, Any]]]:
    """(field path, index in it, container data) of every container of a custom workload's pod
    templates, found where model/workloads.py CUSTOM_TEMPLATES finds them."""
    if key == "InferenceService":
        yield from _inference_containers(spec)
        return
    for path, _, _, raw in CUSTOM_TEMPLATES[key](GenericObject(spec=spec)):
        pod = raw.get("spec") if raw.__class__ is dict else None
        if pod.__class__ is dict:
            for field in ("initContainers", "containers"):
                containers = pod.get(field)
                if containers.__class__ is list and containers:
                    prefix = f"{path}.{field}" if key in POD_SPEC_SHAPED else f"{path}.spec.{field}"
                    for i, container in enumerate(containers):
                        if container.__class__ is dict:
                            yield prefix, i, container


def _inference_containers(spec: dict[str, Any]) -> Iterable[tuple[str, int | None, dict[str, Any]]]:
    """A KServe InferenceService's containers: each component's `containers`, and its model or
    framework entry (`model:`, `pytorch:`, ...), which KServe runs as `kserve-container`."""
    for component in ("predictor", "transformer", "explainer"):
        comp = spec.get(component)
        if not isinstance(comp, dict):
            continue
        for field, value in comp.items():
            if field in ("containers", "initContainers"):
                for i, container in enumerate(as_list(value)):
                    if isinstance(container, dict):
                        yield f"spec.{component}.{field}", i, container
            elif isinstance(value, dict) and ("image" in value or "resources" in value):
                yield f"spec.{component}.{field}", None, value


def _value_at(data: Any, path: str) -> Any:
    """The value at a msgspec error path (`$.spec.replicas`), None when there is none."""
    for key, index in _PATH_PART.findall(path[1:]):
        if key:
            data = data.get(key) if isinstance(data, dict) else None
        else:
            data = data[int(index)] if isinstance(data, list) and int(index) < len(data) else None
    return data


def drop_nulls(value: Any, depth: int = 0) -> Any:
    """Remove null-valued keys: Kubernetes treats `annotations:` (null) as absent."""
    if depth > 100:
        raise RecursionError("nested too deeply")
    # Recurse only into containers: most values are scalars, and a call per scalar is what
    # made this walk the slowest step of reading manifests.
    if isinstance(value, dict):
        return {
            k: drop_nulls(v, depth + 1) if isinstance(v, (dict, list)) else v
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, list):
        return [drop_nulls(v, depth + 1) if isinstance(v, (dict, list)) else v for v in value]
    return value


def _not_an_object(data: dict[str, Any]) -> str:
    keys = ", ".join(sorted(str(k) for k in list(data)[:5]))
    if all(isinstance(k, str) and "/" in k for k in list(data)[:5]) and data:
        return f"not a Kubernetes object (no kind): looks like a label map ({keys}, ...)"
    if "apiVersion" in data:
        return f"not a Kubernetes object: apiVersion {data['apiVersion']!r} but no kind"
    return f"not a Kubernetes object (no apiVersion/kind; keys: {keys})"


def _lower_first(key: str) -> str:
    return key[:1].lower() + key[1:] if key[:1].isupper() else key


_KEEP_KEYS = frozenset(
    {
        "labels",
        "annotations",
        "capacity",
        "allocatable",
        "nodeSelector",
        "matchLabels",
        "data",
        "limits",
        "requests",
        "hard",
        "used",
    }
)


def _lower_keys(value: Any, depth: int = 0) -> Any:
    if depth > 64:
        return value
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = _lower_first(k) if isinstance(k, str) else k
            out[key] = v if key in _KEEP_KEYS else _lower_keys(v, depth + 1)
        return out
    if isinstance(value, list):
        return [_lower_keys(v, depth + 1) for v in value]
    return value


_META_KEYS = (
    "name",
    "generateName",
    "namespace",
    "uid",
    "labels",
    "annotations",
    "creationTimestamp",
    "ownerReferences",
    "resourceVersion",
    "selfLink",
)
_ACRONYMS = {
    "oSImage": "osImage",
    "podCIDR": "podCIDR",
    "providerID": "providerID",
    "externalID": "externalID",
    "machineID": "machineID",
    "systemUUID": "systemUUID",
    "bootID": "bootID",
}


def normalise_legacy(data: dict[str, Any]) -> dict[str, Any]:
    """Objects serialised by kubectl <= 1.8 `cluster-info dump`: ObjectMeta inlined, Spec and
    Status with Go field names (PascalCase). Rewrite into the API shape."""
    out: dict[str, Any] = {k: v for k, v in data.items() if k not in _META_KEYS}
    out["metadata"] = {k: data[k] for k in _META_KEYS if k in data}
    for key in list(out):
        if key[:1].isupper():
            value = out.pop(key)
            out[_lower_first(key)] = _fix_acronyms(_lower_keys(value))
    return out


def _fix_acronyms(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            _ACRONYMS.get(k, k) if isinstance(k, str) else k: _fix_acronyms(v)
            for k, v in value.items()
        }
    return value


__all__ = [
    "DROPPED_KINDS",
    "TYPED_KINDS",
    "ObjectDecoder",
    "default_api_version",
    "normalise_legacy",
    "unrendered",
]


MAX_DROPPED_FIELDS = 20
"""Fields of the wrong type dropped from one object before it is kept generic instead."""

_ERROR_PATH = re.compile(r"^(.*) - at `\$((?:\.[^.\[`]+|\[\d+\]|\[\.\.\.\])+)`$", re.DOTALL)
_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_ANY_KEY = "[...]"
"""msgspec's path part for a value of a mapping (it does not name the key)."""
_EXPECTED_STR = re.compile(r"^Expected `str`")


def _split_error(text: str) -> tuple[str, str | None]:
    """msgspec's `Expected int, got str - at $.spec.x[0].y` → (message, `$.spec.x[0].y`)."""
    match = _ERROR_PATH.match(text)
    if match is None:
        return text, None
    return match.group(1), "$" + match.group(2)


def _without_values(data: Any, path: str, message: str) -> tuple[Any, str] | None:
    """A copy of `data` whose mapping at `path` (which ends in `[...]`: msgspec does not say
    which key) keeps only its string values when strings were expected (`labels: {version: 2}`,
    `nodeSelector: {gpu: true}`, written unquoted), or loses the mapping otherwise; with what
    was left out."""
    field = path.removesuffix(_ANY_KEY)
    if _ANY_KEY in field:
        return None
    dropped: list[str] = []

    def keep_strings(container: Any, key: str | int) -> None:
        mapping = container[key]
        if isinstance(mapping, dict) and _EXPECTED_STR.match(message):
            dropped.extend(str(k) for k, v in mapping.items() if not isinstance(v, str))
        if dropped:
            container[key] = {k: v for k, v in mapping.items() if isinstance(v, str)}
        else:
            del container[key]

    pruned = _edited(data, field, keep_strings)
    if pruned is None:
        return None
    return pruned, (f"values of {', '.join(dropped)} ignored" if dropped else "field ignored")


def _without(data: Any, path: str) -> Any | None:
    """A copy of `data` without the element at `path`; None when the path does not lead
    anywhere or names the whole object."""
    return _edited(data, path, lambda container, key: container.__delitem__(key))


def _edited(data: Any, path: str, edit: Callable[[Any, str | int], None]) -> Any | None:
    """A copy of `data` (copying only the containers on `path`) in which `edit(container, key)`
    changed the element at `path`; None when the path does not lead anywhere."""
    parts: list[str | int] = [
        key if key else int(index) for key, index in _PATH_PART.findall(path[1:])
    ]
    if not parts:
        return None

    def walk(node: Any, rest: list[str | int]) -> Any | None:
        head = rest[0]
        copy: Any
        if isinstance(head, str):
            if not isinstance(node, dict) or head not in node:
                return None
            copy = dict(node)
        else:
            if not isinstance(node, list) or head >= len(node):
                return None
            copy = list(node)
        if len(rest) == 1:
            edit(copy, head)
            return copy
        child = walk(copy[head], rest[1:])
        if child is None:
            return None
        copy[head] = child
        return copy

    return walk(data, parts)
