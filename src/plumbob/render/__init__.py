"""Renderers: table (terminal), json."""
