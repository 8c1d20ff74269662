"""Cross-site protection for a gateway that often runs on a user's own machine.

- Host allow-list: a web page on another site can point its own DNS name at 127.0.0.1 (DNS rebinding) and
  then read the gateway as if same-origin; the browser still sends that foreign name as Host, so requests
  whose Host is not one of the gateway's own names are refused (400). The names: `allowed_hosts` (default
  localhost, 127.0.0.1 and [::1]) plus the address the server binds to.
- The pages get a Content-Security-Policy of their own origin, may not be framed, are not MIME-sniffed and
  send no Referer elsewhere.
(POST bodies must be application/json, which no page can send cross-site without a CORS preflight: see
gateway.http.endpoint.)
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, request

from gateway.errors import BadRequest

ALLOWED_HOSTS_KEY = "GENOSTREAM_ALLOWED_HOSTS"
# No 'unsafe-eval': the explorer has Vega interpret chart expressions (vega-embed's `ast: true`) instead of
# compiling them with `new Function`. Swagger UI and vega-embed set inline styles; the explorer reads a
# chart's PNG from the data: URL Vega renders it to. Scripts and everything else come from this origin only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def host_name(host: str) -> str:
    """The name part of a Host header value (port and IPv6 brackets kept apart), lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.partition(":")[0]


def allow_hosts(app: Flask, names: Iterable[str]) -> None:
    """Add `names` (e.g. the address a server binds to) to the app's Host allow-list."""
    app.config[ALLOWED_HOSTS_KEY] = app.config[ALLOWED_HOSTS_KEY] | {host_name(n) for n in names}


def init_app(app: Flask, allowed_hosts: Iterable[str]) -> None:
    app.config[ALLOWED_HOSTS_KEY] = frozenset(host_name(n) for n in allowed_hosts)

    @app.before_request
    def _check_host() -> None:
        host = request.headers.get("Host")
        if host is not None and host_name(host) not in app.config[ALLOWED_HOSTS_KEY]:
            raise BadRequest(
                f"Host {host!r} is not a name of this gateway; add it to allowed_hosts "
                "(GENOSTREAM_GATEWAY_ALLOWED_HOSTS) to serve it",
                field="Host",
            )

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
