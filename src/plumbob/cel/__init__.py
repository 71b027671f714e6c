"""CEL as the Kubernetes API server evaluates it: compile once, evaluate over plain objects."""

from plumbob.cel.environment import (
    POLICY_VARIABLES,
    CelCompileError,
    Outcome,
    Program,
    compile_expression,
)

__all__ = ["POLICY_VARIABLES", "CelCompileError", "Outcome", "Program", "compile_expression"]
