"""Errors as ClickHouse sends them: `Code: N. DB::Exception: <text>. (NAME) (version V)` with the code in the
`X-ClickHouse-Exception-Code` header, so that clients raise them as they would a server's."""

from __future__ import annotations

from gateway.errors import ApiError

# ClickHouse's error codes for the refusals this port makes itself (src/Common/ErrorCodes.cpp).
CODES = {
    "SYNTAX_ERROR": 62,
    "UNKNOWN_FORMAT": 73,
    "UNKNOWN_DATABASE": 81,
    "TIMEOUT_EXCEEDED": 159,
    "READONLY": 164,
    "TOO_MANY_ROWS_OR_BYTES": 396,
    "QUERY_IS_TOO_LARGE": 62,
    "ACCESS_DENIED": 497,
    "AUTHENTICATION_FAILED": 516,
    "UNKNOWN_SETTING": 115,
    "NOT_IMPLEMENTED": 48,
    "TOO_MANY_SIMULTANEOUS_QUERIES": 202,
}
NAMES = {code: name for name, code in CODES.items()}

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
    "NOT_IMPLEMENTED": 501,
    "TOO_MANY_SIMULTANEOUS_QUERIES": 503,
}


class ClickHouseException(Exception):
    """An answer of the ClickHouse port that is an exception (code, name, one-line text)."""

    def __init__(self, code: int, name: str, text: str, *, status: int | None = None) -> None:
        super().__init__(text)
        self.code = code
        self.name = name
        self.text = text.rstrip(" .")
        self.status = status or STATUS.get(name, 400)

    @classmethod
    def named(cls, name: str, text: str) -> ClickHouseException:
        return cls(CODES[name], name, text)

    @classmethod
    def from_refusal(cls, exc: ApiError) -> ClickHouseException:
        """A gateway refusal (the guard's, a limit's) with the ClickHouse error it carries (`error_name`,
        `error_code`; ACCESS_DENIED when it names none)."""
        name = getattr(exc, "error_name", None) or "ACCESS_DENIED"
        code = getattr(exc, "error_code", None) or CODES.get(name, CODES["ACCESS_DENIED"])
        status = 503 if exc.status == 503 else None
        return cls(code, name, exc.message.removeprefix("query: "), status=status)

    def body(self, version: str) -> bytes:
        return f"Code: {self.code}. DB::Exception: {self.text}. ({self.name}) (version {version})\n".encode()
