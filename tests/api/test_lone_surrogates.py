"""A lone UTF-16 surrogate (valid JSON, not valid Unicode) in any text field of any JSON body
is refused with a 4xx problem naming the field, never a 500 from hashing the event."""

from __future__ import annotations

import json
from typing import Any

from tests.api.conftest import Api

LONE = '"a \\ud800 b"'  # the JSON text of a string holding U+D800 alone


def _string_fields(schema: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    ref = schema.get("$ref")
    if ref:
        schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    names = []
    for name, prop in (schema.get("properties") or {}).items():
        options = prop.get("anyOf", [prop])
        if any(o.get("type") == "string" for o in options):
            names.append(name)
    return names


def test_every_text_field_of_every_json_body_refuses_a_lone_surrogate(sqlite_api: Api) -> None:
    api = sqlite_api
    api.declare()
    spec = api.client.get("/openapi.json").json()
    tried = 0
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if method != "post" or schema is None:
                continue
            url = (
                path.replace("{ref}", "INC-1")
                .replace("{source}", "checkout")
                .replace("{service}", "checkout")
            )
            for field in _string_fields(schema, spec):
                body = f'{{"{field}": {LONE}}}'
                answer = api.client.post(
                    url, content=body, headers=api.auth("root") | {"Content-Type": "application/json"}
                )
                assert 400 <= answer.status_code < 500, (path, field, answer.status_code, answer.text)
                assert answer.headers["content-type"] == "application/problem+json", (path, field)
                problem = json.loads(answer.text)
                assert "Traceback" not in answer.text
                if answer.status_code == 422 and "surrogate" in answer.text:
                    assert field in json.dumps(problem), (path, field, problem)
                tried += 1
    assert tried >= 40  # the whole class, not one example
    assert api.get("/api/v1/incidents/INC-1").status_code == 200
