#!/usr/bin/env python
import os
import sys

# Commands for a developer's machine: they turn DEBUG on (with generated development keys) unless DEBUG is set.
# Everything else, and every server in production, runs with DEBUG off by default.
DEVELOPMENT_COMMANDS = {"demo", "makemigrations"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "subsidy.settings")
    if len(sys.argv) > 1 and sys.argv[1] in DEVELOPMENT_COMMANDS:
        os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
