"""``manage.py read_documents``: one JSON line per file, in the documented shape."""

import io
import json
import random

from django.core.management import call_command

from ocr.readers.invoice import FIELDS
from tests.docgen import generate, invoices
from tests.docgen import ofd as make_ofd


def _run(*args) -> list[dict]:
    out = io.StringIO()
    call_command("read_documents", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_ofd_pdf_and_missing_engine(tmp_path, settings) -> None:
    settings.OCR_ENGINES = []
    truth = invoices.invoice_truth(random.Random(8), "digital2024")
    ofd_file = tmp_path / "invoice.ofd"
    ofd_file.write_bytes(make_ofd.invoice_ofd(truth))
    doc = generate("invoice", 8, layout="digital2024")
    pdf_file = tmp_path / "invoice.pdf"
    pdf_file.write_bytes(doc.to_pdf(text_layer=True))
    png_file = tmp_path / "scan.png"
    png_file.write_bytes(doc.to_bytes()[0])
    lines = _run(
        "--kind", "invoice", str(ofd_file), str(pdf_file), str(png_file), str(tmp_path / "missing.jpg")
    )
    assert [line["file"] for line in lines] == [
        str(ofd_file),
        str(pdf_file),
        str(png_file),
        str(tmp_path / "missing.jpg"),
    ]
    first = lines[0]
    assert set(first) == {"file", "kind", "seconds", "engines", "fields", "error"}
    assert first["kind"] == "invoice" and first["engines"] == ["ofd"] and first["error"] is None
    assert set(first["fields"]) == set(FIELDS)
    assert first["fields"]["amount_figures"] == {"value": f"{truth['amount_figures']:.2f}", "confident": True}
    assert first["fields"]["invoice_date"]["value"] == truth["invoice_date"].isoformat()
    assert first["fields"]["invoice_code"] == {"value": None, "confident": False}
    assert lines[1]["engines"] == ["pdf-text"]
    assert lines[1]["fields"]["vin"] == {"value": doc.truth["vin"], "confident": True}
    assert lines[2]["engines"] == [] and lines[2]["error"]
    assert lines[3]["error"]
    assert lines[3]["fields"]["vin"] == {"value": None, "confident": False}
