"""The postmortem in the browser: read it, draft it, edit it section by section with the
blameless lint shown as you type, publish it, amend it.

A draft shows one form per section people write (``domain.learning.postmortem.EDITABLE``);
each form posts to ``/incidents/{ref}/postmortem-edit`` (``web.forms.ACTIONS``) and the
page comes back at that section with the stored postmortem's findings beside it, so the
lint works without JavaScript. With JavaScript, ``static/postmortem.js`` posts the text
being typed to ``/postmortem/lint`` (debounced) and shows the findings it answers: HTML
rendered here from the same partial. Published, the page is read-only but for "amend".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from warroom.domain.incidents.refs import parse_ref
from warroom.domain.learning.markdown import HUMAN_TITLES
from warroom.domain.learning.postmortem import FACTOR_TYPES, TEXT_LIMIT, TEXT_SECTIONS
from warroom.domain.shared.errors import DomainError, NotFound, ValidationError
from warroom.services import operations as ops
from warroom.services.incidents.commands import incident_version
from warroom.services.learning import operations as lops
from warroom.web import flash, session
from warroom.web.first_screen import earliest_alert
from warroom.web.session import CSRF_FIELD, User
from warroom.web.templating import SECURITY_HEADERS, render

MAX_LINT_BODY = 64 * 1024  # bytes of a lint request: a section's limit, escaped, with room
# (section, title, what to write): the order of the printed postmortem
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("summary", "Summary", "What happened, to whom, and how it ended, in a few sentences."),
    ("impact_notes", "Impact notes", "What the numbers above do not say (optional)."),
    ("trigger", "Trigger", "The change or condition that set it off."),
    (
        "contributing_factors",
        "Contributing factors",
        f"One a line, as TYPE: text, with TYPE one of {', '.join(FACTOR_TYPES)}.",
    ),
    ("root_cause_chain", "Root-cause chain", "One step a line, from the trigger down."),
    *((name, title, "One item a line.") for name, title in HUMAN_TITLES),
)


def user_of(request: Request) -> User | None:
    return session.user_of(session.app_of(request), session.load(request))


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def page(template: str, user: User, *, status: int = 200, **context: Any) -> HTMLResponse:
    values = {"user": user, "csrf": "", "error": None, "values": {}, "failed": None} | context
    return HTMLResponse(render(template, **values), status_code=status, headers=SECURITY_HEADERS)


def problem(user: User, exc: DomainError) -> HTMLResponse:
    status = 404 if isinstance(exc, NotFound) or getattr(exc, "field", None) == "incident" else 422
    if not isinstance(exc, ValidationError | NotFound):
        status = 409
    return page("error.html", user, status=status, message=exc.message, status_code=status)


def editor_text(doc: Mapping[str, Any], name: str) -> str:
    """A section as its textarea holds it: lines for lists, ``TYPE: text`` for factors."""
    value = doc.get(name)
    if name in TEXT_SECTIONS:
        return str(value or "")
    if name == "contributing_factors":
        return "\n".join(f"{f['type']}: {f['text']}" for f in value or [])
    return "\n".join(str(item) for item in value or [])


def _typed(values: Mapping[str, Any], name: str) -> str | None:
    """What was typed in a refused section form (lists arrive split into lines)."""
    typed = values.get("postmortem-edit", {})
    if not isinstance(typed, Mapping) or name not in typed:
        return None
    value = typed[name]
    return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)


def placed(finding: Mapping[str, Any]) -> dict[str, Any]:
    """The finding with ``where`` in the editor's words: ``line 2`` of a list section (its
    items are lines), ``line 1, column 7`` of a text."""
    head = str(finding["location"]).partition(" ")[0]
    _, bracket, index = head.partition("[")
    if bracket and index.rstrip("]").isdecimal():
        where = f"line {int(index.rstrip(']')) + 1}"
    else:
        where = f"line {finding['line']}, column {finding['column']}"
    return dict(finding) | {"where": where}


def findings_by_section(findings: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """``went_well[1] 1:7`` belongs to ``went_well``."""
    found: dict[str, list[Mapping[str, Any]]] = {}
    for item in findings:
        section = str(item["location"]).split(" ", 1)[0].split("[", 1)[0]
        found.setdefault(section, []).append(placed(item))
    return found


def _editors(view: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each section's form: what it holds (or what was typed, when refused), its findings."""
    by_section = findings_by_section(view["findings"])
    editors = {}
    for name, title, hint in SECTIONS:
        typed = _typed(values, name)
        editors[name] = {
            "name": name,
            "title": title,
            "hint": hint,
            "text": editor_text(view["document"], name) if typed is None else typed,
            "findings": by_section.get(name, []),
            "rows": 4 if name in TEXT_SECTIONS else 5,
            "text_section": name in TEXT_SECTIONS,
        }
    return editors


