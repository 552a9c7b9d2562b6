"""Errors the command line turns into a one-line ``error: ...`` and exit code 2."""


class UsageError(Exception):
    """Unusable arguments or an input that cannot be opened at all."""
