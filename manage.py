#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

A command that cannot start or reach the database (the embedded one, or MONGODB_URI's) ends
with one line saying what to do and exit status 4, not a traceback (config/mongo.py `problem`).
"""
import os
import sys

DATABASE_UNAVAILABLE_EXIT = 4


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A setting is missing or wrong (SECRET_KEY without DEBUG, say): the message says which;
        # a traceback through Django's settings loader would only hide it.
        sys.stderr.write(f"Error: {exc}\n")
        sys.exit(1)
    except Exception as exc:
        from config import mongo

        line = mongo.problem(exc)
        if line is None:
            raise
        sys.stderr.write(f"{line}\n")
        sys.exit(DATABASE_UNAVAILABLE_EXIT)


if __name__ == "__main__":
    main()
