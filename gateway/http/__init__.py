"""HTTP plumbing: the endpoint decorator, content negotiation and encoders, streamed and spooled answers,
the waitress server, the access log and the OpenAPI document. Nothing here knows a question's SQL."""
