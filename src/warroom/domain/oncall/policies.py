"""Escalation policies, and the directory that turns their targets into people.

A policy is an ordered list of steps. Each step notifies people (a person, whoever a
schedule has on call, a team's on-call people) and waits; if nobody acknowledged by
then, the next step fires. After the last step the whole list runs again ``repeat``
times; after that the page goes to the organization-wide **fallback** policy (the
incident-commander rota), once. The fallback is also where a page starts when nobody
owns what broke: "escalate when ownership is unclear" ends at a person, not a team name.

A step may also hand the page over to another policy. Such hand-overs must never come
back round (A -> B -> A would page forever), so policies are checked as a whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from warroom.domain.oncall.people import Person, require_handle, require_name
from warroom.domain.oncall.schedules import Schedule, who_is_on_call
from warroom.domain.shared.errors import NotFound, ValidationError
from warroom.domain.shared.text import optional_text

TARGET_KINDS = ("person", "schedule", "team", "policy")
MAX_STEPS = 10
MAX_REPEAT = 9
MAX_WAIT = timedelta(hours=24)


@dataclass(frozen=True)
class Target:
    kind: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Step:
    """Notify ``targets``; after ``wait`` without an acknowledgement, go on."""

    targets: tuple[Target, ...]
    wait: timedelta = timedelta(minutes=5)

    @property
    def hands_over(self) -> str | None:
        """The policy this step hands the page to, if it does."""
        return next((t.name for t in self.targets if t.kind == "policy"), None)


@dataclass(frozen=True)
class EscalationPolicy:
    name: str
    steps: tuple[Step, ...]
    repeat: int = 0
    ack_timeout: timedelta | None = timedelta(minutes=30)
    fallback: bool = False
    team: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Team:
    """A team as on call sees it: its members and its default escalation policy."""

    name: str
    members: tuple[str, ...] = ()
    policy: str | None = None


@dataclass(frozen=True)
class Directory:
    """Everything on call knows at one moment, to resolve targets without fetching."""

    people: Mapping[str, Person] = field(default_factory=dict)
    teams: Mapping[str, Team] = field(default_factory=dict)
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    policies: Mapping[str, EscalationPolicy] = field(default_factory=dict)
    # service -> policy, from the catalog or set by hand
    services: Mapping[str, str] = field(default_factory=dict)

    @property
    def fallback(self) -> EscalationPolicy | None:
        return next((p for p in self.policies.values() if p.fallback), None)

    def people_for(self, target: Target, at: datetime) -> list[str]:
        """The handles ``target`` stands for at ``at`` (a policy target stands for nobody)."""
        if target.kind == "person":
            return [target.name] if target.name in self.people else []
        if target.kind == "schedule":
            found = self.schedules.get(target.name)
            on_call = who_is_on_call(found, at) if found is not None else None
            return [on_call.person] if on_call is not None else []
        if target.kind == "team":
            owned = [s for s in self.schedules.values() if s.team == target.name]
            now_on = [o.person for s in owned if (o := who_is_on_call(s, at)) is not None]
            if now_on:
                return list(dict.fromkeys(now_on))
            team = self.teams.get(target.name)
            return [m for m in team.members if m in self.people] if team is not None else []
        return []

    def policy_for(self, services: Sequence[str], team: str | None) -> EscalationPolicy | None:
        """The policy of the first service that names one, else the team's default."""
        for service in services:
            name = self.services.get(service)
            if name and name in self.policies:
                return self.policies[name]
        found = self.teams.get(team) if team else None
        if found is not None and found.policy in self.policies:
            return self.policies[found.policy]  # type: ignore[index]
        return None


def target(kind: str | None, name: str | None) -> Target:
    what = (kind or "").strip().lower()
    if what not in TARGET_KINDS:
        raise ValidationError("step.targets", f"{kind!r} is not one of {', '.join(TARGET_KINDS)}")
    label = require_handle(name, "step.targets") if what == "person" else require_name(name, "step.targets")
    return Target(what, label)


def parse_target(text: str) -> Target:
    """``person:alice``, ``schedule:payments-primary``, ``team:payments``, ``policy:ic``."""
    kind, sep, name = text.strip().partition(":")
    if not sep:
        raise ValidationError("step.targets", f"{text!r} is not kind:name (e.g. schedule:payments-primary)")
    return target(kind, name)