def postmortem_response(
    request: Request,
    user: User,
    ref: str,
    *,
    shown: flash.Flash | None = None,
    status: int = 200,
) -> HTMLResponse:
    ctx = session.app_of(request).context
    found = session.load(request)
    context: dict[str, Any] = {
        "csrf": found.csrf if found else "",
        "human_titles": HUMAN_TITLES,
        "editors": {},
        "text_limit": TEXT_LIMIT,
        "derived_start": None,
    }
    if shown is not None:
        context |= {"error": shown.error, "failed": shown.failed, "values": shown.values}
    try:
        view = lops.postmortem_show(ctx, ref, {"format": "json"})
        context |= {"pm": view, "doc": view["document"], "incident_id": view["incident"]}
        if view["document"]["key_times"].get("impact_started") is None:  # an attached alert may know
            context["derived_start"] = earliest_alert(ops.show(ctx, ref)["alerts"].values())
        if user.can_write and view["status"] != "published":
            context["editors"] = _editors(view, shown.values if shown else {})
    except NotFound as exc:  # none drafted yet: offer to draft it
        if incident_version(ctx, ref) is None:
            return problem(user, exc)
        context |= {"pm": None, "doc": None, "incident_id": f"INC-{parse_ref(ref)}", "missing": exc.message}
    except DomainError as exc:
        return problem(user, exc)
    return page("postmortem.html", user, status=status, **context)


def postmortem_page(request: Request, ref: str) -> Response:
    user = user_of(request)
    if user is None:
        return to_login(request)
    shown = flash.take(request)  # a refused postmortem or follow-up form (post/redirect/get)
    response = postmortem_response(request, user, ref, shown=shown)
    if shown is not None:
        flash.clear(response)
    return response


def postmortem_in_place(
    request: Request, ref: str, message: str, *, failed: str, values: dict[str, Any]
) -> HTMLResponse:
    """A refused postmortem form whose text is too long for the flash cookie: the editor
    answers on the POST URL with what was typed, rather than lose it."""
    user = user_of(request)
    assert user is not None  # the form post was let through for a logged-in writer
    shown = flash.Flash(request.url.path, message, failed, values)
    return postmortem_response(request, user, ref, shown=shown, status=422)


def postmortem_markdown(request: Request, ref: str) -> Response:
    user = user_of(request)
    if user is None:
        return to_login(request)
    try:
        view = lops.postmortem_show(session.app_of(request).context, ref, {"format": "md"})
    except DomainError as exc:
        return problem(user, exc)
    name = f"postmortem-{view['incident']}.md"
    return Response(
        view["markdown"],
        media_type="text/markdown; charset=utf-8",
        headers=SECURITY_HEADERS | {"Content-Disposition": f'inline; filename="{name}"'},
    )


def _lint_answer(findings: list[Any], *, status: int = 200, message: str | None = None) -> HTMLResponse:
    html = render("_lint.html", findings=findings, checked=True, message=message)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


async def lint_section(request: Request) -> Response:
    """``POST /postmortem/lint`` (``section``, ``text``, the CSRF token): the findings for
    the text being typed, as an HTML fragment. Writers only; nothing is stored."""
    size = request.headers.get("content-length", "")
    if not size.isdecimal() or int(size) > MAX_LINT_BODY:
        return _lint_answer([], status=413, message="Too long to check as you type: save it to check it.")
    form = await request.form(max_files=0, max_fields=4)
    found = session.load(request)
    user = session.user_of(session.app_of(request), found)
    if user is None or found is None:
        return _lint_answer([], status=401, message="Log in again to check the wording.")
    if not session.csrf_ok(found, form.get(CSRF_FIELD)) or not user.can_write:
        return _lint_answer([], status=403, message="This page expired: reload it to check the wording.")
    body = {key: value for key, value in form.items() if isinstance(value, str)}
    try:
        answer = await run_in_threadpool(lops.lint_section, body)
    except ValidationError as exc:
        return _lint_answer([], status=422, message=exc.message)
    return _lint_answer([placed(item) for item in answer["findings"]])
