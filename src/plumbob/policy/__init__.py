"""Guardrails: plumbob's single-object checks, the baseline's intent and custom checks as
admission policies (ValidatingAdmissionPolicy, Kyverno), and what they would deny."""

from plumbob.policy.evaluate import Denial, PolicyError, denials, load_policies
from plumbob.policy.export import Action, PolicyFormat, write
from plumbob.policy.rules import Rule, built_in_rules, custom_rules, parameters

__all__ = [
    "Action",
    "Denial",
    "PolicyError",
    "PolicyFormat",
    "Rule",
    "built_in_rules",
    "custom_rules",
    "denials",
    "load_policies",
    "parameters",
    "write",
]
