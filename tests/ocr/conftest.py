"""Fixtures for the OCR tests: one RapidOCR engine per test session, generated documents cached per session."""

from __future__ import annotations

import pytest

from ocr.engines import RapidOcrEngine
from tests.docgen import generate


@pytest.fixture(scope="session")
def rapidocr() -> RapidOcrEngine:
    engine = RapidOcrEngine()
    if not engine.available():
        pytest.skip(f"RapidOCR not installed: {engine.missing_reason}")
    from ocr.engines import _rapid_engine

    _rapid_engine()  # load the models once for the whole session
    return engine


@pytest.fixture(scope="session")
def synthetic():
    cache: dict = {}

    def make(kind: str, seed: int = 1, condition: str = "clean", **kwargs):
        key = (kind, seed, condition, repr(sorted(kwargs.items(), key=str)))
        if key not in cache:
            cache[key] = generate(kind, seed, condition, **kwargs)
        return cache[key]

    return make
