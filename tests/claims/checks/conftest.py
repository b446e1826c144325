"""The OCR fixtures (one engine per session, generated documents) for the tests of the claim-side OCR tasks."""

from tests.ocr.conftest import rapidocr, synthetic  # noqa: F401