def step(targets: Sequence[Target], wait_minutes: float = 5) -> Step:
    if not targets:
        raise ValidationError("steps", "a step needs at least one target")
    if (
        isinstance(wait_minutes, bool)
        or not isinstance(wait_minutes, int | float)
        or wait_minutes != wait_minutes
    ):
        raise ValidationError("step.wait_minutes", "must be a number of minutes")
    wait = timedelta(minutes=wait_minutes)
    if not timedelta(minutes=1) <= wait <= MAX_WAIT:
        raise ValidationError("step.wait_minutes", "must be between 1 and 1440 minutes")
    if sum(t.kind == "policy" for t in targets) > 1:
        raise ValidationError("step.targets", "a step hands over to at most one policy")
    return Step(tuple(dict.fromkeys(targets)), wait)


def policy(
    name: str | None,
    steps: Sequence[Step],
    *,
    repeat: int = 0,
    ack_timeout_minutes: float | None = 30,
    fallback: bool = False,
    team: str | None = None,
    description: str | None = None,
) -> EscalationPolicy:
    label = require_name(name, "name")
    if not steps:
        raise ValidationError("steps", f"policy {label} needs at least one step")
    if len(steps) > MAX_STEPS:
        raise ValidationError("steps", f"a policy has at most {MAX_STEPS} steps")
    if isinstance(repeat, bool) or not isinstance(repeat, int) or not 0 <= repeat <= MAX_REPEAT:
        raise ValidationError("repeat", f"must be a whole number from 0 to {MAX_REPEAT}")
    timeout = None
    if isinstance(ack_timeout_minutes, bool) or not isinstance(ack_timeout_minutes, int | float | None):
        raise ValidationError("ack_timeout_minutes", "must be a number of minutes (0: never)")
    if ack_timeout_minutes:
        if not 1 <= ack_timeout_minutes <= 24 * 60:
            raise ValidationError("ack_timeout_minutes", "must be between 1 and 1440 minutes (0: never)")
        timeout = timedelta(minutes=ack_timeout_minutes)
    for item in steps:
        if item.hands_over == label:
            raise ValidationError("steps", f"policy {label} hands over to itself, which would page forever")
    return EscalationPolicy(
        label,
        tuple(steps),
        repeat,
        timeout,
        bool(fallback),
        require_name(team, "team") if team else None,
        optional_text(description, "description", limit=500),
    )


def check(directory: Directory) -> None:
    """Refuse what cannot work: a target naming nobody known, a hand-over loop, two fallbacks."""
    fallbacks = [p.name for p in directory.policies.values() if p.fallback]
    if len(fallbacks) > 1:
        raise ValidationError("fallback", f"only one policy may be the fallback ({', '.join(fallbacks)} are)")
    for found in directory.policies.values():
        for number, item in enumerate(found.steps, start=1):
            for t in item.targets:
                known = {
                    "person": directory.people,
                    "schedule": directory.schedules,
                    "team": directory.teams,
                    "policy": directory.policies,
                }[t.kind]
                if t.name not in known:
                    raise ValidationError(
                        "step.targets",
                        f"policy {found.name} step {number} names an unknown {t.kind} {t.name!r}",
                    )
        loop = _loop_from(found.name, directory.policies)
        if loop:
            raise ValidationError("steps", f"policies hand a page round in a loop: {' -> '.join(loop)}")
    for rota in directory.schedules.values():
        for lay in rota.layers:
            unknown = [m for m in lay.members if m not in directory.people]
            if unknown:
                raise ValidationError(
                    "layer.members",
                    f"schedule {rota.name} layer {lay.name}: no person {unknown[0]!r} in the directory",
                )


def _loop_from(start: str, policies: Mapping[str, EscalationPolicy]) -> list[str]:
    """A hand-over path from ``start`` that comes back to a policy on it ([] when none)."""
    path: list[str] = []

    def visit(name: str) -> list[str]:
        if name in path:
            return [*path[path.index(name) :], name]
        found = policies.get(name)
        if found is None:
            return []
        path.append(name)
        for item in found.steps:
            if item.hands_over:
                loop = visit(item.hands_over)
                if loop:
                    return loop
        path.pop()
        return []

    return visit(start)


def require_policy(directory: Directory, name: str) -> EscalationPolicy:
    found = directory.policies.get(name)
    if found is None:
        raise NotFound(f"no escalation policy {name!r}")
    return found
