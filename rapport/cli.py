"""The `rapport` command.

The pure subcommands (`instruments`, `score`, `analyze`) never import Django, so they start fast
and work as a library tool outside any installation.
"""

from __future__ import annotations

import sys

USAGE = """usage: rapport COMMAND [ARGS]

  instruments list                 list the instrument ids, one a line
  instruments describe ID          an instrument's items and scoring rules, as JSON
  score ID [FILE]                  score JSON lines of answers from FILE or standard input
  analyze [--summary] FILE.csv     findings (or outcome summaries) from long-format scores
  demo [--port N] [--host H]       migrate, load the demo practice once, serve (127.0.0.1:8000)
  serve                            serve with gunicorn (production)
  worker [OPTIONS]                 a background worker (Celery; options go to `celery worker`)
  scheduler [OPTIONS]              the scheduler of the daily and periodic tasks (celery beat)
  backup [PATH]                    back up the database (keys are kept apart: see README)
  restore PATH [--force]           restore a backup into an empty database
  manage ARGS...                   any Django management command
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    command = argv[0]
    if command in ("instruments", "score"):
        from rapport.instruments.cli import main as instruments_main

        return instruments_main(argv)
    if command == "analyze":
        from rapport.monitoring.cli import main as analyze_main

        return analyze_main(argv)
    if command in ("backup", "restore"):
        argv = ["manage", *argv]
        command = "manage"
    if command in ("demo", "serve", "worker", "scheduler", "manage"):
        from rapport.commands import run

        return run(argv)
    print(f"rapport: unknown command {command!r}\n\n{USAGE}", file=sys.stderr, end="")
    return 2


if __name__ == "__main__":
    sys.exit(main())
