"""Manifest files from the command line: clear errors with file and line; built-in sources."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from service.agents.manifests import BUILTIN, ManifestFileError, line_of, parse_manifest_file
from service.schemas.agents import AgentManifest

BGW = str(Path(sys.executable).with_name("bgw"))

MANIFEST = """[
  {
    "id": "shop-one",
    "name": "One",
    "type": "html",
    "store_id": "hobbygames",
    "schedule": {"interval_seconds": 600},
    "config": {
      "start_urls": ["https://example.ru/"],
      "selectors": {"item": ".card"}
    }
  }
]
"""


def test_line_of_finds_values_and_keys() -> None:
    assert line_of(MANIFEST, (0, "store_id")) == 6
    assert line_of(MANIFEST, (0, "config", "selectors", "item")) == 10
    assert line_of(MANIFEST, (0, "rate_limit")) == 2  # missing key: the object that lacks it


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ('"item"', '"itme"', 10, "[0].config.selectors.itme: Extra inputs are not permitted"),
        ('"html"', '"rss"', 5, "[0].type: Input should be"),
        (
            "600",
            "5",
            7,
            "[0].schedule.interval_seconds: Input should be greater than or equal to 10",
        ),
        ('"id": "shop-one",', '"id": "shop-one"', 4, "not valid JSON"),
    ],
)
def test_errors_name_the_line(old: str, new: str, line: int, message: str) -> None:
    with pytest.raises(ManifestFileError) as caught:
        parse_manifest_file(MANIFEST.replace(old, new))
    assert caught.value.line == line
    assert message in caught.value.message


def test_a_single_manifest_is_accepted() -> None:
    single = json.dumps(json.loads(MANIFEST)[0], indent=2)
    (manifest,) = parse_manifest_file(single)
    assert manifest.id == "shop-one"


def _bgw(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    return subprocess.run(
        [BGW, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_import_and_builtin_sources(tmp_path: Path) -> None:
    installed = _bgw(tmp_path, "agents", "install-builtin")
    assert installed.returncode == 0, installed.stderr
    assert "hobbygames-coming-soon" in installed.stdout
    again = _bgw(tmp_path, "agents", "install-builtin")
    assert "agents added (disabled): -" in again.stdout

    (tmp_path / "typo.json").write_text(MANIFEST.replace('"item"', '"itme"'), encoding="utf-8")
    typo = _bgw(tmp_path, "agents", "import", "typo.json")
    assert typo.returncode == 2
    assert "typo.json:10: [0].config.selectors.itme" in typo.stderr
    assert "Traceback" not in typo.stderr

    (tmp_path / "orphan.json").write_text(MANIFEST.replace('"hobbygames"', '"nowhere"'), "utf-8")
    orphan = _bgw(tmp_path, "agents", "import", "orphan.json")
    assert orphan.returncode == 2
    assert "orphan.json:6: [0].store_id: unknown store 'nowhere'" in orphan.stderr

    (tmp_path / "good.json").write_text(MANIFEST, encoding="utf-8")
    assert "created: shop-one" in _bgw(tmp_path, "agents", "import", "good.json").stdout
    assert "updated: shop-one" in _bgw(tmp_path, "agents", "import", "good.json").stdout
    missing = _bgw(tmp_path, "agents", "import", "nope.json")
    assert missing.returncode == 2
    assert "nope.json" in missing.stderr


def test_builtin_sources_are_valid_and_disabled() -> None:
    document = json.loads(BUILTIN.read_text(encoding="utf-8"))
    agents = [AgentManifest.model_validate(a) for a in document["agents"]]
    stores = {s["id"] for s in document["stores"]}
    assert {a.store_id for a in agents} == stores
    assert not any(a.enabled for a in agents)
    assert {
        "hobbygames",
        "lavkaigr",
        "nastol-io",
        "evrikus",
        "crowdgames",
        "gaga",
        "zvezda",
        "choochoogames",
    } == stores
