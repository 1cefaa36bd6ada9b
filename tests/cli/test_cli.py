"""The `senet` / `python -m senet_lib` command line (__main__.py)."""

import subprocess
import sys

import pytest

from senet_lib.cli import Command, commands, main
from senet_lib.complexity import count_parameters, count_se_parameters
from senet_lib.models import create_model, list_models
from senet_lib.paths import REPO_ROOT

ROOT = REPO_ROOT


def check_se_resnet20_table(text: str) -> None:
    se, plain = create_model("se_resnet20"), create_model("resnet20")
    lines = text.splitlines()
    assert lines[0].startswith("se_resnet20 vs resnet20  (input 1x3x32x32")
    params = next(line for line in lines if line.strip().startswith("parameters")).split()
    assert params[1:4] == [
        f"{count_parameters(plain):,}",
        f"{count_parameters(se):,}",
        f"{count_se_parameters(se):,}",
    ]
    assert params[4].endswith("%")
    formula = next(line for line in lines if "paper formula" in line)
    assert formula.split()[-1] == "2,016"  # (2/16) * 3 * (16^2 + 32^2 + 64^2)


def test_info_subprocess():
    out = subprocess.run(
        [sys.executable, "-m", "senet_lib", "info", "se_resnet20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    check_se_resnet20_table(out.stdout)


def test_a_reader_that_stops_early_ends_the_command_quietly():
    """`senet list | head -1`: the pipe closes before the command writes; no traceback, no error line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "senet_lib", "list"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()  # the reader is gone before the command has imported anything
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1 and err.decode() == ""


def test_info_main(capsys):
    assert main(["info", "se_resnet20"]) == 0
    check_se_resnet20_table(capsys.readouterr().out)


def test_info_options(capsys):
    assert (
        main(["info", "se_resnet20", "--reduction", "8", "--num-classes", "100", "--input-size", "64"]) == 0
    )
    text = capsys.readouterr().out
    assert "input 1x3x64x64, 100 classes, r = 8" in text
    assert next(line for line in text.splitlines() if "paper formula" in line).split()[-1] == "4,032"


def test_info_plain_model(capsys):
    assert main(["info", "resnet20"]) == 0
    text = capsys.readouterr().out
    assert (
        text.startswith("resnet20  (input 1x3x32x32")
        and f"{count_parameters(create_model('resnet20')):,}" in text
    )


def test_list(capsys):
    assert main(["list"]) == 0
    assert capsys.readouterr().out.split() == list_models()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["info", "se_resnet21"], "unknown model 'se_resnet21'"),
        (["info", "resnet20", "--reduction", "4"], "applies to SE models"),
        (["info", "se_resnet20", "--plain", "resnet_nope"], "unknown model 'resnet_nope'"),
    ],
)
def test_info_errors(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_usage_errors_and_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    assert all(name in help_text for name in commands())


def test_commands_have_the_shape_main_expects():
    for name, command in commands().items():
        assert isinstance(command, Command) and command.help and callable(command.run), name
