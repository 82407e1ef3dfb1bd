"""Errors a user can fix. The CLI prints them as one line and exits with code 2."""


class UserError(Exception):
    """Bad input: config, SoA, mapping, CLI arguments, an unreachable database.

    The message names the file, row or field, and what to do.
    """
