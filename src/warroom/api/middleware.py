"""The outermost guard of every request: body size limit, metrics, and a last-resort 500.

A pure ASGI middleware (not ``BaseHTTPMiddleware``), so streamed responses such as the
room's server-sent events pass through untouched. Request bodies are read up to
``max_body`` bytes before the app sees them; a larger one is answered 413 without reading
the rest. An exception no handler claimed is logged with its trace and answered with a
generic 500 problem that reveals nothing about the internals.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from warroom.api.metrics import UNMATCHED, RequestMetrics
from warroom.api.problems import problem

MAX_BODY = 1024 * 1024
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

log = logging.getLogger("warroom.api")


class TooLarge(Exception):
    pass


class GuardMiddleware:
    def __init__(self, app: ASGIApp, metrics: RequestMetrics, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        sent: dict[str, Any] = {"status": 500, "started": False}

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
                sent["started"] = True
            await send(message)

        try:
            if scope["method"] in BODY_METHODS:
                receive = await self._buffered(scope, receive)
            await self.app(scope, receive, tracking_send)
        except TooLarge:
            response = problem(
                413, f"the request body is larger than {self.max_body} bytes", kind="too-large", field="body"
            )
            await response(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error answering %s %s", scope["method"], _route(scope))
            if not sent["started"]:
                response = problem(500, "the server failed to answer; the error is logged", kind="internal")
                await response(scope, receive, tracking_send)
        finally:
            self.metrics.observe(
                scope["method"], _route(scope), int(sent["status"]), time.perf_counter() - started
            )

    async def _buffered(self, scope: Scope, receive: Receive) -> Receive:
        """Read the whole body (refusing more than ``max_body``), then replay it to the app."""
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_body:
                    raise TooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client left; let the app see the disconnect.
                pending: list[Message] = [message]
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
                break

        async def replay() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        return replay


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED
