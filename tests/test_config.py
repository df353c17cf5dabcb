"""Settings: defaults < faqtual.toml < FAQTUAL_* env < CLI flags; bad values name themselves."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from faqtual import config
from faqtual.cli import cli
from faqtual.config import SETTINGS, Settings, load
from faqtual.errors import ConfigError


def test_settings_and_dataclass_agree() -> None:
    declared = {s.name: s for s in SETTINGS}
    assert [s.name for s in SETTINGS] == [f.name for f in fields(Settings)]
    for f in fields(Settings):
        assert f.default == declared[f.name].default, f.name
        assert isinstance(f.default, declared[f.name].type), f.name
        assert declared[f.name].help.strip(), f.name


def test_defaults(tmp_path: Path) -> None:
    assert load(environ={}, config_file=tmp_path / "none.toml") == Settings()


def test_toml_then_env(tmp_path: Path) -> None:
    path = tmp_path / "faqtual.toml"
    path.write_text('top = 7\nthreshold = 0.4\nkb = "from-toml.sqlite"\n', encoding="utf-8")
    settings = load(environ={"FAQTUAL_TOP": "2"}, config_file=path)
    assert (settings.top, settings.threshold, settings.kb) == (2, 0.4, "from-toml.sqlite")


def test_faqtual_config_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text("max_question_chars = 50\n", encoding="utf-8")
    assert load(environ={"FAQTUAL_CONFIG": str(path)}).max_question_chars == 50


def test_faqtual_toml_in_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "faqtual.toml").write_text("threads = 2\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load(environ={}).threads == 2


def test_bad_env_value_names_variable_and_value() -> None:
    with pytest.raises(ConfigError, match=r"FAQTUAL_TOP has value 'three': not a valid int"):
        load(environ={"FAQTUAL_TOP": "three"})


def test_unknown_toml_key_lists_valid_ones(tmp_path: Path) -> None:
    path = tmp_path / "faqtual.toml"
    path.write_text("tops = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown setting 'tops'\. Valid: kb, top, threshold"):
        load(environ={}, config_file=path)


def test_bad_toml(tmp_path: Path) -> None:
    path = tmp_path / "faqtual.toml"
    path.write_text("top = = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(environ={}, config_file=path)
    path.write_text('top = "many"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=f"'top' from {path} has value 'many'"):
        load(environ={}, config_file=path)


def test_bool_settings_accept_the_usual_words() -> None:
    flags = [s for s in SETTINGS if s.type is bool]
    if not flags:
        pytest.skip("no boolean setting is declared")
    var = f"FAQTUAL_{flags[0].name.upper()}"
    assert getattr(load(environ={var: "yes"}), flags[0].name) is True
    assert getattr(load(environ={var: "0"}), flags[0].name) is False


def test_with_overrides_ignores_none() -> None:
    assert Settings().with_overrides(top=5, threshold=None) == Settings(top=5)


def test_cache_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert Settings(cache_dir=str(tmp_path)).cache_path() == tmp_path
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert Settings().cache_path() == tmp_path / "xdg" / "faqtual"


def test_cli_flag_beats_env(seed_kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAQTUAL_TOP", "5")
    monkeypatch.setenv("FAQTUAL_KB", str(seed_kb))
    runner = CliRunner()
    from_env = json.loads(runner.invoke(cli, ["ask", "what is synkinesis", "--json"]).stdout)
    assert len(from_env["answers"]) == 5
    assert from_env["kb"] != "synkinesis", "FAQTUAL_KB picks the seed KB, not the packaged one"
    from_flag = json.loads(runner.invoke(cli, ["ask", "what is synkinesis", "--json", "--top", "2"]).stdout)
    assert len(from_flag["answers"]) == 2


def test_bad_env_fails_the_cli_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAQTUAL_THRESHOLD", "high")
    with pytest.raises(ConfigError, match="FAQTUAL_THRESHOLD"):
        config.load()
