"""Builds the krew plugin archive (kubectl-plumbob launcher and LICENSE notice) byte for byte
the same on every run, so that plugins/plumbob.yaml can carry its sha256:

    python plugins/archive.py dist/kubectl-plumbob.tar.gz   # prints the sha256

tests/delivery/test_kubectl_plugin.py rebuilds it and checks the manifest's sha256."""

from __future__ import annotations

import gzip
import hashlib
import io
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEMBERS = (("kubectl-plumbob", 0o755), ("LICENSE", 0o644))
LICENSE = b"plumbob is licensed under the Apache License, Version 2.0.\n"


def archive() -> bytes:
    """The archive: fixed owner, modes and times, members in a fixed order, gzip without a
    timestamp."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, mode in MEMBERS:
            data = LICENSE if name == "LICENSE" else (HERE / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


def main(out: str) -> None:
    data = archive()
    Path(out).write_bytes(data)
    print(hashlib.sha256(data).hexdigest())


if __name__ == "__main__":
    main(sys.argv[1])
