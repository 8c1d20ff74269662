"""Errors as ClickHouse sends them: `Code: N. DB::Exception: <text>. (NAME) (version V)` with the code in the
`X-ClickHouse-Exception-Code` header, so that clients raise them as they would a server's."""

from __future__ import annotations

from gateway.errors import ApiError, Busy
from gateway.sqlguard.guard import Refused

# ClickHouse's error codes for the refusals this port makes itself (src/Common/ErrorCodes.cpp).
CODES = {
    "NOT_IMPLEMENTED": 48,
    "SYNTAX_ERROR": 62,
    "UNKNOWN_FORMAT": 73,
    "UNKNOWN_DATABASE": 81,
    "READONLY": 164,
    "TOO_MANY_SIMULTANEOUS_QUERIES": 202,
    "NETWORK_ERROR": 210,
    "QUERY_IS_TOO_LARGE": 229,
    "UNKNOWN_CODEC": 432,
    "ACCESS_DENIED": 497,
    "AUTHENTICATION_FAILED": 516,
    "UNKNOWN_EXCEPTION": 1002,
}

# HTTP statuses by error, as ClickHouse's HTTP handler chooses them; a failure of the analyst's query
# that is not listed is the query's fault (400), never the server's (ClickHouse would say 500).
STATUS = {
    "AUTHENTICATION_FAILED": 403,
    "READONLY": 403,
    "ACCESS_DENIED": 403,
    "UNKNOWN_TABLE": 404,
    "UNKNOWN_DATABASE": 404,
    "UNKNOWN_FUNCTION": 404,
    "UNKNOWN_IDENTIFIER": 404,
    "UNKNOWN_FORMAT": 404,
    "UNKNOWN_SETTING": 404,
    "TIMEOUT_EXCEEDED": 408,
    "QUERY_IS_TOO_LARGE": 413,
    "NOT_IMPLEMENTED": 501,
    "NETWORK_ERROR": 503,
    "TOO_MANY_SIMULTANEOUS_QUERIES": 503,
}


class ClickHouseException(Exception):
    """An answer of the ClickHouse port that is an exception (code, name, one-line text)."""

    def __init__(self, code: int, name: str, text: str, *, status: int | None = None) -> None:
        """`status`: the HTTP status when it is not the one ClickHouse gives `name` (400 when none)."""
        super().__init__(text)
        self.code = code
        self.name = name
        self.text = text.rstrip(" .")
        self.status = status or STATUS.get(name, 400)

    @classmethod
    def named(cls, name: str, text: str) -> ClickHouseException:
        return cls(CODES[name], name, text)

    @classmethod
    def from_api_error(cls, exc: ApiError) -> ClickHouseException:
        """A gateway error as ClickHouse would give it: the guard's refusal with the error it names, every
        turn taken, or the engine out of reach."""
        if isinstance(exc, Refused):
            code = exc.error_code or CODES[exc.error_name]
            return cls(code, exc.error_name, exc.message.removeprefix("query: "))
        name = "TOO_MANY_SIMULTANEOUS_QUERIES" if isinstance(exc, Busy) else "NETWORK_ERROR"
        return cls.named(name, exc.message)

    def body(self, version: str) -> bytes:
        return f"Code: {self.code}. DB::Exception: {self.text}. ({self.name}) (version {version})\n".encode()
