"""Every CLI command has help text and a section in docs/cli.md."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from aggregator.cli import cli

DOCS = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")


def commands() -> list[str]:
    return sorted(cli.commands)


@pytest.mark.parametrize("name", commands())
def test_command_has_help(name: str) -> None:
    command = cli.commands[name]
    assert command.help and len(command.help.strip()) > 20


@pytest.mark.parametrize("name", commands())
def test_command_has_a_docs_section(name: str) -> None:
    assert f"\n## aggregator {name}" in DOCS


@pytest.mark.parametrize("name", commands())
def test_every_option_has_help(name: str) -> None:
    for param in cli.commands[name].params:
        if isinstance(param, click.Option):
            assert param.help, f"{name} {param.opts} has no help"
