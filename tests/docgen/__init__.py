"""Synthetic claim documents with their ground truth, for the tests and the benchmarks (not installed).

The invoice layouts (``tests.docgen.invoices``) are drawn from descriptions of the real forms, not from the readers;
``tests.docgen.ofd`` builds OFD files of fully digital invoices and ``tests.docgen.photo`` turns a page into a phone photo.
"""

from __future__ import annotations

import random
from typing import Any

from . import invoices, photo, synthetic
from .invoices import HELD_OUT, LAYOUTS
from .synthetic import CONDITIONS, KINDS, SyntheticDocument, available_fonts

__all__ = ["CONDITIONS", "HELD_OUT", "KINDS", "LAYOUTS", "SyntheticDocument", "available_fonts", "generate"]


def generate(
    kind: str,
    seed: int = 0,
    condition: str = "clean",
    digital: bool | None = None,
    overrides: dict[str, Any] | None = None,
    layout: str | None = None,
) -> SyntheticDocument:
    """A synthetic document of ``kind`` with its truth; the same arguments give the same image.

    Invoices: ``layout`` is one of ``tests.docgen.invoices.LAYOUTS`` (default: chosen by the seed); ``digital=True``
    means the fully digital layout.
    """
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition}")
    rng = random.Random(f"{kind}:{seed}:{layout or ''}")
    if kind == "invoice":
        if layout is None:
            layout = "digital2024" if digital else rng.choice(invoices.LAYOUTS)
        truth = invoices.invoice_truth(rng, layout)
        truth.update(overrides or {})
        image = invoices.render_invoice(rng, truth, layout)
        truth = {k: v for k, v in truth.items() if not k.startswith("_")}
    elif kind == "vehicle_license":
        image, truth = synthetic._render_vehicle_license(rng, overrides or {})
    elif kind == "id_card_front":
        image, truth = synthetic._render_id_front(rng, overrides or {})
    elif kind == "id_card_back":
        image, truth = synthetic._render_id_back(rng)
    elif kind == "pos_slip":
        image, truth = synthetic._render_pos_slip(rng)
    else:
        raise ValueError(f"unknown kind {kind}")
    texts = list(synthetic._LAST_TEXTS[0]) if synthetic._LAST_TEXTS else []
    damage_rng = random.Random(f"{kind}:{seed}:{condition}")
    if condition == "photo":
        image = photo.photo(image, damage_rng)
    else:
        image = synthetic.degrade(image, condition, damage_rng)
    return SyntheticDocument(
        kind=kind, condition=condition, image=image, truth=truth, seed=seed, texts=texts, layout=layout or ""
    )
