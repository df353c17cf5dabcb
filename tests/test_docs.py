"""Docs are tested: every command has help with an example; every setting is documented.

``docs/config.md`` is generated from ``faqtual.config.SETTINGS`` and ``docs/cli.md``
from the commands' ``--help``; after changing either, regenerate them with
``python tests/test_docs.py``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click
import pytest

from faqtual.cli import cli
from faqtual.config import SETTINGS, Setting

ROOT = Path(__file__).resolve().parents[1]
CONFIG_MD = ROOT / "docs" / "config.md"
CLI_MD = ROOT / "docs" / "cli.md"
REGENERATE = "python tests/test_docs.py"


def _default(setting: Setting) -> str:
    value = setting.default
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def render_config_md() -> str:
    """The content docs/config.md must have."""
    lines = [
        "# Configuration",
        "",
        f"<!-- Generated from SETTINGS in faqtual/config.py by `{REGENERATE}`; do not edit by hand. -->",
        "",
        "Settings load in this order, later ones winning: the defaults below < `faqtual.toml` (in the",
        "current folder, or the file named by `FAQTUAL_CONFIG`) < `FAQTUAL_*` environment variables <",
        "command-line flags. In `faqtual.toml` use the setting's name as the key, e.g. `top = 5`.",
        "",
        "| Setting | Environment variable | Type | Default | Meaning |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        help_text = s.help.replace("|", "\\|")
        lines.append(f"| `{s.name}` | `FAQTUAL_{s.name.upper()}` | {s.type.__name__} | `{_default(s)}` | {help_text} |")
    return "\n".join(lines) + "\n"


def render_cli_md() -> str:
    """The content docs/cli.md must have: every command's --help, as the terminal shows it."""
    from click.testing import CliRunner

    parts = [
        "# Command-line reference",
        "",
        f"<!-- Generated from the commands' --help by `{REGENERATE}`; do not edit by hand. -->",
    ]
    for name, _ in _commands():
        args = name.split()[1:]
        output = CliRunner().invoke(cli, [*args, "--help"], prog_name="faqtual", terminal_width=100).output
        parts += ["", f"## `{name}`", "", "```text", output.rstrip(), "```"]
    return "\n".join(parts) + "\n"


def _commands() -> list[tuple[str, click.Command]]:
    assert isinstance(cli, click.Group)
    return [("faqtual", cli), *((f"faqtual {name}", cmd) for name, cmd in sorted(cli.commands.items()))]


@pytest.mark.parametrize(("name", "command"), _commands(), ids=[n for n, _ in _commands()])
def test_every_command_has_help_with_an_example(name: str, command: click.Command) -> None:
    assert command.help, f"{name} has no help text"
    example = re.search(r"^\s*Example: (.*\bfaqtual .+)$", command.help, re.MULTILINE)
    assert example, f"{name}'s help has no 'Example: ... faqtual ...' line"
    if name != "faqtual":
        assert f"{name} " in f"{example.group(1)} ", f"{name}'s example runs another command: {example.group(1)}"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{name} option {param.opts[0]} has no help"


def test_help_output_shows_the_example() -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["ask", "--help"])
    assert result.exit_code == 0
    assert "Example: faqtual ask" in result.output


def test_docs_config_md_is_generated_from_settings() -> None:
    assert CONFIG_MD.is_file(), f"{CONFIG_MD} is missing; run '{REGENERATE}'"
    assert CONFIG_MD.read_text(encoding="utf-8") == render_config_md(), (
        f"docs/config.md is out of date with faqtual/config.py; run '{REGENERATE}'"
    )


def test_docs_cli_md_is_generated_from_help() -> None:
    assert CLI_MD.is_file(), f"{CLI_MD} is missing; run '{REGENERATE}'"
    assert CLI_MD.read_text(encoding="utf-8") == render_cli_md(), (
        f"docs/cli.md is out of date with the commands' --help; run '{REGENERATE}'"
    )


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.name for s in SETTINGS])
def test_every_setting_is_documented(setting: Setting) -> None:
    docs = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "README.md", CONFIG_MD) if p.is_file())
    assert f"`{setting.name}`" in docs
    assert f"FAQTUAL_{setting.name.upper()}" in docs


if __name__ == "__main__":
    CONFIG_MD.parent.mkdir(exist_ok=True)
    CONFIG_MD.write_text(render_config_md(), encoding="utf-8")
    CLI_MD.write_text(render_cli_md(), encoding="utf-8")
    print(f"wrote {CONFIG_MD.relative_to(ROOT)} and {CLI_MD.relative_to(ROOT)}", file=sys.stderr)
