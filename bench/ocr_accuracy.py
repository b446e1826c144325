"""Invoice reading accuracy and speed, per layout × condition × field, on documents from ``docgen``.

    /work/venv/bin/python bench/ocr_accuracy.py [--layouts cell,grid2015,digital2024,ledger] [--clean 8]
        [--photo 8] [--engines rapidocr,tesseract] [--cache DIR] [--timing 3] [--skip-held-out] [--details]

For every field it prints how often the reader returned the true value *confidently* (exact), how often it said
it does not know (unknown: no value, or a value not confident) and how often it returned a wrong value as
confident (the worst outcome). The first engine's reading is shown alone and then with the second engine as
the production flow uses it (re-reading the lines of the fields still not confident): the difference is what
Tesseract adds. The held-out layout (never used while tuning the readers) is reported separately.

``--cache DIR`` keeps each engine's raw output per document on disk, so that changes to the readers can be
measured again without running OCR. ``--timing N`` measures, on N documents per layout and condition, the full
``read_document`` call against the bare engine call on the same decoded image (the goal: at most 1.2×).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "subsidy.settings")

import django  # noqa: E402

django.setup()

from PIL import Image  # noqa: E402

from ocr.engines import TesseractEngine, TextLine, get_engine  # noqa: E402
from ocr.readers import read_fields  # noqa: E402
from ocr.readers.base import FieldReading  # noqa: E402
from ocr.reading import prepare_for_engine, read_document, second_reading  # noqa: E402
from tests.docgen import HELD_OUT, LAYOUTS, generate  # noqa: E402

FIELDS = (
    "amount_figures",
    "vin",
    "buyer_name",
    "buyer_id_number",
    "invoice_date",
    "invoice_number",
    "invoice_code",
    "amount_words",
    "net_amount",
    "tax_amount",
    "tax_rate",
    "seller_name",
    "seller_credit_code",
)
CONDITIONS = ("clean", "photo")
SEEDS = {"clean": 10_000, "photo": 20_000}


def encode(doc) -> bytes:
    buf = io.BytesIO()
    doc.image.convert("RGB").save(buf, "JPEG", quality=92)
    return buf.getvalue()


def engine_lines(engine, kind: str, data: bytes, cache: Path | None) -> list[TextLine]:
    key = hashlib.sha256(data).hexdigest()[:24]
    path = cache / f"{engine.name}-{key}.json" if cache else None
    if path is not None and path.exists():
        return [TextLine(t, c, tuple(map(tuple, b)), engine.name) for t, c, b in json.loads(path.read_text())]
    image = Image.open(io.BytesIO(data)).convert("RGB")
    lines = engine.recognize(prepare_for_engine(image, kind, engine))
    if path is not None:
        path.write_text(json.dumps([[ln.text, ln.confidence, ln.box] for ln in lines], ensure_ascii=False))
    return lines


def outcome(reading, truth) -> str:
    if reading is None or reading.value is None or not reading.confident:
        return "unknown"
    return "exact" if reading.value == truth else "wrong"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--layouts", default=",".join(LAYOUTS))
    parser.add_argument("--clean", type=int, default=8)
    parser.add_argument("--photo", type=int, default=8)
    parser.add_argument("--engines", default="rapidocr,tesseract")
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--timing", type=int, default=0, help="documents per layout and condition to time")
    parser.add_argument(
        "--skip-held-out", action="store_true", help="while tuning: do not read the held-out one"
    )
    parser.add_argument("--details", action="store_true", help="list every confident-wrong and unknown value")
    args = parser.parse_args()
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    layouts = [name for name in args.layouts.split(",") if name]
    if args.skip_held_out:
        layouts = [name for name in layouts if name != HELD_OUT]
    engines = [get_engine(name.strip()) for name in args.engines.split(",")]
    engines = [e for e in engines if e is not None and e.available()]
    if not engines:
        sys.exit("no OCR engine available")
    first, second = engines[0], (engines[1] if len(engines) > 1 else None)
    print(
        f"engines: {[e.name for e in engines]}; {os.cpu_count()} cores; held-out layout: {HELD_OUT}",
        flush=True,
    )

    # outcome counts: (layout, condition, variant) -> field -> outcome -> n
    counts: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    n_docs: dict = defaultdict(int)
    second_runs: dict = defaultdict(int)
    second_seconds: dict = defaultdict(float)
    times: dict = defaultdict(lambda: {"doc": [], "raw": []})
    details: list[str] = []
    for layout in layouts:
        for condition in CONDITIONS:
            for i in range(getattr(args, condition)):
                seed = SEEDS[condition] + i
                doc = generate("invoice", seed, condition, layout=layout)
                data = encode(doc)
                first_lines = engine_lines(first, "invoice", data, args.cache)
                first_fields = read_fields("invoice", first_lines, first.name)
                final = {
                    name: FieldReading(r.value, r.confidence, r.confident, r.engine)
                    for name, r in first_fields.items()
                }
                if second is not None and isinstance(second, TesseractEngine):
                    prepared = prepare_for_engine(
                        Image.open(io.BytesIO(data)).convert("RGB"), "invoice", first
                    )
                    t0 = time.perf_counter()
                    if second_reading("invoice", prepared, first_lines, final, second):
                        second_runs[(layout, condition)] += 1
                    second_seconds[(layout, condition)] += time.perf_counter() - t0
                n_docs[(layout, condition)] += 1
                for name in FIELDS:
                    truth = doc.truth.get(name)
                    if truth is None and name == "invoice_code":
                        continue
                    for variant, fields in ((first.name, first_fields), ("flow", final)):
                        result = outcome(fields.get(name), truth)
                        counts[(layout, condition, variant)][name][result] += 1
                    result = outcome(final.get(name), truth)
                    if result == "wrong" or (args.details and result == "unknown"):
                        reading = final.get(name)
                        details.append(
                            f"{layout}/{condition}/{seed} {name}: {result} read "
                            f"{getattr(reading, 'value', None)!r} truth {truth!r}"
                        )
                if i < args.timing:
                    decoded = Image.open(io.BytesIO(data)).convert("RGB")
                    t0 = time.perf_counter()
                    first.raw_call(decoded) if hasattr(first, "raw_call") else first.recognize(decoded)
                    times[(layout, condition)]["raw"].append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    read_document("invoice", data, "image/jpeg", engines=[e.name for e in engines])
                    times[(layout, condition)]["doc"].append(time.perf_counter() - t0)
            print(
                f"  {layout}/{condition}: {n_docs[(layout, condition)]} documents",
                file=sys.stderr,
                flush=True,
            )

    def table(variant: str) -> None:
        for layout in layouts:
            mark = "  (HELD OUT: never used while tuning)" if layout == HELD_OUT else ""
            print(f"\n### layout {layout}{mark} — {variant}")
            print(f"{'field':20s} " + "  ".join(f"{c + ' exact/unknown/WRONG':>32s}" for c in CONDITIONS))
            for name in FIELDS:
                cells = []
                for condition in CONDITIONS:
                    c = counts[(layout, condition, variant)][name]
                    n = sum(c.values())
                    if not n:
                        cells.append(f"{'-':>32s}")
                        continue
                    cells.append(
                        f"{100 * c['exact'] / n:6.1f}% {100 * c['unknown'] / n:6.1f}% {c['wrong']:3d} (n={n:3d})".rjust(
                            32
                        )
                    )
                print(f"{name:20s} " + "  ".join(cells))

    print(f"\n## {first.name} alone")
    table(first.name)
    if second is not None:
        print(
            f"\n## production flow: {first.name}, then {second.name} re-reading the lines of fields not confident"
        )
        for key in sorted(n_docs):
            n = second_runs.get(key, 0)
            print(
                f"  {second.name} re-read lines on {n}/{n_docs[key]} documents of {key[0]}/{key[1]}"
                f" ({second_seconds.get(key, 0.0) / max(n_docs[key], 1):.2f} s per document)"
            )
        table("flow")
    if any(v["doc"] for v in times.values()):
        print("\nseconds per document (median): read_document vs the bare engine call on the decoded image")
        all_doc = all_raw = 0.0
        for key, v in sorted(times.items()):
            d, r = statistics.median(v["doc"]), statistics.median(v["raw"])
            all_doc, all_raw = all_doc + sum(v["doc"]), all_raw + sum(v["raw"])
            print(f"  {key[0]:12s} {key[1]:6s} document {d:5.2f}  raw {r:5.2f}  ratio {d / r:4.2f}")
        print(f"  overall: document {all_doc:.1f} s, raw {all_raw:.1f} s, ratio {all_doc / all_raw:.2f}")
    if details:
        print("\ndetails:")
        for line in details:
            print("  " + line)


if __name__ == "__main__":
    main()
