"""Who acted, in words people recognise: the one way every surface names an actor.

An event records its actor as one string, as it was when it happened: a person's handle
(``alice``), a service token's name (``deploy-bot``), or ``alice via deploy-bot`` for a
service token a person owns. Those strings are never rewritten (they are part of the hash
chain); :class:`ActorNames` turns them into labels at display time, from the people
directory and the service tokens as they are now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

VIA = " via "

# The payload members of events that name a person by handle, by event kind: what a
# description of the event shows as a person (see ActorNames.person).
PAYLOAD_PEOPLE: Mapping[str, tuple[str, ...]] = {
    "role_assigned": ("person",),
    "role_released": ("person",),
    "role_handed_off": ("from", "to"),
    "followup_added": ("owner",),
}


def payload_people(kind: str, payload: Mapping[str, object]) -> list[str]:
    """The handles an event's payload names as people (``PAYLOAD_PEOPLE``)."""
    return [value for key in PAYLOAD_PEOPLE.get(kind, ()) if isinstance(value := payload.get(key), str)]


def split_actor(actor: str) -> tuple[str, str | None]:
    """The person and the service that acted for them: ``alice via deploy-bot`` is alice's,
    through the service token ``deploy-bot`` she owns (the recorded actor stays one string,
    so the hash chain of older events is untouched)."""
    person, sep, via = actor.partition(VIA)
    return (person, via) if sep and person and via else (actor, None)


@dataclass(frozen=True)
class ActorNames:
    """``people`` maps a handle to the person's name; ``services`` maps the name of a
    service token that has an owner to the owner's handle. A token nobody owns is not
    labelled: before owners, tokens were often named after their person (``alice``)."""

    people: Mapping[str, str] = field(default_factory=dict)
    services: Mapping[str, str] = field(default_factory=dict)

    def person(self, handle: str) -> str:
        """``Alice Ng (alice)``; a handle the directory does not know stays as recorded."""
        name = self.people.get(handle)
        return f"{name} ({handle})" if name and name != handle else handle

    def _owner(self, handle: str) -> str:
        return self.people.get(handle) or handle

    def label(self, actor: str) -> str:
        """The actor as people read it: ``Alice Ng (alice)`` for a person,
        ``deploy-bot (service, owner Alice Ng)`` for a service token acting for its owner
        (recorded as ``alice via deploy-bot``, or as ``deploy-bot`` before it had one);
        anything else as recorded."""
        person, via = split_actor(actor)
        if via is not None:
            return f"{via} (service, owner {self._owner(person)})"
        owner = self.services.get(actor)
        if owner is None or actor in self.people:
            return self.person(actor)
        return f"{actor} (service, owner {self._owner(owner)})"

    def labels(self, actors: Iterable[str | None]) -> dict[str, str]:
        """The label of each distinct actor in ``actors`` (empty ones left out)."""
        return {actor: self.label(actor) for actor in dict.fromkeys(actors) if actor}
