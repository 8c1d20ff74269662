"""Engine configuration: defaults, server settings, and refusals of bad values."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genostream.config import EngineSettings


def test_defaults_are_embedded_in_the_users_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    settings = EngineSettings.from_env({})
    assert settings.embedded
    assert settings.chdb_path == str(tmp_path / "data" / "genostream" / "chdb")
    assert EngineSettings().chdb_path == settings.chdb_path
    assert os.path.isabs(settings.chdb_path)  # the same store whatever directory a command runs from


def test_server_settings_from_environment() -> None:
    settings = EngineSettings.from_env(
        {
            "GENOSTREAM_TARGET": "server",
            "CLICKHOUSE_HOST": "ch.example",
            "CLICKHOUSE_USER": "u",
            "CLICKHOUSE_PASSWORD": "p",
            "CLICKHOUSE_SECURE": "true",
        }
    )
    assert not settings.embedded
    assert (settings.host, settings.port, settings.user, settings.password) == ("ch.example", 8443, "u", "p")
    assert settings.location == "https://ch.example:8443"


@pytest.mark.parametrize(
    ("environ", "field"),
    [
        ({"GENOSTREAM_TARGET": "cloud"}, "GENOSTREAM_TARGET"),
        ({"CLICKHOUSE_PORT": "http"}, "CLICKHOUSE_PORT"),
    ],
)
def test_bad_values_name_the_variable(environ: dict[str, str], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        EngineSettings.from_env(environ)


def test_dotenv_file_fills_unset_variables(tmp_path, monkeypatch) -> None:
    (tmp_path / ".env").write_text("GENOSTREAM_CHDB_PATH=/somewhere/else\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GENOSTREAM_CHDB_PATH", raising=False)
    assert EngineSettings.from_env().chdb_path == "/somewhere/else"


def test_cluster_target_names_its_cluster_and_starts_sessions_with_the_cluster_settings() -> None:
    from genostream.cluster import QUERY_SETTINGS, session_settings

    settings = EngineSettings.from_env({"GENOSTREAM_TARGET": "cluster", "GENOSTREAM_CLUSTER": "lab"})
    assert settings.clustered and not settings.embedded
    assert settings.cluster == "lab"
    assert session_settings(settings) == QUERY_SETTINGS
    assert EngineSettings.from_env({"GENOSTREAM_TARGET": "cluster"}).cluster == "genostream"
    for single in ({}, {"GENOSTREAM_TARGET": "server"}):
        assert session_settings(EngineSettings.from_env(single)) == {}
