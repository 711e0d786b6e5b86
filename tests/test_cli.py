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


def test_serve_runs_gunicorn_from_this_interpreter_with_the_trusted_proxies(monkeypatch, settings):
    """`/opt/rapport/bin/rapport serve` must work without the venv's bin on PATH."""
    from rapport import commands
    from rapport.core.proxies import parse_networks

    settings.TRUSTED_PROXIES = parse_networks("10.0.0.0/8, 192.0.2.1")
    calls = []
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(commands, "_setup", lambda *a: None)
    monkeypatch.setattr(commands.os, "execv", lambda path, args: calls.append((path, args)))
    commands.serve()
    [(path, args)] = calls
    assert path == sys.executable
    assert args[:3] == [sys.executable, "-m", "gunicorn"]
    assert args[args.index("--forwarded-allow-ips") + 1] == "10.0.0.0/8,192.0.2.1/32"


def test_demo_takes_a_port_and_refuses_a_bad_one(monkeypatch, capsys):
    import pytest

    from rapport import commands

    called = []
    monkeypatch.setattr(commands, "demo", lambda host, port: called.append((host, port)) or 0)
    assert commands.run(["demo", "--port", "8123"]) == 0
    assert commands.run(["demo"]) == 0
    assert called == [("127.0.0.1", "8123"), ("127.0.0.1", "8000")]
    for bad in ("0", "70000", "eighty"):
        with pytest.raises(SystemExit) as exit_:
            commands.run(["demo", "--port", bad])
        assert exit_.value.code == 2
    assert "--port" in capsys.readouterr().err
    assert len(called) == 2
