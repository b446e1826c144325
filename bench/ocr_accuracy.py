"""OCR accuracy and speed on synthetic documents.

    .venv/bin/python bench/ocr_accuracy.py [--invoices 30] [--singles 8] [--others 5] [--engines rapidocr,tesseract]

Per engine and condition it prints the per-field exact-match accuracy, how many wrong values were reported as
confident, the invoice amount split into right / unknown / confidently wrong, and the seconds per document beside
the bare engine call on the same decoded image (the ratio is the goal: at most 1.2).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "subsidy.settings")

import django  # noqa: E402

django.setup()

from PIL import Image  # noqa: E402

from ocr.engines import get_engine  # noqa: E402
from ocr.reading import read_document  # noqa: E402
from docgen import generate  # noqa: E402

SINGLE_DAMAGES = ("rotation", "blur", "noise", "jpeg", "lowres", "uneven")


def plan(args) -> list[tuple[str, str, int]]:
    jobs: list[tuple[str, str, int]] = []
    for i in range(args.invoices):
        jobs.append(("invoice", "clean", 1000 + i))
        jobs.append(("invoice", "degraded", 2000 + i))
    for damage in SINGLE_DAMAGES:
        for i in range(args.singles):
            jobs.append(("invoice", damage, 3000 + i))
    for kind in ("vehicle_license", "id_card_front", "id_card_back", "pos_slip"):
        for i in range(args.others):
            jobs.append((kind, "clean", 4000 + i))
            jobs.append((kind, "degraded", 5000 + i))
    return jobs


def run_engine(engine_name: str, jobs, out) -> None:
    engine = get_engine(engine_name)
    if engine is None or not engine.available():
        print(f"\n## {engine_name}: not available ({getattr(engine, 'missing_reason', '')})", file=out)
        return
    # warm up (model load) outside the measurements
    for warm in (
        generate("invoice", 1, "clean"),
        generate("invoice", 1, "degraded"),
        generate("pos_slip", 1),
    ):
        buf = io.BytesIO()
        warm.image.convert("RGB").save(buf, "JPEG", quality=92)
        engine.raw_call(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
        read_document(warm.kind, buf.getvalue(), "image/jpeg", engines=[engine_name])
    field_total: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    field_right: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    conf_wrong: dict[tuple[str, str], int] = defaultdict(int)
    conf_wrong_detail: list[str] = []
    amount: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    doc_times: dict[tuple[str, str], list[float]] = defaultdict(list)
    raw_times: dict[tuple[str, str], list[float]] = defaultdict(list)
    for kind, condition, seed in jobs:
        doc = generate(kind, seed, condition)
        buf = io.BytesIO()
        doc.image.convert("RGB").save(buf, "JPEG", quality=92)
        data = buf.getvalue()
        t0 = time.perf_counter()
        decoded = Image.open(io.BytesIO(data)).convert("RGB")
        engine.raw_call(decoded)
        raw_times[(kind, condition)].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        result = read_document(kind, data, "image/jpeg", engines=[engine_name])
        doc_times[(kind, condition)].append(time.perf_counter() - t0)
        key = (kind, "single" if condition in SINGLE_DAMAGES else condition)
        for name, truth in doc.truth.items():
            reading = result.fields.get(name)
            value = reading.value if reading else None
            field_total[key][name] += 1
            if value == truth:
                field_right[key][name] += 1
            elif reading is not None and reading.confident:
                conf_wrong[key] += 1
                conf_wrong_detail.append(f"{kind}/{condition}/{seed} {name}: read {value!r}, truth {truth!r}")
        if kind == "invoice":
            figures = result.fields.get("amount_figures")
            bucket = amount[key[1]]
            bucket["n"] += 1
            if figures and figures.confident:
                bucket["right" if figures.value == doc.truth["amount_figures"] else "wrong"] += 1
            else:
                bucket["unknown"] += 1
    print(f"\n## engine: {engine_name}", file=out)
    for key in sorted(field_total):
        kind, cond = key
        n = max(field_total[key].values())
        cells = ", ".join(
            f"{name} {100 * field_right[key][name] / field_total[key][name]:.0f}%"
            for name in field_total[key]
        )
        print(f"{kind:16s} {cond:9s} n={n:3d} confident-wrong={conf_wrong[key]}  {cells}", file=out)
    print("\ninvoice amount (¥ 价税合计) reported confident:", file=out)
    for cond, bucket in amount.items():
        n = bucket["n"]
        print(
            f"  {cond:9s} n={n:3d} right {100 * bucket['right'] / n:.1f}%  unknown {100 * bucket['unknown'] / n:.1f}%"
            f"  confident-wrong {bucket['wrong']}",
            file=out,
        )
    print(
        "\nseconds per document (median; document = read_document, raw = bare engine call on the decoded image):",
        file=out,
    )
    for key in sorted(doc_times):
        d, r = statistics.median(doc_times[key]), statistics.median(raw_times[key])
        print(f"  {key[0]:16s} {key[1]:9s} document {d:5.2f}  raw {r:5.2f}  ratio {d / r:4.2f}", file=out)
    all_d = sum(sum(v) for v in doc_times.values())
    all_r = sum(sum(v) for v in raw_times.values())
    print(f"  overall: document {all_d:.1f} s, raw {all_r:.1f} s, ratio {all_d / all_r:.2f}", file=out)
    if conf_wrong_detail:
        print("\nconfident but wrong:", file=out)
        for line in conf_wrong_detail:
            print("  " + line, file=out)
    out.flush()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=30, help="clean and degraded invoices each")
    parser.add_argument("--singles", type=int, default=8, help="invoices per single damage")
    parser.add_argument(
        "--others", type=int, default=5, help="clean and degraded documents of each other kind"
    )
    parser.add_argument("--engines", default="rapidocr,tesseract")
    args = parser.parse_args()
    jobs = plan(args)
    print(f"{len(jobs)} documents per engine; {os.cpu_count()} cores", flush=True)
    for name in args.engines.split(","):
        run_engine(name.strip(), jobs, sys.stdout)


if __name__ == "__main__":
    main()
