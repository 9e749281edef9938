from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.config import DEFAULT_DATABASE_URL, Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "BGW_ENV", "BGW_TIMEZONE", "TZ"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_are_the_embedded_setup() -> None:
    settings = Settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.is_sqlite
    assert settings.redis_url is None
    assert settings.env == "development"
    assert settings.timezone == "Europe/Moscow"


def test_environment_names_from_the_docs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bgw:pw@db:5432/bgw")
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    monkeypatch.setenv("BGW_ENV", "production")
    monkeypatch.setenv("TZ", ":Asia/Yekaterinburg")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://bgw:pw@db:5432/bgw"
    assert not settings.is_sqlite
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.env == "production"
    assert settings.timezone == "Asia/Yekaterinburg"


def test_bgw_timezone_wins_over_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("BGW_TIMEZONE", "Europe/Kaliningrad")
    assert Settings().timezone == "Europe/Kaliningrad"


def test_blank_redis_url_means_no_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "")
    assert Settings().redis_url is None


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("BGW_ENV", "staging", "env"),
        ("BGW_TIMEZONE", "Moscow", "timezone"),
        ("DATABASE_URL", "bgw.db", "database_url"),
    ],
)
def test_bad_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, field: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert caught.value.errors()[0]["loc"][0] in (field, name)
