"""Renderers: table (terminal), json, html, sarif, junit, markdown; one module per format."""
