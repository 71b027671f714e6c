"""The subject of a finding made from an object: what it is and where it was read."""

from __future__ import annotations

from plumbob.model.objects import Object
from plumbob.model.refs import ObjectRef, ref
from plumbob.report.model import Subject


def subject_of(target: Object | ObjectRef, path: str | None) -> Subject:
    """The report's Subject for an object (or a reference to one), with the file and line it was
    read from so that SARIF and the terminal can point at it; `path` is the field inside it."""
    r = target if isinstance(target, ObjectRef) else ref(target)
    origin = r.origin
    return Subject(
        kind=r.kind,
        name=r.name,
        namespace=r.namespace,
        api_version=r.api_version,
        file=origin.file if origin else None,
        line=origin.line if origin else None,
        path=path,
    )
