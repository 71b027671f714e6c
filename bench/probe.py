"""Baselines, each run as its own process so its time and peak memory are its own.

probe.py floor FILE     msgspec decodes FILE into a struct that skips every field: the cost
                        of tokenizing the JSON and nothing else (the physical floor)
probe.py orjson FILE    orjson.loads of the whole file: what a tool that loads the JSON into
                        Python objects pays before it looks at anything
probe.py yaml DIR       every *.yaml under DIR through PyYAML's libyaml C loader (CSafeLoader)
probe.py yaml-rs DIR    every *.yaml under DIR through yaml-rs (Rust), the fastest loader here
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator


def floor(path: str) -> None:
    import msgspec

    class Skip(msgspec.Struct):
        """No fields: msgspec validates the JSON and skips every value."""

    with open(path, "rb") as fh:
        data = fh.read()
    msgspec.json.Decoder(Skip).decode(data)


def load_orjson(path: str) -> None:
    import orjson

    with open(path, "rb") as fh:
        data = fh.read()
    orjson.loads(data)


def _yaml_texts(root: str) -> Iterator[bytes]:
    for folder, _, names in os.walk(root):
        for name in sorted(names):
            if name.endswith((".yaml", ".yml")):
                with open(os.path.join(folder, name), "rb") as fh:
                    yield fh.read()


def load_yaml(root: str) -> None:
    import gc

    import yaml

    gc.disable()  # as plumbob does while it reads: the parser alone, not the collector

    loader = yaml.CSafeLoader
    count = sum(1 for text in _yaml_texts(root) for _ in yaml.load_all(text, Loader=loader))
    if not count:
        raise SystemExit(f"no YAML documents under {root}")


def load_yaml_rs(root: str) -> None:
    import gc

    import yaml_rs

    gc.disable()
    count = 0
    for text in _yaml_texts(root):
        docs = yaml_rs.loads(text.decode(), parse_datetime=False)
        count += len(docs) if isinstance(docs, list) else 1
    if not count:
        raise SystemExit(f"no YAML documents under {root}")


def main() -> None:
    what, target = sys.argv[1], sys.argv[2]
    probes = {"floor": floor, "orjson": load_orjson, "yaml": load_yaml, "yaml-rs": load_yaml_rs}
    probes[what](target)


if __name__ == "__main__":
    main()
