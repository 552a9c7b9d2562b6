"""Streaming rows out of a database (PostgreSQL, SQLite, DuckDB) through SQLAlchemy."""

from __future__ import annotations

from typing import Iterator

from matcher.errors import UsageError


def _engine_url(url: str) -> str:
    # "postgres://" is a common spelling SQLAlchemy no longer accepts.
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://"):]
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
        raise UsageError(f"cannot connect to {safe_url(url)}: {type(exc).__name__}") from None
    try:
        try:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(text(query))
        except SQLAlchemyError as exc:
            raise UsageError(f"query failed on {safe_url(url)}: {str(exc.orig if hasattr(exc, 'orig') else exc).splitlines()[0][:200]}") from None
        keys = list(result.keys())
        for row in result:
            yield dict(zip(keys, row))
    finally:
        conn.close()
        engine.dispose()
