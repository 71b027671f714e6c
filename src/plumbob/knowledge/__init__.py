"""Fact tables shipped as data (each row with its `source:`), loaded once into typed lookups."""

from plumbob.knowledge.loader import KnowledgeError, load_table, table_names

__all__ = ["KnowledgeError", "load_table", "table_names"]
