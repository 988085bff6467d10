"""Read ``catalog.yaml`` (and the playbooks it names) into the domain's Catalog.

Validated wholly on load with pydantic, label matchers included: an error names the file,
the line and the path of the bad field, e.g.
``catalog.yaml:14: services[2].matchers[0]: unterminated regex ...``, so a typo stops
``serve`` at start (one line) instead of turning alert ingest into a retry storm.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from warroom.domain.alerts.matchers import MatcherSyntaxError, parse_matchers
from warroom.domain.incidents.catalog import Catalog, Indicator, Playbook, Service, StatusEntry, Team
from warroom.domain.incidents.mitigation import MitigationKind, MitigationPlan, Risk

M = TypeVar("M", bound=BaseModel)


class CatalogError(Exception):
    """The catalog or a playbook is unreadable or invalid; the message names file and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MitigationModel(_Strict):
    title: str = Field(min_length=1, max_length=200)
    kind: MitigationKind
    risk: Risk = Risk.MEDIUM
    reversible: bool = True
    expected_minutes: float = Field(default=2.0, gt=0, le=1440)
    changes: str = ""
    authority: str | None = None
    steps: list[str] = []
    verification: str | None = None


class PlaybookModel(_Strict):
    declaration_template: dict[str, str] = {}
    triage_questions: list[str] = []
    roles: dict[Literal["commander", "comms", "scribe"], list[str]] = {}
    rollback_authority: str | None = None
    stakeholders: list[str] = []
    mitigations: list[MitigationModel] = []


class IndicatorModel(_Strict):
    name: str = Field(min_length=1)
    query: str = Field(min_length=1)
    slo: float
    higher_is_worse: bool = True
    split_by: list[str] = []
    unit: str = ""
    kind: Literal["error_ratio", "latency", "traffic", "other"] = "other"
    deviation: float | None = Field(default=None, gt=0)

    @field_validator("split_by")
    @classmethod
    def _labels(cls, labels: list[str]) -> list[str]:
        for label in labels:
            if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", label):
                raise ValueError(f"{label!r} is not a Prometheus label name")
        return labels

    @model_validator(mode="after")
    def _splits_need_by(self) -> IndicatorModel:
        if self.split_by and "$by" not in self.query:
            raise ValueError(
                f"query must group by $by (e.g. sum by ($by) (...)) to split by {', '.join(self.split_by)}"
            )
        return self


def _matcher(text: str) -> str:
    """The same parse the alert router does, so a matcher it cannot read never loads."""
    try:
        parse_matchers(text)
    except MatcherSyntaxError as error:
        raise ValueError(str(error)) from None
    return text


class StatusEntryModel(_Strict):
    name: str = Field(min_length=1, max_length=80)
    group: str = Field(default="", max_length=80)


class ServiceModel(_Strict):
    name: str = Field(min_length=1, max_length=100)
    team: str = Field(min_length=1)
    tier: int = Field(default=2, ge=1, le=4)
    depends_on: list[str] = []
    matchers: list[Annotated[str, AfterValidator(_matcher)]] = []
    playbook: str | PlaybookModel | None = None
    indicators: list[IndicatorModel] = []
    prometheus_url: str | None = None
    revenue_per_minute: float | None = Field(default=None, ge=0)
    user_share: float | None = Field(default=None, ge=0, le=1)
    escalation_policy: str | None = Field(default=None, min_length=1, max_length=64)
    status_page: StatusEntryModel | None = None


class TeamModel(_Strict):
    name: str = Field(min_length=1)
    members: list[str] = []
    fallback: bool = False
    escalation_policy: str | None = Field(default=None, min_length=1, max_length=64)


class CatalogModel(_Strict):
    teams: list[TeamModel] = []
    services: list[ServiceModel] = []

    @field_validator("services")
    @classmethod
    def _unique(cls, services: list[ServiceModel]) -> list[ServiceModel]:
        names = [s.name for s in services]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"service names must be unique; repeated: {', '.join(dupes)}")
        return services


def _where(error: Any) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML ({exc})") from None


def _line(path: Path, loc: tuple[Any, ...]) -> int | None:
    """The line of ``loc`` in the YAML file (the deepest node it reaches), or None."""
    try:
        node: Any = yaml.compose(path.read_text())
    except (OSError, yaml.YAMLError):
        return None
    found = node
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
        if node is None:
            break
        found = node
    return None if found is None else int(found.start_mark.line) + 1


def _validate(model: type[M], data: Any, path: Path) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        line = _line(path, tuple(first["loc"]))
        where = f"{path.name}:{line}" if line else path.name
        message = str(first["msg"]).removeprefix("Value error, ")
        raise CatalogError(f"{where}: {_where(first)}: {message}") from None


def _playbook(model: PlaybookModel) -> Playbook:
    return Playbook(
        declaration_template=dict(model.declaration_template),
        triage_questions=tuple(model.triage_questions),
        commanders=tuple(model.roles.get("commander", [])),
        comms=tuple(model.roles.get("comms", [])),
        scribes=tuple(model.roles.get("scribe", [])),
        rollback_authority=model.rollback_authority,
        stakeholders=tuple(model.stakeholders),
        mitigations=tuple(
            MitigationPlan(
                title=m.title,
                kind=m.kind,
                risk=m.risk,
                reversible=m.reversible,
                expected_minutes=m.expected_minutes,
                changes=m.changes,
                authority=m.authority or model.rollback_authority,
                steps=tuple(m.steps),
                verification=m.verification,
                prepared=True,
            )
            for m in model.mitigations
        ),
    )


def read_catalog(path: Path) -> Catalog:
    data = _validate(CatalogModel, _load_yaml(path), path)
    team_names = {t.name for t in data.teams}
    services: list[Service] = []
    for index, svc in enumerate(data.services):
        if team_names and svc.team not in team_names:
            raise CatalogError(f"{path.name}: services[{index}].team: no team named {svc.team!r}")
        playbook = Playbook()
        if isinstance(svc.playbook, str):
            book_path = (path.parent / svc.playbook).resolve()
            playbook = _playbook(_validate(PlaybookModel, _load_yaml(book_path), book_path))
        elif svc.playbook is not None:
            playbook = _playbook(svc.playbook)
        services.append(
            Service(
                name=svc.name,
                team=svc.team,
                tier=svc.tier,
                depends_on=tuple(svc.depends_on),
                matchers=tuple(svc.matchers),
                playbook=playbook,
                indicators=tuple(Indicator(**i.model_dump()) for i in svc.indicators),
                prometheus_url=svc.prometheus_url,
                revenue_per_minute=svc.revenue_per_minute,
                user_share=svc.user_share,
                escalation_policy=svc.escalation_policy,
                status_page=StatusEntry(svc.status_page.name, svc.status_page.group)
                if svc.status_page
                else None,
            )
        )
    known = {s.name for s in services}
    for index, svc in enumerate(data.services):
        for dep in svc.depends_on:
            if dep not in known:
                raise CatalogError(f"{path.name}: services[{index}].depends_on: no service named {dep!r}")
    teams = tuple(Team(t.name, tuple(t.members), t.fallback, t.escalation_policy) for t in data.teams)
    return Catalog(services=tuple(services), teams=teams)
