"""The embedded demo fleet: generator, planted defects, and the Source that loads it."""

from plumbob.sources.demo.generator import SERVER_VERSION, DemoSpec, api_groups, generate
from plumbob.sources.demo.planted import Planted, planted
from plumbob.sources.demo.source import DemoSource, write_kubectl_list

__all__ = [
    "SERVER_VERSION",
    "DemoSource",
    "DemoSpec",
    "Planted",
    "api_groups",
    "generate",
    "planted",
    "write_kubectl_list",
]
