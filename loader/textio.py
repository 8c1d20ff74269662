"""Opening study files the same way whether they are plain or gzip-compressed, for Python and for Arrow."""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pyarrow as pa

from loader.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
_HASH_CHUNK = 8 << 20


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip magic bytes (whatever its name says)."""
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def require_file(path: Path, role: str) -> None:
    """Refuse a missing, unreadable or empty input file with a one-line message."""
    if not path.exists():
        raise InputError(path, None, f"{role} file not found")
    if not path.is_file():
        raise InputError(path, None, f"{role} path is not a regular file")
    if path.stat().st_size == 0:
        raise InputError(path, None, f"{role} file is empty")


def open_text(path: Path) -> IO[str]:
    """A text handle on a plain or gzip file (UTF-8, undecodable bytes replaced, newlines kept)."""
    raw = gzip.open(path, "rb") if is_gzip(path) else path.open("rb")  # noqa: SIM115 (returned)
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")


def read_head(path: Path, max_lines: int) -> list[str]:
    """The first lines of a file (without line terminators); tolerates a corrupt gzip tail."""
    lines: list[str] = []
    try:
        with open_text(path) as handle:
            for line in handle:
                lines.append(line.rstrip("\r\n"))
                if len(lines) >= max_lines:
                    break
    except (OSError, EOFError) as exc:
        if not lines:
            raise InputError(path, None, f"cannot read the file: {exc}") from None
    return lines


def iter_lines(path: Path, start_line: int = 1) -> Iterator[tuple[int, str]]:
    """(1-based line number, text) from `start_line` on; used on error paths to point at a line."""
    with open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if number >= start_line:
                yield number, line.rstrip("\r\n")


class ArrowSource:
    """An Arrow input stream over a (possibly gzip) file plus a handle that tells how far it has read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self._raw = pa.OSFile(str(path), "rb")
        self.stream = pa.CompressedInputStream(self._raw, "gzip") if is_gzip(path) else self._raw

    def position(self) -> int:
        """Bytes of the file on disk consumed so far (compressed bytes for gzip), for progress."""
        return self._raw.tell()

    def skip(self, n_bytes: int) -> None:
        """Consume the first `n_bytes` of decompressed content (a header parsed separately)."""
        remaining = n_bytes
        while remaining > 0:
            chunk = self.stream.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)

    def close(self) -> None:
        self.stream.close()
        if self.stream is not self._raw:
            self._raw.close()

    def __enter__(self) -> ArrowSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def line_chunks(source: ArrowSource, size: int) -> Iterator[pa.Buffer]:
    """The rest of the stream in pieces of about `size` bytes ending on a line break (bounded read-ahead)."""
    rest = b""
    while True:
        data = source.stream.read(size)
        if not data:
            break
        data = rest + data if rest else data
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            rest = data
            continue
        rest = data[cut:]
        yield pa.py_buffer(memoryview(data)[:cut])
    if rest:
        yield pa.py_buffer(rest)


def sha256_of(path: Path) -> str:
    """Checksum of the file as stored (hashlib releases the GIL, so this can run beside the load)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
