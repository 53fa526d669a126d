"""Shared fixtures: a fresh store per test (SQLite file, or a PostgreSQL schema), and real small models."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

PG_URL = os.environ.get("DOKJA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CACHE = Path(os.environ.get("DOKJA_TEST_CACHE", Path(__file__).resolve().parent.parent / ".dokja"))


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'dokja.db'}"


@pytest.fixture
def pg_url():
    """A PostgreSQL URL whose search path is a new, empty schema; dropped afterwards."""
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(PG_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # no server: say so rather than pass silently
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}")
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dokja.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def cache() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    return CACHE


@pytest.fixture(scope="session")
def smollm2_dir(cache) -> Path:
    """SmolLM2-135M-Instruct from its PyPI package, dequantised once into an HF directory."""
    from dokja.models import materialise_gguf, resolve

    return materialise_gguf(resolve("package:smollm2-135m-instruct", cache).path, cache)


@pytest.fixture(scope="session")
def smollm2_gguf(cache) -> Path:
    from dokja.models import resolve

    return Path(resolve("package:smollm2-135m-instruct", cache).path)
