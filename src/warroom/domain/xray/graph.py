"""The calls of a set of traces: which hop each call crosses, and where a failure starts.

A *call* is the span that stands for one request from one service to another: the
caller's client span when it has one (the caller's view: a client that gave up after its
timeout failed, whatever the callee did later), else the callee's server span. A client
span without an instrumented callee is a call to its ``peer`` (an external provider).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from warroom.domain.xray.spans import KIND_CLIENT, KIND_PRODUCER, Span

OUTBOUND = (KIND_CLIENT, KIND_PRODUCER)


class Hop(NamedTuple):
    """One edge of the call graph: ``caller`` → ``callee`` ``operation`` (a tuple: hashed
    hundreds of thousands of times per analysis)."""

    caller: str
    callee: str
    operation: str

    def label(self) -> str:
        if self.caller == self.callee:
            return f"{self.callee} ({self.operation})"
        return f"{self.caller} → {self.callee}"


@dataclass(frozen=True, slots=True)
class Failure:
    """Where one failed request's error originates."""

    trace_id: str
    root: Span
    origin: Span
    hop: Hop
    path: tuple[str, ...]  # services from the root to the failing callee


class Trace:
    """The spans of one trace, linked: root, children, the calls between services."""

    __slots__ = ("by_id", "children", "root", "spans")

    def __init__(self, spans: Sequence[Span]) -> None:
        self.spans = spans
        by_id = self.by_id = {s.span_id: s for s in spans}
        children: dict[str, list[Span]] = {}
        root: Span | None = None
        for span in spans:
            parent = span.parent_id
            if parent and parent in by_id:
                found = children.get(parent)
                if found is None:
                    children[parent] = [span]
                else:
                    found.append(span)
            elif root is None or (parent == "", span.start_us) < (root.parent_id == "", root.start_us):
                root = span  # a trace whose root is not (yet) here hangs from its earliest orphan
        self.children = children
        self.root = root if root is not None else spans[0]

    @property
    def weight(self) -> float:
        return self.root.weight

    def calls(self) -> Iterable[tuple[tuple[str, str, str], Span, str]]:
        """Each call as ((caller, callee, operation), span, the caller's parent span id);
        the hop is a plain tuple (equal to its :class:`Hop`): this runs once per span."""
        by_id, children = self.by_id, self.children
        for span in self.spans:
            if span.kind in OUTBOUND:
                callee = None
                service = span.service
                for child in children.get(span.span_id, ()):
                    if child.service != service:
                        callee = child
                        break
                if callee is not None:
                    yield (service, callee.service, callee.operation), span, span.parent_id
                elif span.peer:
                    yield (service, span.peer, span.operation), span, span.parent_id
                continue
            parent = by_id.get(span.parent_id) if span.parent_id else None
            if parent is not None and parent.service != span.service and parent.kind not in OUTBOUND:
                yield (parent.service, span.service, span.operation), span, parent.span_id

    def failure(self) -> Failure | None:
        """The deepest failing span whose children all succeed, when the root failed."""
        root = self.root
        if not root.error:
            return None
        children = self.children
        origin, depth = root, 0
        stack = [(root, 0)]
        while stack:
            span, level = stack.pop()
            failing = [c for c in children.get(span.span_id, []) if c.error]
            if not failing:
                if level > depth or (level == depth and span.start_us < origin.start_us):
                    origin, depth = span, level
                continue
            stack.extend((c, level + 1) for c in failing)
        return Failure(root.trace_id, root, origin, self._hop_of(origin), self._path(origin))

    def _hop_of(self, origin: Span) -> Hop:
        if origin.kind in OUTBOUND:
            callee = _remote_child(origin, self.children.get(origin.span_id, []))
            if callee is not None:
                return Hop(origin.service, callee.service, callee.operation)
            if origin.peer:
                return Hop(origin.service, origin.peer, origin.operation)
        span = origin
        while span.parent_id and span.parent_id in self.by_id:
            parent = self.by_id[span.parent_id]
            if parent.service != span.service:
                return Hop(parent.service, span.service, span.operation)
            span = parent
        return Hop(origin.service, origin.service, origin.operation)

    def _path(self, origin: Span) -> tuple[str, ...]:
        chain: list[str] = []
        span: Span | None = origin
        while span is not None:
            if not chain or chain[-1] != span.service:
                chain.append(span.service)
            span = self.by_id.get(span.parent_id) if span.parent_id else None
        chain.reverse()
        hop = self._hop_of(origin)
        if hop.callee != chain[-1]:
            chain.append(hop.callee)
        return tuple(chain)


def _remote_child(span: Span, children: Iterable[Span]) -> Span | None:
    for child in children:
        if child.service != span.service:
            return child
    return None


def traces_of(spans: Iterable[Span]) -> list[Trace]:
    """The spans grouped into linked traces."""
    grouped: dict[str, list[Span]] = {}
    for span in spans:
        found = grouped.get(span.trace_id)
        if found is None:
            grouped[span.trace_id] = [span]
        else:
            found.append(span)
    return [Trace(group) for group in grouped.values()]
