"""HTTP compression as ClickHouse offers it: the answer in the first Accept-Encoding the port knows (when
`enable_http_compression` is on), and request bodies in any of them, decompressed within a size bound."""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterable, Iterator
from typing import Protocol

import lz4.frame

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

ENCODINGS = ("lz4", "zstd", "gzip", "deflate")


class _Encoder(Protocol):
    def compress(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class _Lz4:
    """One LZ4 frame over the whole answer (clickhouse-connect decodes exactly one)."""

    def __init__(self) -> None:
        self._frame = lz4.frame.LZ4FrameCompressor()
        self._started = False

    def compress(self, data: bytes) -> bytes:
        head = b"" if self._started else self._frame.begin()
        self._started = True
        return head + self._frame.compress(data)

    def flush(self) -> bytes:
        head = b"" if self._started else self._frame.begin()
        return head + self._frame.flush()


def _encoder(encoding: str) -> _Encoder:
    if encoding == "gzip":
        return zlib.compressobj(wbits=31)
    if encoding == "deflate":
        return zlib.compressobj(wbits=15)
    if encoding == "zstd":
        return zstd.ZstdCompressor()
    return _Lz4()


def negotiate(accept_encoding: str | None) -> str | None:
    """The first encoding of the client's Accept-Encoding this port can write (q=0 means refused)."""
    for item in (accept_encoding or "").split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        refused = params.replace(" ", "").lower() in ("q=0", "q=0.0", "q=0.00", "q=0.000")
        if name in ENCODINGS and not refused:
            return name
    return None


def encode(chunks: Iterable[bytes], encoding: str | None) -> Iterator[bytes]:
    """`chunks` compressed as one stream of `encoding` (unchanged when None)."""
    if encoding is None:
        yield from chunks
        return
    encoder = _encoder(encoding)
    for chunk in chunks:
        if out := encoder.compress(chunk):
            yield out
    yield encoder.flush()


class BodyTooLarge(ValueError):
    """A request body that decompresses to more than the bound."""


def decode(body: bytes, encoding: str | None, limit: int) -> bytes:
    """A request body in `encoding` decompressed; BodyTooLarge beyond `limit` bytes, ValueError if unknown
    or damaged."""
    name = (encoding or "identity").strip().lower()
    if name == "identity":
        return body
    try:
        if name in ("gzip", "deflate"):
            inflater = zlib.decompressobj(wbits=47 if name == "gzip" else 15)
            data = inflater.decompress(body, limit + 1)
        elif name == "zstd":
            data = zstd.ZstdDecompressor().decompress(body, max_length=limit + 1)
        elif name == "lz4":
            data = lz4.frame.LZ4FrameDecompressor().decompress(body, max_length=limit + 1)
        else:
            raise ValueError(f"unknown Content-Encoding {encoding!r}; the port reads {', '.join(ENCODINGS)}")
    except (zlib.error, zstd.ZstdError, RuntimeError) as exc:
        raise ValueError(f"the request body is not valid {name}: {exc}") from None
    if len(data) > limit:
        raise BodyTooLarge(f"the request body decompresses to more than {limit} bytes")
    return data
