"""Opening study files the same way whether they are plain or gzip-compressed, for Python and for Arrow.

Every read is bounded: no line longer than `MAX_LINE_BYTES` is ever held (a 50 MB line, or a gzip bomb of
one line, is refused at the limit), so memory follows the block sizes and the sizes a header declares.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import itertools
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol, TypeVar

import pyarrow as pa

from loader.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
BOM = codecs.BOM_UTF8
_HASH_CHUNK = 8 << 20
MAX_LINE_BYTES = 1 << 20  # the longest line of any text study file (README: "Limits")
Line = TypeVar("Line", str, bytes, covariant=True)


class LineReader(Protocol[Line]):
    """A binary or text handle that reads one line up to a size."""

    def readline(self, size: int = -1, /) -> Line: ...


# What reading a damaged file raises: gzip's EOFError (truncated) and zlib.error / BadGzipFile (corrupt),
# pyarrow's OSError ("Truncated compressed stream"), and plain I/O errors.
READ_ERRORS = (OSError, EOFError, zlib.error)


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


def read_failure(path: Path, exc: BaseException, line: int | None = None) -> InputError:
    """The one-line refusal for a file that cannot be read to the end, naming it (and the line, if known)."""
    if is_gzip(path) and not (isinstance(exc, OSError) and exc.errno is not None):
        return InputError(path, line, "compressed data ends early or is corrupt (truncated or damaged .gz?)")
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
    return InputError(path, line, f"cannot read the file: {reason}")


def decode_line(path: Path, number: int, raw: bytes) -> str:
    """One line as text: strict UTF-8 (names must not change on the way in), a BOM skipped on line 1."""
    if number == 1 and raw.startswith(BOM):
        raw = raw[len(BOM) :]
    try:
        return raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        byte = f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1}"
        raise InputError(path, number, f"not valid UTF-8 ({byte}); save the file as UTF-8") from None


def line_too_long(path: Path, line: int | None) -> InputError:
    """The refusal of a line over the limit."""
    return InputError(path, line, f"line longer than {MAX_LINE_BYTES:,} bytes (the limit for one line)")


def bounded_lines(handle: LineReader[Line], path: Path) -> Iterator[tuple[int, Line]]:
    """(1-based number, line with its terminator); a line over `MAX_LINE_BYTES` is refused, not read whole
    (a text handle counts characters, which is a tighter bound)."""
    for number in itertools.count(1):
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES:
            raise line_too_long(path, number)
        yield number, line


def read_lines(path: Path, max_lines: int | None = None) -> list[str]:
    """The lines of a small text file (genes, barcodes), strictly decoded; a damaged file is refused.

    At most `max_lines` are kept (the caller passes one more than a header declares, to notice a file longer
    than declared without holding it); the rest of a .gz is then only decompressed and dropped, so that a
    damaged stream is reported as damaged rather than as a longer file."""
    lines: list[str] = []
    try:
        with gzip.open(path, "rb") if is_gzip(path) else path.open("rb") as handle:
            for number, raw in bounded_lines(handle, path):
                lines.append(decode_line(path, number, raw))
                if max_lines is not None and number >= max_lines:
                    while isinstance(handle, gzip.GzipFile) and handle.read(_HASH_CHUNK):
                        pass
                    break
    except READ_ERRORS as exc:  # no line: what a damaged stream yields before it fails may be garbage
        raise read_failure(path, exc) from None
    return lines


def first_invalid_utf8(path: Path, start_line: int = 1) -> InputError | None:
    """The refusal for the first line from `start_line` on that is not valid UTF-8 (an error path only)."""
    try:
        with gzip.open(path, "rb") if is_gzip(path) else path.open("rb") as handle:
            for number, raw in bounded_lines(handle, path):
                if number >= start_line:
                    decode_line(path, number, raw)
    except InputError as exc:
        return exc
    except READ_ERRORS as exc:
        return read_failure(path, exc)
    return None


def open_text(path: Path) -> IO[str]:
    """A text handle on a plain or gzip file (UTF-8, undecodable bytes replaced, newlines kept)."""
    raw = gzip.open(path, "rb") if is_gzip(path) else path.open("rb")  # noqa: SIM115 (returned)
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")


def iter_lines(path: Path, start_line: int = 1) -> Iterator[tuple[int, str]]:
    """(1-based line number, text) from `start_line` on; used on error paths to point at a line."""
    with open_text(path) as handle:
        for number, line in bounded_lines(handle, path):
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
            if len(data) > MAX_LINE_BYTES:
                raise line_too_long(source.path, None)
            rest = data
            continue
        rest = data[cut:]
        yield pa.py_buffer(memoryview(data)[:cut])
    if rest:
        yield pa.py_buffer(rest)


def sha256_of(path: Path) -> str:
    """Checksum of the file as stored (hashlib releases the GIL, so this can run beside the load)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_HASH_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise read_failure(path, exc) from None
    return digest.hexdigest()
