"""Version strings as nodes publish them: numeric keys, ranges, globs and kubelet skew."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from plumbob.knowledge.kubernetes import kubelet_skew
from plumbob.model.snapshot import parse_minor

_NUMBERS = re.compile(r"\d+(?:\.\d+)*")
_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|>|<|=)\s*(v?\d+(?:\.\d+)*(?:[-+~][0-9A-Za-z.+~-]*)?)\s*$")
"""One range clause: an operator and a version (`v1.31`, `550.54.15`, `1.7.23-k3s2`)."""


def version_key(text: str | None) -> tuple[int, ...] | None:
    """The first dotted number in a string: 'v1.31.4-eks-2d5f260' -> (1, 31, 4),
    'containerd://1.7.23-k3s2' -> (1, 7, 23), '550.54.15' -> (550, 54, 15)."""
    if not text:
        return None
    match = _NUMBERS.search(text)
    if match is None:
        return None
    return tuple(int(p) for p in match.group(0).split("."))


def _cmp(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    width = max(len(a), len(b))
    pa = a + (0,) * (width - len(a))
    pb = b + (0,) * (width - len(b))
    return (pa > pb) - (pa < pb)


class SpecError(ValueError):
    """An expected value that cannot be read as a value, glob or version range."""


@dataclass(frozen=True, slots=True)
class ValueSpec:
    """What a baseline expects of one attribute: an exact value, a glob (`6.1.*`) or a
    comma-separated version range (`>=550.54, <560`)."""

    text: str
    clauses: tuple[tuple[str, tuple[int, ...]], ...] = ()

    @classmethod
    def parse(cls, text: str) -> ValueSpec:
        stripped = text.strip()
        if stripped[:1] in "<>=!":
            clauses = []
            for part in stripped.split(","):
                match = _CLAUSE.match(part)
                key = version_key(match.group(2)) if match else None
                if match is None or key is None:
                    raise SpecError(f"{part.strip()!r} is not a version clause such as >=550.54")
                clauses.append((match.group(1), key))
            return cls(stripped, tuple(clauses))
        return cls(stripped)

    def matches(self, value: str | None) -> bool:
        if value is None:
            return False
        if self.clauses:
            key = version_key(value)
            if key is None:
                return False
            for op, want in self.clauses:
                c = _cmp(key, want)
                ok = {
                    ">=": c >= 0,
                    "<=": c <= 0,
                    ">": c > 0,
                    "<": c < 0,
                    "==": c == 0,
                    "=": c == 0,
                    "!=": c != 0,
                }[op]
                if not ok:
                    return False
            return True
        if any(ch in self.text for ch in "*?["):
            return fnmatch.fnmatchcase(value, self.text)
        return value == self.text


def kubelet_outside_skew(kubelet: str | None, server_version: str | None) -> bool:
    """True when a kubelet (or kube-proxy) is newer than the control plane or further behind
    than the skew policy allows (knowledge/k8s_versions.yaml `version_skew_policy`, read once
    by `plumbob.knowledge.kubernetes.kubelet_skew`, as the kubelet-version-skew check does)."""
    node = parse_minor(kubelet)
    server = parse_minor(server_version)
    if node is None or server is None:
        return False
    return not kubelet_skew().kubelet_ok(node, server)
