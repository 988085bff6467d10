"""catalog.yaml is validated wholly on load, matchers included: one error naming the file,
the line and the field, from every entry point, instead of a 503 storm at ingest."""

from __future__ import annotations

from pathlib import Path

import pytest

from warroom.integrations.catalog_file import CatalogError, read_catalog

CATALOG = """\
teams:
  - name: payments
services:
  - name: checkout
    team: payments
    matchers:
      - 'service="checkout"'
      - {matcher}
"""


def _write(folder: Path, matcher: str) -> Path:
    path = folder / "catalog.yaml"
    path.write_text(CATALOG.format(matcher=matcher))
    return path


@pytest.mark.parametrize(
    "matcher",
    ["'job=~\"(checkout\"'", "'job=~\"[a-\"'", "'=\"x\"'", "'job\"checkout\"'", "'job=~\"*x\"'"],
)
def test_a_matcher_the_router_cannot_read_stops_the_load_naming_file_line_and_field(
    tmp_path: Path, matcher: str
) -> None:
    with pytest.raises(CatalogError) as refused:
        read_catalog(_write(tmp_path, matcher))
    assert str(refused.value).startswith("catalog.yaml:8: services[0].matchers[1]: "), str(refused.value)
    assert "\n" not in str(refused.value)


def test_other_fields_name_their_line_too(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG.format(matcher="'job=\"x\"'") + "    tier: nine\n")
    with pytest.raises(CatalogError, match=r"^catalog\.yaml:9: services\[0\]\.tier: "):
        read_catalog(path)


def test_good_matchers_load(tmp_path: Path) -> None:
    catalog = read_catalog(_write(tmp_path, "'job=~\"checkout.*\"'"))
    assert catalog.services[0].matchers == ('service="checkout"', 'job=~"checkout.*"')
