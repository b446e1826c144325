"""Peak memory and time of the upload check on hostile documents, each probe in a fresh process.

    python bench/hostile_documents.py            # every probe, isolation as configured (on by default)
    DOCUMENT_ISOLATION=0 python bench/hostile_documents.py   # the same in the calling process, for comparison

For each probe it prints the answer (accepted, or the refusal code), the wall time, the peak RSS of the process
that handled the request (the web or worker process) and the peak RSS of the child that parsed the file.
Finally it prints the cost of one isolated call (fork, limits, answer) on a trivial function.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF from numbered object bodies (1-based), with a correct cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def flate_bomb_pdf(target_compressed: int = 1_000_000) -> bytes:
    """One page whose content stream is ~1 MB compressed and unpacks to about a gigabyte of path operators."""
    chunk = b"0 0 1 1 re f\n" * 80_000
    comp = zlib.compressobj(9)
    parts = []
    size = 0
    while size < target_compressed:
        block = comp.compress(chunk)
        parts.append(block)
        size += len(block)
    parts.append(comp.flush())
    content = b"".join(parts)
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
            _stream(content, b"/Filter /FlateDecode "),
        ]
    )


def many_pages_pdf(count: int = 20_000) -> bytes:
    kids = b" ".join(b"%d 0 R" % (n + 3) for n in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count,
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * count
    return _pdf(objects)


def huge_page_pdf() -> bytes:
    """A 200 x 200 inch page with UserUnit 75000 (the largest page PDF allows) and one filled rectangle."""
    content = b"0 0 14400 14400 re f\n"
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] /UserUnit 75000 /Contents 4 0 R >>",
            _stream(content),
        ]
    )


def active_content_pdf() -> bytes:
    """An ordinary one-page PDF with JavaScript on open, an embedded file, an annotation and metadata."""
    content = b"BT /F1 24 Tf 72 720 Td (Invoice 12345678) Tj ET\n"
    embedded = b"MZ this would be an executable"
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R /Names << /JavaScript << /Names [(a) 5 0 R] >>"
            b" /EmbeddedFiles << /Names [(x.exe) 7 0 R] >> >> /Metadata 8 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /AA << /O 5 0 R >>"
            b" /Annots [6 0 R] /Resources << /Font << /F1 9 0 R >> >> >>",
            _stream(content),
            b"<< /S /JavaScript /JS (app.alert('hello')) >>",
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A 5 0 R >>",
            b"<< /Type /Filespec /F (x.exe) /EF << /F 10 0 R >> >>",
            _stream(b"<x:xmpmeta>secret author</x:xmpmeta>", b"/Type /Metadata /Subtype /XML "),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            _stream(embedded, b"/Type /EmbeddedFile "),
        ]
    )


def png_40mp() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8000, 5000), (255, 255, 255)).save(out, "PNG", optimize=True)
    return out.getvalue()


def jpeg_40mp_rotated() -> bytes:
    """A legitimate worst case: a 40-megapixel phone photo taken sideways (EXIF orientation 6)."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.new("RGB", (8000, 5000), (230, 230, 220)).save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


PROBES = {
    "pdf_flate_bomb_1mb": flate_bomb_pdf,
    "pdf_20000_pages": many_pages_pdf,
    "pdf_huge_page": huge_page_pdf,
    "pdf_active_content": active_content_pdf,
    "png_40_megapixels": png_40mp,
    "jpeg_40mp_rotated": jpeg_40mp_rotated,
}


def _setup_django() -> None:
    os.environ.setdefault("SUBSIDY_DATA_DIR", tempfile.mkdtemp(prefix="bench-hostile-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "subsidy.settings")
    import django

    django.setup()


def _run_probe(name: str, path: str) -> dict:
    """In this (fresh) process: the upload check of one file, as the web process runs it."""
    _setup_django()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from claims.errors import FieldError
    from claims.intake.documents import document_inspect
    from subsidy.isolation import reap_finished

    data = Path(path).read_bytes()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    try:
        doc = document_inspect(SimpleUploadedFile("f", data), "invoice")
        answer = f"accepted ({doc.content_type}, {doc.size} bytes stored)"
    except FieldError as exc:
        answer = f"{exc.code}: {exc.message}"
    except MemoryError:
        answer = "MemoryError"
    seconds = time.monotonic() - started
    time.sleep(0.5)
    reap_finished()  # a child is counted in RUSAGE_CHILDREN once reaped
    return {
        "answer": answer,
        "seconds": round(seconds, 2),
        "rss_before_mb": round(base / 1024),
        "parent_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "child_peak_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }


def _fork_overhead(rounds: int = 50) -> float:
    _setup_django()
    import claims.intake.documents  # noqa: F401 - a process of the web's size
    from subsidy.isolation import run_isolated

    started = time.monotonic()
    for _ in range(rounds):
        run_isolated(len, b"x")
    return (time.monotonic() - started) / rounds * 1000


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--probe":
        print(json.dumps(_run_probe(sys.argv[2], sys.argv[3])))
        return
    # A probe that goes unbounded is stopped at 4 GB so the bench itself cannot take the machine down.
    cap = 4 * 1024**3
    mode = "isolated" if os.environ.get("DOCUMENT_ISOLATION", "1") not in ("0", "false") else "in-process"
    print(f"upload check of hostile documents ({mode}); peak RSS in MB")
    print(f"{'probe':22} {'size':>9} {'seconds':>8} {'web peak':>9} {'child peak':>10}  answer")
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in PROBES.items():
            path = Path(tmp) / name
            path.write_bytes(make())
            proc = subprocess.run(
                [sys.executable, __file__, "--probe", name, str(path)],
                capture_output=True,
                text=True,
                preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)),
                cwd=ROOT,
                check=False,
            )
            size = f"{path.stat().st_size / 1024:.0f} KB"
            if proc.returncode != 0:
                tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
                print(
                    f"{name:22} {size:>9} {'-':>8} {'-':>9} {'-':>10}  process died ({proc.returncode}): {tail}"
                )
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(
                f"{name:22} {size:>9} {r['seconds']:>8} {r['parent_peak_mb']:>9} {r['child_peak_mb']:>10}"
                f"  {r['answer'][:90]}"
            )
    if mode == "isolated":
        print(f"isolated call overhead (fork + limits + answer): {_fork_overhead():.1f} ms")


if __name__ == "__main__":
    main()
