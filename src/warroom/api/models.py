"""Request bodies of the REST API, typed so ``/openapi.json`` documents them.

They check shapes only (text is text, lists are lists); the meaning of each value is
checked by ``warroom.services.operations``, the same code the CLI and the web room call,
so every interface refuses the same input with the same message. Unknown fields are
refused, naming the field, so a typo is not silently ignored.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)
from pydantic_core import PydanticCustomError

from warroom.domain.shared.text import unstorable


def _strict(expected: str) -> WrapValidator:
    """A number-or-text union that refuses booleans and reports one error on the field
    itself (pydantic would name each member: ``severity.int``, ``severity.str``)."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        # JSON true is not a number: Python's bool is an int, so pydantic would read it as
        # 1 (a 100% share, SEV1, one minute).
        if isinstance(value, bool):
            raise PydanticCustomError("bool_not_number", f"must be {expected}, not true or false")
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError("number_or_text", f"must be {expected}") from None

    return WrapValidator(validate)


Number = Annotated[float | str, _strict("a number, or its text such as 12% or 1,200")]
"""A number, or its text (``12%``, ``1,200``): the operations parse and bound it."""
Share = Number
WholeNumber = Annotated[int | str, _strict("a whole number")]
"""A whole number, or its text."""
SeverityValue = Annotated[str | int, _strict("SEV1..SEV4 or 1..4")]
"""SEV1..SEV4, or the bare number 1..4."""
Text = str | None
TextList = list[str] | str | None


def refuse_nul(value: Any) -> Any:
    """No text may hold NUL or a lone surrogate (``domain.shared.text.unstorable``): they
    cannot be stored or hashed, so they are refused at the edge, naming the field."""
    texts = value if isinstance(value, list) else [value]
    for text in texts:
        problem = unstorable(text) if isinstance(text, str) else None
        if problem is not None:
            raise PydanticCustomError("unstorable", problem)
    return value


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)

    def given(self) -> dict[str, Any]:
        """The fields the client sent, as the operations expect them."""
        return self.model_dump(exclude_unset=True)


class ImpactBody(Body):
    customer_impact: Share | None = Field(None, description="Share of users or requests: 0.12 or '12%'.")
    critical_journey: Text = Field(None, description="A critical journey that is down ('' for none).")
    financial_per_hour: Number | None = Field(None, description="Estimated loss per hour.")
    data_integrity: Text = Field(None, description="none, at_risk, corrupted or lost.")
    security: Text = Field(None, description="none, suspected or confirmed.")


class DeclareBody(ImpactBody):
    title: str = Field(description="One line: what is broken, for whom.")
    kind: Text = Field(None, description="availability, latency, data_integrity or security.")
    services: TextList = Field(None, description="Affected services.")
    scope: Text = Field(None, description="Who and what is affected (regions, routes, tenants).")
    symptom: Text = Field(None, description="The first observed symptoms.")
    trigger: Text = Field(None, description="What set it off, if known.")
    severity: SeverityValue | None = Field(None, description="Override the policy's severity (needs why).")
    why: Text = Field(None, description="Why the severity differs from the policy.")
    detected_at: Text = Field(
        None, description="ISO 8601 time it was detected (default now); 1970 or later, not in the future."
    )
    impact_started_at: Text = Field(
        None, description="ISO 8601 time impact started, if known; 1970 or later, not in the future."
    )


class SeverityBody(Body):
    severity: SeverityValue = Field(description="SEV1..SEV4.")
    why: Text = None


class RoleBody(Body):
    role: str = Field(description="commander, comms, scribe, ops, sme or liaison.")
    person: str


class HandoffBody(RoleBody):
    note: str = Field(description="What the next holder needs to know.")


class FactBody(Body):
    text: str
    source: Text = Field(None, description="Where the fact comes from (a dashboard, a log, a person).")


class GuessBody(Body):
    text: str


class ConfirmBody(Body):
    guess: str = Field(description="The guess's id.")
    source: Text = None


class RefuteBody(Body):
    guess: str = Field(description="The guess's id.")
    why: str


class DecisionBody(Body):
    text: str
    why: str
    alternatives: TextList = None
    irreversible: bool = False


class RetitleBody(Body):
    title: str = Field(description="The new title.")


class NoteBody(Body):
    text: str
    pinned: bool = False


class ChangeBody(Body):
    service: str
    kind: str = Field(description="deploy, config, flag, infra or dependency.")
    summary: str
    at: Text = Field(None, description="ISO 8601 time of the change (default now); 1970 or later.")
    source: str | None = Field(None, max_length=40, description="Where the record comes from (default api).")


class ProposeBody(Body):
    prepared: WholeNumber | None = Field(None, description="Number of a prepared mitigation (see prepared).")
    title: Text = None
    kind: Text = None
    risk: Text = Field(None, description="low, medium or high.")
    reversible: bool = True
    expected_minutes: Number | None = Field(None, description="Expected time to effect.")
    changes: Text = None
    authority: Text = Field(None, description="Who must approve it.")
    steps: TextList = None
    verification: Text = Field(None, description="How to verify (e.g. a PromQL query).")


class MitigationBody(Body):
    mitigation: str = Field(description="The mitigation's id.")


class ApplyBody(MitigationBody):
    changes: Text = Field(None, description="What it actually changed.")


class OutcomeBody(MitigationBody):
    outcome: str = Field(description="effective, ineffective, worse or inconclusive.")
    note: Text = None
    before: Number | None = None
    after: Number | None = None


class RevertBody(MitigationBody):
    why: str


class MitigatedBody(Body):
    evidence: Text = None


class UpdateBody(Body):
    text: str
    audience: Text = Field(None, description="internal or public.")
    stage: Text = Field(
        None,
        description="A public update's stage: investigating, identified, monitoring or resolved "
        "(default: from the lifecycle).",
    )


class ResolveBody(Body):
    summary: str
    impact_stopped: bool = False
    risk_controlled: bool = False
    data_verified: bool = False
    force: bool = Field(False, description="Resolve although the impact probe sees indicators off baseline.")
    why: Text = Field(None, description="Why `force`: recorded on the timeline as forced_why.")
    final_update: Text = Field(
        None,
        description="The last public message, posted with the resolve; needed once the public has had updates.",
    )


class TriageBody(Body):
    """Measure now; nothing to say."""


class CheckBody(Body):
    mitigation: Text = Field(None, description="e.g. M1; default: every applied mitigation not yet judged.")


class ReopenBody(Body):
    why: str


class CloseBody(Body):
    pass


class StakeholderBody(Body):
    target: str = Field(description="A [[notify.channels]] name or an email address.")
    audience: Text = Field(
        None, description="internal (every update, the default) or public (public updates only)."
    )


class StakeholderRemoveBody(Body):
    target: str = Field(description="The channel name or email address to remove.")


class TokenBody(Body):
    name: str
    role: str = Field(description="viewer, responder, admin or ingest.")
    source: str | None = Field(
        None,
        description="An ingest token's one webhook source: alertmanager, grafana, pagerduty, generic or changes.",
    )
    owner: str | None = Field(
        None, description="The handle of the person the token belongs to (the directory's)."
    )
    kind: str = Field("service", description="personal (acts as its owner on the timeline) or service.")
