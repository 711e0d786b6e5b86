"""`rapport demo`, `rapport serve` and `rapport manage`: the commands that need Django."""

from __future__ import annotations

import os
import sys


def _setup(default_mode: str | None = None) -> None:
    if default_mode:
        os.environ.setdefault("RAPPORT_MODE", default_mode)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    import django

    django.setup()


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
        from rapport.care.models import Client

        client = Client.objects.exclude(email="").filter(episodes__status="active").order_by("name").first()
    if client is not None:
        print(f"\nClient portal: http://{host}:{port}/portal/login/ as {client.email} "
              "(the login link is printed here)")
    print(
        "\nTwo-factor login: after the password, each login asks for a 6-digit code. In the demo the"
        "\ncurrent code is printed here, in this terminal, as are emails (check-in links, portal"
        "\nlogins).\n",
        flush=True,
    )
    call_command("runserver", f"{host}:{port}", use_reloader=False)
    return 0


def serve() -> int:
    """Production: gunicorn with settings from the environment."""
    _setup()  # fails here, before forking workers, if production settings are incomplete
    bind = os.getenv("RAPPORT_BIND", "127.0.0.1:8000")
    workers = os.getenv("RAPPORT_WORKERS", str(2 * (os.cpu_count() or 1) + 1))
    args = ["gunicorn", "rapport.wsgi:application", "--bind", bind, "--workers", workers,
            "--access-logfile", "-"]
    os.execvp(args[0], args)  # noqa: S606 - fixed argument list, replaces this process
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
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["rapport manage", *args])
    return 0
