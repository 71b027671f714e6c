"""Redaction of credential-looking values before they reach a snapshot or a report.

Environment variables whose name looks like a credential (TOKEN, SECRET, PASSWORD, KEY,
CREDENTIAL, ...) and that carry a literal `value` are replaced by REDACTED; so is any literal
value that looks like a credential whatever its variable is called (`CREDENTIAL_VALUE`: cloud
and registry tokens by their documented prefixes, JWTs, private key blocks, a URL with a
password), there and in the specs of custom resources. The variable stays, its value says it
was redacted. `valueFrom` references (secretKeyRef and friends) name where a secret lives, not
the secret, and are kept. Container commands and arguments (`--hf-token=hf_...`) and the values
of labels and annotations keep their text with each credential-shaped part replaced.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import msgspec

from plumbob.model.objects import (
    Container,
    CronJob,
    DaemonSet,
    Deployment,
    EnvVar,
    GenericObject,
    Job,
    Object,
    Pod,
    PodSpec,
    ReplicaSet,
    StatefulSet,
)

REDACTED = "<redacted>"

CREDENTIAL_NAME = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|KEY|CREDENTIAL|AUTH|PRIVATE|SESSION|COOKIE|"
    r"SIGNATURE|CERT_?PEM|DSN",
    re.IGNORECASE,
)
"""Env var names whose literal value is treated as a credential."""

_URL_PASSWORD = re.compile(r"([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@", re.IGNORECASE)

CREDENTIAL_VALUE = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"  # AWS access key ids (IAM docs, "unique identifiers")
    r"|hf_[A-Za-z0-9]{30,}"  # Hugging Face user access tokens
    r"|nvapi-[A-Za-z0-9_-]{40,}"  # NVIDIA NGC / build.nvidia.com API keys
    r"|(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}"  # GitHub tokens
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab personal access tokens
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}"  # OpenAI / Anthropic API keys
    r"|AIza[A-Za-z0-9_-]{35}"  # Google API keys
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # JWTs (header.payload.sig)
    r")|-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----"
)
"""Values that are credentials by their shape, whatever the variable is called; each prefix is
the issuer's documented one (AWS IAM identifiers, huggingface.co/docs/hub/security-tokens,
docs.github.com "About authentication": token prefixes, NGC `nvapi-` keys)."""

_NOT_SECRET = frozenset({"true", "false", "", "0", "1", "yes", "no", "none", "null"})


@lru_cache(maxsize=4096)
def _credential_name(name: str) -> bool:
    return CREDENTIAL_NAME.search(name) is not None


def is_credential(name: str, value: str) -> bool:
    """Whether a literal env value should be hidden."""
    if _credential_name(name):
        return value.strip().lower() not in _NOT_SECRET
    return looks_secret(value)


def looks_secret(value: str) -> bool:
    """Whether a value is a credential by its shape (`CREDENTIAL_VALUE`, a URL password)."""
    # cheap tests first: this runs for every env var of every pod
    if len(value) < 16:
        return False
    if "@" in value and "://" in value and _URL_PASSWORD.search(value) is not None:
        return True
    return CREDENTIAL_VALUE.search(value) is not None


def scrub(text: str) -> str:
    """The text with each credential-shaped part (`CREDENTIAL_VALUE`, a URL's password)
    replaced by REDACTED; the same string when there is none."""
    if not looks_secret(text):
        return text
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    return CREDENTIAL_VALUE.sub(REDACTED, text)


def _scrubbed(words: list[str]) -> list[str] | None:
    out = [scrub(w) if isinstance(w, str) else w for w in words]
    return None if all(a is b for a, b in zip(out, words, strict=True)) else out


def _env(env: list[EnvVar]) -> list[EnvVar] | None:
    if not any(v.value is not None and is_credential(v.name, v.value) for v in env):
        return None
    return [
        msgspec.structs.replace(v, value=REDACTED)
        if v.value is not None and is_credential(v.name, v.value)
        else v
        for v in env
    ]


def _containers(containers: list[Container]) -> list[Container] | None:
    changed = False
    out = []
    for c in containers:
        env = _env(c.env)
        if env is not None:
            c = msgspec.structs.replace(c, env=env)
            changed = True
        command, args = _scrubbed(c.command), _scrubbed(c.args)
        if command is not None or args is not None:
            c = msgspec.structs.replace(c, command=command or c.command, args=args or c.args)
            changed = True
        out.append(c)
    return out if changed else None


def redact_pod_spec(spec: PodSpec) -> PodSpec:
    containers = _containers(spec.containers)
    init = _containers(spec.init_containers)
    if containers is None and init is None:
        return spec
    return msgspec.structs.replace(
        spec, containers=containers or spec.containers, init_containers=init or spec.init_containers
    )


def redact_data(value: Any, depth: int = 0) -> Any:
    """Plain data (CRD specs): every `env` list of {name, value} items, at any depth, and any
    string that looks like a credential by its shape."""
    if isinstance(value, str):
        return REDACTED if looks_secret(value) else value
    if depth > 64:
        return value
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "env" and isinstance(v, list):
                out[k] = [_redact_item(i) for i in v]
            else:
                out[k] = redact_data(v, depth + 1)
        return out
    if isinstance(value, list):
        return [redact_data(v, depth + 1) for v in value]
    return value


def _redact_item(item: Any) -> Any:
    if (
        isinstance(item, dict)
        and isinstance(item.get("name"), str)
        and isinstance(item.get("value"), str)
        and is_credential(item["name"], item["value"])
    ):
        return {**item, "value": REDACTED}
    return item


def redact(obj: Object) -> Object:
    """The object with credential-looking env values, arguments, labels and annotations
    replaced; the same object when there is nothing to hide."""
    meta = obj.metadata
    labels = _scrubbed_map(meta.labels)
    annotations = _scrubbed_map(meta.annotations)
    if labels is not None or annotations is not None:
        meta = msgspec.structs.replace(
            meta, labels=labels or meta.labels, annotations=annotations or meta.annotations
        )
        obj = msgspec.structs.replace(obj, metadata=meta)
    return _redact_spec(obj)


def _scrubbed_map(values: dict[str, str]) -> dict[str, str] | None:
    if not any(isinstance(v, str) and looks_secret(v) for v in values.values()):
        return None
    return {k: scrub(v) if isinstance(v, str) else v for k, v in values.items()}


def _redact_spec(obj: Object) -> Object:
    if isinstance(obj, Pod):
        spec = redact_pod_spec(obj.spec)
        return obj if spec is obj.spec else msgspec.structs.replace(obj, spec=spec)
    if isinstance(obj, (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job)):
        tmpl = obj.spec.template
        spec = redact_pod_spec(tmpl.spec)
        if spec is tmpl.spec:
            return obj
        new_tmpl = msgspec.structs.replace(tmpl, spec=spec)
        return msgspec.structs.replace(
            obj, spec=msgspec.structs.replace(obj.spec, template=new_tmpl)
        )
    if isinstance(obj, CronJob):
        job = obj.spec.job_template
        tmpl = job.spec.template
        spec = redact_pod_spec(tmpl.spec)
        if spec is tmpl.spec:
            return obj
        new_job = msgspec.structs.replace(
            job,
            spec=msgspec.structs.replace(
                job.spec, template=msgspec.structs.replace(tmpl, spec=spec)
            ),
        )
        return msgspec.structs.replace(
            obj, spec=msgspec.structs.replace(obj.spec, job_template=new_job)
        )
    if isinstance(obj, GenericObject) and obj.spec is not None:
        spec = redact_data(obj.spec)
        return obj if spec == obj.spec else msgspec.structs.replace(obj, spec=spec)
    return obj


__all__ = [
    "CREDENTIAL_NAME",
    "CREDENTIAL_VALUE",
    "REDACTED",
    "is_credential",
    "looks_secret",
    "redact",
    "redact_data",
    "scrub",
]
