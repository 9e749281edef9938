"""Fixtures for the deploy tests: where the repository is, and the real tools that check it.

``promtool`` and ``prometheus_bin`` are Debian's (``prometheus`` package, 2.42). ``amtool`` and
``alertmanager_bin`` are Alertmanager 0.28.1, the compose image's version, built with Go into
``$BGW_TOOLS_CACHE`` (default ``~/.cache/bgw-tools``) by ``scripts/build-alertmanager.sh`` on first
use and reused afterwards. A tool that cannot be found or built fails the test that needs it, with
what to do; nothing is skipped.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_ALERTMANAGER = REPO_ROOT / "scripts" / "build-alertmanager.sh"
# A cold build downloads the modules through the Go proxy and compiles two binaries.
BUILD_TIMEOUT_SECONDS = 1800


@dataclass(frozen=True)
class AlertmanagerTools:
    amtool: Path
    alertmanager: Path


def system_tool(name: str, package: str) -> Path:
    """A binary from PATH, or a failure that names the package to install."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found: run `make system-deps` or `apt-get install -y {package}`")
    return Path(found)


def build_alertmanager_tools() -> AlertmanagerTools:
    """Run the build script (instant when cached) and read the paths it prints."""
    result = subprocess.run(
        [str(BUILD_ALERTMANAGER)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{BUILD_ALERTMANAGER.relative_to(REPO_ROOT)} failed (needs Go and its module proxy "
            f"for the first build):\n{result.stderr[-4000:]}"
        )
    paths = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line.strip())
    tools = AlertmanagerTools(
        amtool=Path(paths["AMTOOL"]), alertmanager=Path(paths["ALERTMANAGER"])
    )
    for tool in (tools.amtool, tools.alertmanager):
        assert tool.is_file(), f"the build script printed {tool}, which does not exist"
    return tools


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def promtool() -> Path:
    return system_tool("promtool", "prometheus")


@pytest.fixture(scope="session")
def prometheus_bin() -> Path:
    return system_tool("prometheus", "prometheus")


@pytest.fixture(scope="session")
def alertmanager_tools() -> AlertmanagerTools:
    return build_alertmanager_tools()


@pytest.fixture(scope="session")
def amtool(alertmanager_tools: AlertmanagerTools) -> Path:
    return alertmanager_tools.amtool


@pytest.fixture(scope="session")
def alertmanager_bin(alertmanager_tools: AlertmanagerTools) -> Path:
    return alertmanager_tools.alertmanager
