import subprocess
import sys

from rapport.cli import main


def test_help_lists_the_commands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for command in ("instruments list", "score ID", "analyze", "demo", "serve", "manage"):
        assert command in out


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_console_script_runs_django_commands():
    result = subprocess.run(
        [sys.executable, "-m", "rapport.cli", "manage", "check"],
        env={"RAPPORT_MODE": "test", "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
