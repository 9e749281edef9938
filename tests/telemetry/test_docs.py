"""The developer guide's catalog table says what the code declares."""

from __future__ import annotations

from pathlib import Path

from telemetry.instruments import CATALOG

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "telemetry.md"


def _table_rows() -> list[list[str]]:
    text = GUIDE.read_text(encoding="utf-8")
    table = text.split("<!-- catalog:start -->")[1].split("<!-- catalog:end -->")[0]
    rows = [line.strip().strip("|").split("|") for line in table.strip().splitlines()[2:]]
    return [[cell.strip() for cell in row] for row in rows]


def test_catalog_table_matches_the_code() -> None:
    documented = {
        row[0].strip("`"): (
            row[1],
            tuple(label.strip() for label in row[2].split(",")) if row[2] != "–" else (),
            row[3].strip("`"),
        )
        for row in _table_rows()
    }
    declared = {i.name: (i.kind.value, i.labels, i.unit) for i in CATALOG}
    assert documented == declared
