"""Where CLI commands go: the local database (embedded) or a warroom server (remote).

Both backends take the same operation names and plain arguments and return the same
JSON views, so ``--json`` prints the same document in either mode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

# Operation name -> (needs an incident id, takes an actor). The names are the contract
# between the CLI and both backends; the remote backend maps each to one REST call.
OPERATIONS: dict[str, tuple[bool, bool]] = {
    "declare": (False, True),
    "list": (False, False),
    "show": (True, False),
    "timeline": (True, False),
    "assess": (True, True),
    "severity": (True, True),
    "role_assign": (True, True),
    "role_handoff": (True, True),
    "fact": (True, True),
    "guess": (True, True),
    "confirm": (True, True),
    "refute": (True, True),
    "decide": (True, True),
    "note": (True, True),
    "change_add": (False, True),
    "changes": (True, False),
    "propose": (True, True),
    "approve": (True, True),
    "apply": (True, True),
    "outcome": (True, True),
    "revert": (True, True),
    "prepared": (True, False),
    "mitigated": (True, True),
    "update": (True, True),
    "update_template": (True, False),
    "resolve": (True, True),
    "reopen": (True, True),
    "close": (True, True),
    "verify": (False, False),
    # learning (services.learning_ops.EMBEDDED)
    "postmortem_draft": (True, True),
    "postmortem_edit": (True, True),
    "postmortem_show": (True, False),
    "postmortem_lint": (True, False),
    "postmortem_publish": (True, True),
    "postmortem_amend": (True, True),
    "followup_add": (True, True),
    "followup_done": (True, True),
    "followup_wontdo": (True, True),
    "followup_list": (False, False),
    "report": (False, False),
    "readiness": (False, False),
    "import": (False, True),
    # the impact probe (services.triage)
    "triage": (True, True),
    "triage_show": (True, False),
    "mitigation_check": (True, True),
    # the X-ray (services.xray)
    "xray": (True, False),
    "xray_pin": (True, True),
    # comms
    "stakeholders": (True, False),
    "stakeholder_add": (True, True),
    "stakeholder_remove": (True, True),
    # the outbox (services.comms.operations.EMBEDDED)
    "outbox_list": (False, False),
    "outbox_retry": (False, True),
    # the status page's subscribers (also services.comms.operations.EMBEDDED)
    "subscriber_list": (False, False),
    "subscriber_remove": (False, True),
    # the status page (services.comms.statuspage_ops.EMBEDDED); the id is a service or MNT-n
    "status_components": (False, False),
    "status_component_set": (True, True),
    "status_maintenance": (False, False),
    "status_maintenance_add": (False, True),
    "status_maintenance_cancel": (True, True),
}


LEARNING = frozenset(name for name in OPERATIONS if name.startswith(("postmortem_", "followup_"))) | {
    "report",
    "readiness",
    "import",
}


OUTBOX = frozenset({"outbox_list", "outbox_retry", "subscriber_list", "subscriber_remove"})
STATUS = frozenset(name for name in OPERATIONS if name.startswith("status_"))


class Backend(Protocol):
    def call(self, op: str, ref: str | None = None, body: Mapping[str, Any] | None = None) -> Any:
        """Run operation ``op`` on incident ``ref`` with ``body``; returns its JSON view.

        Raises ``warroom.domain.shared.errors.DomainError`` subclasses for refusals (remote mode
        maps HTTP problem documents back onto them).
        """
        ...


class EmbeddedBackend:
    """Runs operations in this process against the local database."""

    def __init__(self, build_context: Callable[[], Any], actor: str) -> None:
        self._build = build_context
        self._actor = actor
        self._context: Any = None

    def call(self, op: str, ref: str | None = None, body: Mapping[str, Any] | None = None) -> Any:
        if op in LEARNING:  # before importing operations: `warroom report` starts faster
            from warroom.services.learning.operations import EMBEDDED

            if self._context is None:
                self._context = self._build()
            return EMBEDDED[op](self._context, self._actor, ref, dict(body or {}))
        if op in OUTBOX:
            from warroom.services.comms.operations import EMBEDDED as OUTBOX_OPS

            if self._context is None:
                self._context = self._build()
            return OUTBOX_OPS[op](self._context, self._actor, dict(body or {}))
        if op in STATUS:
            from warroom.services.comms.statuspage_ops import EMBEDDED as STATUS_OPS

            if self._context is None:
                self._context = self._build()
            return STATUS_OPS[op](self._context, self._actor, ref, dict(body or {}))
        from warroom.services import operations as ops

        if self._context is None:
            self._context = self._build()
        ctx = self._context
        body = dict(body or {})
        if op == "list":
            return ops.list_incidents(ctx, body)
        if op == "show":
            return ops.show(ctx, _ref(ref))
        if op == "timeline":
            return ops.timeline(
                ctx,
                _ref(ref),
                after=int(body.get("after", 0)),
                limit=int(body.get("limit", 100)),
                newest_first=bool(body.get("newest_first", False)),
            )
        if op == "changes":
            return ops.changes(ctx, _ref(ref))
        if op == "prepared":
            return ops.prepared_list(ctx, _ref(ref))
        if op == "update_template":
            return ops.update_template(ctx, _ref(ref))
        if op == "verify":
            return ops.verify(ctx, ref)
        if op == "xray":
            return ops.xray(ctx, _ref(ref))
        if op == "triage_show":
            return ops.triage_show(ctx, _ref(ref))
        if op == "stakeholders":
            return ops.stakeholders(ctx, _ref(ref))
        if op == "declare":
            return ops.declare(ctx, self._actor, body)
        if op == "change_add":
            return ops.add_change(ctx, self._actor, body | {"source": "cli"})
        handler = _writes().get(op)
        if handler is None:
            raise ValueError(f"unknown operation {op!r}")
        return handler(ctx, self._actor, _ref(ref), body)


def _ref(ref: str | None) -> str:
    assert ref is not None, "operation needs an incident id"
    return ref


def _writes() -> dict[str, Any]:
    from warroom.services import operations as ops

    return {
        "assess": ops.assess,
        "severity": ops.set_severity,
        "role_assign": ops.assign_role,
        "role_handoff": ops.hand_off_role,
        "fact": ops.fact,
        "guess": ops.guess,
        "confirm": ops.confirm,
        "refute": ops.refute,
        "decide": ops.decide,
        "note": ops.note,
        "propose": ops.propose,
        "approve": ops.approve,
        "apply": ops.apply,
        "outcome": ops.outcome,
        "revert": ops.revert,
        "mitigated": ops.mitigated,
        "update": ops.update,
        "resolve": ops.resolve,
        "reopen": ops.reopen,
        "close": ops.close,
        "triage": ops.triage,
        "mitigation_check": ops.mitigation_check,
        "xray_pin": ops.xray_pin,
        "stakeholder_add": ops.stakeholder_add,
        "stakeholder_remove": ops.stakeholder_remove,
    }
