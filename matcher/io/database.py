"""Streaming rows out of a database (PostgreSQL, SQLite, DuckDB) through SQLAlchemy."""

from __future__ import annotations

from typing import Iterator

from matcher.errors import UsageError


def _engine_url(url: str) -> str:
    """The URL SQLAlchemy should open: a driver that is installed for a bare ``postgresql://``."""
    # "postgres://" is a common spelling SQLAlchemy no longer accepts.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        # SQLAlchemy 2.1 picks psycopg (3) for a bare scheme; we ship psycopg2-binary.
        import importlib.util

        if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2") is not None:
            url = "postgresql+psycopg2://" + url[len("postgresql://"):]
    return url


def iter_query(url: str, query: str, batch: int = 1000) -> Iterator[dict]:
    """Rows of ``query`` as dicts, fetched in batches (memory stays bounded)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    from matcher.io.notes import safe_url

    try:
        engine = create_engine(_engine_url(url))
        conn = engine.connect()
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise UsageError(f"cannot connect to {safe_url(url)}: {_reason(exc, url)}") from None
    try:
        try:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(text(query))
        except SQLAlchemyError as exc:
            raise UsageError(f"query failed on {safe_url(url)}: {_reason(exc, url)}") from None
        keys = list(result.keys())
        for row in result:
            yield dict(zip(keys, row))
    finally:
        conn.close()
        engine.dispose()


def _reason(exc: Exception, url: str) -> str:
    """The driver's first line (e.g. "password authentication failed"), never the password itself."""
    from sqlalchemy.engine import make_url

    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    text = f"{type(exc).__name__}: {detail[0][:200]}" if detail else type(exc).__name__
    try:
        password = make_url(_engine_url(url)).password
    except Exception:  # noqa: BLE001 - an unparsable URL has no password to hide
        password = None
    if password:
        text = text.replace(str(password), "***")
    return text
