"""`rapport demo`, `serve`, `worker`, `scheduler` and `manage`: the commands that need Django."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys


def _setup(default_mode: str | None = None) -> None:
    if default_mode:
        os.environ.setdefault("RAPPORT_MODE", default_mode)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    import django

    django.setup()
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        for folder in settings.CELERY_BROKER_TRANSPORT_OPTIONS.values():
            if isinstance(folder, str):
                os.makedirs(folder, exist_ok=True)


def _celery_args(command: str, args: list[str]) -> list[str]:
    """The celery command line for `rapport worker` / `rapport scheduler` (settings loaded)."""
    from django.conf import settings

    level = os.getenv("RAPPORT_LOG_LEVEL", "INFO").upper()
    if command == "worker":
        argv = ["worker", "--loglevel", level]
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            # The filesystem transport has no broadcast: workers cannot talk to each other.
            argv += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
    else:
        argv = ["beat", "--loglevel", level, "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME]
    return [*argv, *args]


def celery(command: str, args: list[str]) -> int:
    """`rapport worker [CELERY WORKER OPTIONS]`, `rapport scheduler [CELERY BEAT OPTIONS]`.

    Runs Celery's own command line in this process (its Python API), so it needs no `celery`
    executable on PATH.
    """
    _setup()
    from rapport.celery import app

    app.start(_celery_args(command, args))
    return 0


def _background(command: str, *args: str) -> subprocess.Popen:
    """`rapport COMMAND` as a child process of this Python (for the demo), ended at exit."""
    # Warnings only: the demo's terminal shows the emails, not a line per task.
    env = {"RAPPORT_LOG_LEVEL": "WARNING", **os.environ}
    child = subprocess.Popen([sys.executable, "-m", "rapport.cli", command, *args],  # noqa: S603
                             env=env)
    atexit.register(_stop, child)
    return child


def _stop(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()


def demo(host: str = "127.0.0.1", port: str = "8000") -> int:
    _setup("demo")
    from django.conf import settings
    from django.core.management import call_command
    from django_scopes import scopes_disabled

    from rapport.accounts.models import Organisation
    from rapport.demo.generator import generate, logins

    if settings.MODE != "demo":
        print("rapport demo runs only with RAPPORT_MODE=demo", file=sys.stderr)
        return 2
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    with scopes_disabled():
        is_new = not Organisation.objects.exists()
    if is_new:
        print("Creating the demo practice (first run only)...", flush=True)
        generate()
    print(
        f"\nRapport demo: http://{host}:{port}/\n"
        f"Data: {settings.DATABASES['default']['NAME']} (delete var/ to start afresh)\n\n"
        "Log in as:",
    )
    for role, email, password in logins():
        print(f"  {role:40} {email:32} password: {password}")
    with scopes_disabled():
        from rapport.care import search
        from rapport.care.models import Client

        active = Client.objects.exclude(email="").filter(episodes__status="active").distinct()
        client = next(iter(search.by_name(active)), None)
    if client is not None:
        print(f"\nClient portal: http://{host}:{port}/portal/login/ as {client.email} "
              "(the login link is printed here)")
    print(
        "\nTwo-factor login: after the password, each login asks for a 6-digit code. In the demo the"
        "\ncurrent code is printed here, in this terminal, as are emails (check-in links, portal"
        "\nlogins).\n"
        "\nBackground work: a Celery worker and its scheduler run beside the web server, on a"
        f"\nbroker in {settings.BROKER_FOLDER}. Every {settings.INVITATION_SECONDS} s the"
        "\nscheduler sends the reminder and the check-in link of each session due within two"
        "\ndays (the demo practice's setting; the emails are printed here).\n",
        flush=True,
    )
    _background("worker", "--pool", "solo")
    _background("scheduler")
    call_command("runserver", f"{host}:{port}", use_reloader=False)
    return 0


def serve() -> int:
    """Production: gunicorn with settings from the environment."""
    _setup()  # fails here, before forking workers, if production settings are incomplete
    bind = os.getenv("RAPPORT_BIND", "127.0.0.1:8000")
    workers = os.getenv("RAPPORT_WORKERS", str(2 * (os.cpu_count() or 1) + 1))
    from django.conf import settings

    # The interpreter running this command, not whatever `gunicorn` PATH finds: started as
    # /opt/rapport/bin/rapport, the venv's bin need not be on PATH.
    args = [sys.executable, "-m", "gunicorn", "rapport.wsgi:application", "--bind", bind,
            "--workers", workers, "--access-logfile", "-",
            # Believe X-Forwarded-* only from the proxies Django believes (rapport.core.proxies).
            "--forwarded-allow-ips", ",".join(str(n) for n in settings.TRUSTED_PROXIES)]
    os.execv(sys.executable, args)  # noqa: S606 - fixed argument list, replaces this process
    return 0  # not reached


def run(argv: list[str]) -> int:
    command, args = argv[0], argv[1:]
    if command == "demo":
        import argparse

        parser = argparse.ArgumentParser(prog="rapport demo")
        parser.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000)")
        parser.add_argument("--host", default="127.0.0.1", help="address to serve on")
        options = parser.parse_args(args)
        if not 1 <= options.port <= 65535:
            parser.error(f"--port must be from 1 to 65535, not {options.port}")
        return demo(options.host, str(options.port))
    if command == "serve":
        return serve()
    if command in ("worker", "scheduler"):
        return celery(command, args)
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["rapport manage", *args])
    return 0
