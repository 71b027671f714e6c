"""Containers whose environment holds a credential as a literal value instead of a Secret
reference."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.knowledge.credentials import literal_credential
from plumbob.model.snapshot import Snapshot

WHY = """
An access token written as an env `value` is stored in the object itself: anyone who can read
the Deployment, InferenceService or PyTorchJob (`kubectl get -o yaml`, a GitOps repository, a
Helm release record, a support bundle, an audit log) has it, and it cannot be rotated without
editing and redeploying the workload. AI platforms hand workloads unusually powerful tokens: a
Hugging Face token reads gated and private models, an NGC key pulls NVIDIA AI Enterprise images,
an OpenAI or W&B key spends money and reads experiment data, an AWS key reaches the training
data bucket. Public repositories show such keys committed by accident (kata-containers PR 11159
put a working NGC key in a GPU pod's env). High: a leaked key is usable at once by anyone who
sees it. Placeholders (`<token>`, `$HF_TOKEN`, `YOUR_TOKEN`, `hf_xxxx`, empty) and `$(VAR)`
references hold no credential and are not reported: whoever fills them in is reported when the
filled-in manifest is scanned. The report names the variable, never its value.
"""

FIX = """
Move the value into a Secret and reference it; then rotate the key, since it has been exposed:

    kubectl create secret generic hf-token --from-literal=token=...   # or External Secrets
    env:
      - name: HF_TOKEN
        valueFrom:
          secretKeyRef: {name: hf-token, key: token}

Restrict who can read Secrets (RBAC `get`/`list` on secrets) and keep them out of Git with
External Secrets, Sealed Secrets or SOPS.
"""


@check(
    id="env-plaintext-credential",
    category="policy",
    severity="high",
    reads=(WORKLOADS,),
    title="Container environment holds a credential as a literal value",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-environment-variables",
        "https://kubernetes.io/docs/concepts/security/secrets-good-practices/",
        "https://github.com/kata-containers/kata-containers/pull/11159",
        "https://docs.github.com/en/code-security/secret-scanning/introduction/supported-secret-scanning-patterns",
    ),
    origin=Origin(
        "https://github.com/kata-containers/kata-containers/pull/11159",
        "A GPU NIM pod committed to a public repository carried a working-looking NGC API "
        "key as a literal env value, which the review flagged.",
    ),
)
def env_plaintext_credential(snap: Snapshot) -> Iterator[Hit]:
    for template in snap.pod_templates:
        for path, container in template.containers():
            found: list[dict[str, Any]] = []
            first: int | None = None
            for i, var in enumerate(container.env):
                if var.value is None or var.value_from is not None:
                    continue
                credential = literal_credential(var.name, var.value)
                if credential is None:
                    continue
                first = i if first is None else first
                found.append(
                    {
                        "variable": var.name,
                        "holds": credential.what,
                        "basis": credential.basis,
                        "source": credential.source,
                    }
                )
            if not found:
                continue
            named = ", ".join(f"{f['variable']} ({f['holds']})" for f in found)
            many = len(found) > 1
            yield Hit(
                template.workload,
                f"container {container.name!r} of {template.kind} {template.workload.name} sets "
                f"{named} as {'literal values' if many else 'a literal value'} instead of "
                f"{'Secret references' if many else 'a Secret reference'}",
                evidence={"container": container.name, "variables": found},
                path=f"{path}.env[{first}].value",
            )
