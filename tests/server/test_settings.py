from __future__ import annotations

import pytest

from server.settings import Environment, Settings, SettingsError, redact_url


def test_production_is_the_default_when_env_is_unset() -> None:
    assert Settings.from_env({}).env is Environment.PROD


def test_default_database_is_a_sqlite_file_under_the_data_folder() -> None:
    settings = Settings.from_env({"LEADVAULT_DATA_DIR": "/srv/lv"})
    assert settings.database_url.reveal() == "sqlite:///srv/lv/leadvault.sqlite3"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LEADVAULT_PORT", "eighty"),
        ("LEADVAULT_PORT", "70000"),
        ("LEADVAULT_ENV", "staging"),
        ("LEADVAULT_DATABASE_URL", "mysql://db/x"),
        ("LEADVAULT_CORS_ORIGINS", "not a url"),
        ("LEADVAULT_LOG_LEVEL", "LOUD"),
        ("LEADVAULT_MAX_PAGE_SIZE", "-5"),
    ],
)
def test_an_invalid_setting_stops_start_up_naming_the_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({name: value})
    assert str(raised.value).startswith(f"{name}:")
    assert value not in str(raised.value)


def test_database_password_never_prints() -> None:
    url = "postgres://app:hunter2-secret@db.internal:5432/leadvault"
    settings = Settings.from_env({"LEADVAULT_DATABASE_URL": url})

    printed = " ".join([repr(settings), str(settings.describe()), settings.database_label])

    assert "hunter2-secret" not in printed
    assert settings.database_url.reveal() == url


def test_redacted_url_keeps_user_host_and_database() -> None:
    assert redact_url("postgres://app:pw@db:5432/lv") == "postgres://app:**********@db:5432/lv"
    assert redact_url("sqlite://data/x.sqlite3") == "sqlite://data/x.sqlite3"


def test_cors_origins_are_parsed_as_a_list() -> None:
    settings = Settings.from_env(
        {"LEADVAULT_CORS_ORIGINS": "https://app.example.com, http://localhost:5173/"}
    )
    assert settings.cors_origins == ("https://app.example.com", "http://localhost:5173")
