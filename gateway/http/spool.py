"""Answers encoded in full before the first byte is sent: RAM up to a bound, then a temporary file.

Used where an error can still arrive after much output (a /sql result over a limit, an export to an HTTP/1.0
client, which has no way to tell a cut-short body from a complete one): the client then gets a clean 4xx/5xx
JSON error, or a body with an exact Content-Length — and Python memory stays bounded whatever the size.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO

from flask import Response

CHUNK_BYTES = 1 << 20


class Spool:
    """Bytes written once, then read back once as a response body."""

    def __init__(self, memory_bytes: int) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=memory_bytes)  # noqa: SIM115 - closed by the body
        self.size = 0

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self.size += len(data)

    def extend(self, chunks: Iterable[bytes]) -> Spool:
        for chunk in chunks:
            self.write(chunk)
        return self

    @contextmanager
    def file(self) -> Iterator[IO[bytes]]:
        """The spool as a file, for a writer that seeks (h5py); the spool holds what the file ends with."""
        yield self._file
        self.size = self._file.seek(0, io.SEEK_END)

    def close(self) -> None:
        self._file.close()

    def _body(self) -> Iterator[bytes]:
        try:
            self._file.seek(0)
            while chunk := self._file.read(CHUNK_BYTES):
                yield chunk
        finally:
            self._file.close()

    def response(self, mimetype: str) -> Response:
        """The spooled bytes as a response with its exact Content-Length (the spool is closed when sent)."""
        response = Response(self._body(), mimetype=mimetype)
        response.headers["Content-Length"] = str(self.size)
        return response
