"""Readers per document kind: OCR lines in, fields (value, confidence, confident) out."""

from __future__ import annotations

from collections.abc import Callable

from ..engines import TextLine
from . import id_card, invoice, pos_slip, vehicle_license
from .base import FieldReading

__all__ = ["FIELDS", "KINDS", "READERS", "REQUIRED_FIELDS", "FieldReading", "read_fields"]

Reader = Callable[[list[TextLine], str], dict[str, FieldReading]]

READERS: dict[str, Reader] = {
    "invoice": invoice.read_invoice,
    "vehicle_license": vehicle_license.read_vehicle_license,
    "id_card_front": id_card.read_id_card_front,
    "id_card_back": id_card.read_id_card_back,
    "pos_slip": pos_slip.read_pos_slip,
}
KINDS = tuple(READERS)
# Every field each reader reports, in its documented order.
FIELDS: dict[str, tuple[str, ...]] = {
    "invoice": invoice.FIELDS,
    "vehicle_license": vehicle_license.FIELDS,
    "id_card_front": id_card.FRONT_FIELDS,
    "id_card_back": id_card.BACK_FIELDS,
    "pos_slip": pos_slip.FIELDS,
}
# Fields that, when not confident after the first engine, make the reader try the next engine.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "invoice": invoice.REQUIRED,
    "vehicle_license": vehicle_license.REQUIRED,
    "id_card_front": id_card.FRONT_REQUIRED,
    "id_card_back": id_card.BACK_REQUIRED,
    "pos_slip": pos_slip.REQUIRED,
}


def read_fields(kind: str, lines: list[TextLine], engine: str = "") -> dict[str, FieldReading]:
    try:
        reader = READERS[kind]
    except KeyError:
        raise ValueError(f"unknown document kind: {kind}") from None
    return reader(lines, engine)
