"""Where an alert belongs: its labels routed to a catalog service, and so to its team.

Pure decisions, no I/O and no clock. :class:`Router` sends an alert's labels to the first
catalog service whose matchers all match (then a ``service`` label naming a catalog
service), and so to its team; an alert that matches nothing goes to the fallback team
with ownership unclear (:attr:`Route.ownership_unclear`), under its own ``service`` label
or :data:`UNROUTED`. A catalog matcher that does not parse raises
:class:`AlertPolicyError` naming the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from warroom.domain.alerts.matchers import Matcher, MatcherSyntaxError, MatchType, matches_all, parse_matchers
from warroom.domain.incidents.catalog import Catalog

MEMO_NAMES = 16  # routes are remembered when the matchers name at most this many labels
MEMO_SIZE = 4096  # most routes remembered (then forgotten all at once)

UNROUTED = "(unrouted)"
"""The service group of alerts that match no catalog service and carry no ``service`` label."""


class AlertPolicyError(ValueError):
    """A wrong ``[alerts]`` setting or catalog matcher; the message names the key."""


@dataclass(frozen=True, slots=True)
class Route:
    """Where an alert belongs: ``service`` is a catalog service when ``matched``, else the
    alert's own ``service`` label, else :data:`UNROUTED`; ``team`` is then the fallback."""

    service: str
    team: str | None
    tier: int | None
    matched: bool

    @property
    def ownership_unclear(self) -> bool:
        return not self.matched


class Router:
    """Routes label sets with the catalog's matchers, compiled once here.

    Raises :class:`AlertPolicyError` naming the service whose matcher does not parse.
    Services without matchers are reached only through the ``service`` label.
    """

    def __init__(self, catalog: Catalog) -> None:
        compiled: list[tuple[str, str, int, tuple[Matcher, ...]]] = []
        for service in catalog.services:
            matchers: list[Matcher] = []
            for index, text in enumerate(service.matchers):
                try:
                    matchers.extend(parse_matchers(text))
                except MatcherSyntaxError as error:
                    raise AlertPolicyError(
                        f"catalog: services[{service.name}].matchers[{index}]: {error}"
                    ) from None
            if matchers:
                compiled.append((service.name, service.team, service.tier, tuple(matchers)))
        self._compiled = tuple(compiled)
        # An index on one equality matcher per service, so an alert is checked against the
        # few services it can match instead of the whole catalog (order is kept).
        self._keyed: dict[tuple[str, str], list[int]] = {}
        self._unkeyed: list[int] = []
        for position, (*_, conditions) in enumerate(compiled):
            key = next(((m.name, m.value) for m in conditions if m.type is MatchType.EQUAL), None)
            if key is None:
                self._unkeyed.append(position)
            else:
                self._keyed.setdefault(key, []).append(position)
        self._key_names = tuple(sorted({name for name, _ in self._keyed}))
        self._by_name = {s.name: (s.team, s.tier) for s in catalog.services}
        fallback = catalog.fallback_team
        self._fallback = fallback.name if fallback is not None else None
        # A route depends only on the labels the matchers name and on ``service``: a storm's
        # alerts share a few such value tuples, so routes are remembered by them.
        names = {m.name for *_, conditions in compiled for m in conditions} | {"service"}
        self._memo_names = tuple(sorted(names)) if len(names) <= MEMO_NAMES else None
        self._memo: dict[tuple[str | None, ...], Route] = {}

    def route(self, labels: Mapping[str, str]) -> Route:
        if self._memo_names is None:
            return self._route(labels)
        key = tuple([labels.get(name) for name in self._memo_names])
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            found = self._memo[key] = self._route(labels)
        return found

    def _route(self, labels: Mapping[str, str]) -> Route:
        candidates = list(self._unkeyed)
        for label in self._key_names:
            candidates += self._keyed.get((label, labels.get(label, "")), ())
        for position in sorted(candidates):
            name, team, tier, matchers = self._compiled[position]
            if matches_all(matchers, labels):
                return Route(name, team, tier, True)
        label = labels.get("service", "").strip()
        if label in self._by_name:
            team, tier = self._by_name[label]
            return Route(label, team, tier, True)
        return Route(label[:100] or UNROUTED, self._fallback, None, False)
