"""Every option says what it does, and a name that is nearly right gets the right one."""

from __future__ import annotations

import argparse

import pytest

import adamtune
from adamtune import strategies
from adamtune.cli import build_parser, main


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def _undocumented(parser: argparse.ArgumentParser) -> list[str]:
    """The options and positionals of ``parser`` without help (hidden aliases aside)."""
    missing = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS:
            continue
        if not (action.help or "").strip():
            missing.append("/".join(action.option_strings) or action.dest)
    return missing


def test_every_command_is_listed_with_help() -> None:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    helps = {choice.dest: choice.help for choice in action._choices_actions}
    assert set(helps) == set(action.choices)
    assert all((h or "").strip() for h in helps.values()), helps
    assert {"search", "worker", "status", "studies", "export", "report", "spaces"} <= set(helps)


@pytest.mark.parametrize("command", sorted(_subparsers(build_parser())))
def test_every_option_and_positional_has_help(command: str) -> None:
    assert _undocumented(_subparsers(build_parser())[command]) == [], command


def test_spaces_help_explains_list_show_and_validate(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["spaces", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for line in ("list ", "show NAME", "validate FILE", "adamtune spaces show default"):
        assert line in text, text


def test_output_is_spelled_the_same_and_the_old_out_still_works() -> None:
    parsers = _subparsers(build_parser())
    for command in ("search", "export", "report"):
        options = {s for a in parsers[command]._actions for s in a.option_strings}
        assert {"-o", "--output"} <= options, command
    argv = ["m.py:f", "--data", "m.py:g"]
    assert parsers["search"].parse_args([*argv, "--out", "a.json"]).output == "a.json"
    assert parsers["search"].parse_args([*argv, "-o", "b.json"]).output == "b.json"
    assert "--out " not in parsers["search"].format_help()  # hidden: old scripts only


def test_a_mistyped_command_gets_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["stauts", "--study", "x"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown command 'stauts'; did you mean 'status'?" in err, err
    assert "The commands are: search, worker, status" in err
    with pytest.raises(SystemExit):
        main(["xyzzy"])
    assert "unknown command 'xyzzy'. The commands are" in capsys.readouterr().err


def test_a_mistyped_strategy_or_space_gets_the_closest() -> None:
    with pytest.raises(ValueError, match=r"Received: strategy='tpee'; did you mean 'tpe'\?"):
        strategies.check("tpee")
    with pytest.raises(
        ValueError, match=r"Received: strategy='kt-randon'; did you mean 'kt-random'"
    ):
        strategies.check("kt-randon")
    with pytest.raises(ValueError, match=r"unknown space 'defualt'; did you mean 'default'\?"):
        adamtune.load_space("defualt")
    with pytest.raises(ValueError, match=r"unknown space 'zzz'\. Shipped spaces: "):
        adamtune.load_space("zzz")


def test_a_mistyped_space_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spaces", "show", "quik"]) == 2
    assert "did you mean 'quick'?" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["search", "export", "report", "lr-find"])
def test_every_command_that_writes_a_file_takes_o_and_output(command: str) -> None:
    options = {o for a in _subparsers(build_parser())[command]._actions for o in a.option_strings}
    assert {"-o", "--output"} <= options


@pytest.mark.parametrize("command", ["search", "worker", "doctor", "lr-find"])
def test_every_command_that_starts_tensorflow_takes_tf_logs(command: str) -> None:
    options = {o for a in _subparsers(build_parser())[command]._actions for o in a.option_strings}
    assert "--tf-logs" in options
