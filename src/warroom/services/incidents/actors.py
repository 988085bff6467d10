"""The labels of actors, read from the people directory and the service tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from warroom.domain.incidents.actors import ActorNames
from warroom.services.ports.uow import UnitOfWork
from warroom.services.shared.context import Context


def actor_names_in(uow: UnitOfWork) -> ActorNames:
    """Everyone who can appear as an actor: people by handle, and the service tokens that
    have an owner (revoked ones too: their events still name them)."""
    people = {person.handle: person.name for person in uow.oncall.people()}
    services = {t.name: t.owner for t in uow.tokens.all() if t.kind != "personal" and t.owner}
    return ActorNames(people, services)


def actor_names(ctx: Context) -> ActorNames:
    with ctx.read() as uow:
        return actor_names_in(uow)


def actors_shown(room: Mapping[str, Any]) -> list[str]:
    """The actors a room view names besides its events (each carries its ``actor_name``):
    who set the milestones, held the roles, decided, and recorded the changes nearby."""
    found = [m.get("by") for m in room["milestones"].values()]
    found += [term["person"] for term in (*room["roles"].values(), *room.get("role_history", []))]
    found += [d["by"] for d in room["decisions"]] + [c["actor"] for c in room.get("changes", [])]
    return [actor for actor in found if isinstance(actor, str)]
