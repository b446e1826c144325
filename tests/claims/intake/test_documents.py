"""Document intake: type by content, limits, re-encoding, content-addressed storage."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import threading
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from PIL import Image

from claims.errors import FieldError
from claims.intake.documents import (
    STORED_PHOTO_MIN_LONG_SIDE,
    InspectedDocument,
    document_discard,
    document_inspect,
    document_path,
    document_store,
)
from tests.factories import pdf_from_objects

# --- builders ---------------------------------------------------------------------------------------------------


def two_colour(size=(40, 20), mode="RGB") -> Image.Image:
    """Left half red, right half blue: lets a test see which way an image was turned."""
    img = Image.new("RGB", size, (255, 0, 0))
    img.paste((0, 0, 255), (size[0] // 2, 0, size[0], size[1]))
    return img.convert(mode) if mode != "RGB" else img


def jpeg_bytes(img: Image.Image | None = None, **save) -> bytes:
    buf = io.BytesIO()
    (img or two_colour()).save(buf, format="JPEG", quality=95, **save)
    return buf.getvalue()


def png_bytes(img: Image.Image | None = None, **save) -> bytes:
    buf = io.BytesIO()
    (img or two_colour()).save(buf, format="PNG", **save)
    return buf.getvalue()


def pdf_bytes(pages: int = 1) -> bytes:
    images = [Image.new("RGB", (200, 280), (255, 255, 255)) for _ in range(pages)]
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", save_all=True, append_images=images[1:], resolution=72)
    return buf.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height over a tiny (and insufficient) IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    )


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


_PDF_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def encrypted_pdf(user_password: bytes = b"") -> bytes:
    """A one-page PDF with the standard security handler (revision 2, RC4 40-bit); no strings or streams."""
    file_id = b"0123456789abcdef"
    owner = hashlib.md5(b"owner").digest() * 2
    permissions = -4
    key = hashlib.md5(
        (user_password + _PDF_PAD)[:32] + owner + struct.pack("<i", permissions) + file_id
    ).digest()[:5]
    user = _rc4(key, _PDF_PAD)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <"
        + owner.hex().encode()
        + b"> /U <"
        + user.hex().encode()
        + b"> /P "
        + str(permissions).encode()
        + b" >>",
    ]
    file_hex = file_id.hex().encode()
    return pdf_from_objects(objects, b"/Root 1 0 R /Encrypt 4 0 R /ID [<%s> <%s>]" % (file_hex, file_hex))


def upload(data: bytes, name: str = "upload.bin", content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def inspect(data: bytes, name: str = "upload.bin", kind: str = "invoice") -> InspectedDocument:
    return document_inspect(upload(data, name), kind)


def refused(data: bytes, *words: str, name: str = "upload.bin", kind: str = "invoice") -> FieldError:
    with pytest.raises(FieldError) as info:
        inspect(data, name, kind)
    assert info.value.code == "invalid_file"
    assert info.value.field == kind
    for word in words:
        assert word in info.value.message, info.value.message
    return info.value


@pytest.fixture(autouse=True)
def documents_dir(settings, tmp_path) -> Path:
    settings.DOCUMENTS_DIR = tmp_path / "documents"
    settings.MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
    settings.MAX_DOCUMENT_PIXELS = 40_000_000
    settings.MAX_PDF_PAGES = 5
    return settings.DOCUMENTS_DIR


# --- accepted files ---------------------------------------------------------------------------------------------


class TestAccepted:
    def test_jpeg(self):
        data = jpeg_bytes()
        doc = inspect(data, "photo.jpg")
        assert (doc.content_type, doc.extension, doc.width, doc.height, doc.pages) == (
            "image/jpeg",
            "jpg",
            40,
            20,
            1,
        )
        assert doc.sha256 == hashlib.sha256(data).hexdigest()
        assert doc.stored_sha256 == hashlib.sha256(doc.content).hexdigest()
        assert doc.size == len(doc.content)
        assert doc.original_size == len(data)
        assert doc.kind == "invoice"
        with Image.open(io.BytesIO(doc.content)) as img:
            assert img.format == "JPEG"

    def test_png(self):
        doc = inspect(png_bytes(), "scan.png")
        assert (doc.content_type, doc.extension, doc.width, doc.height) == ("image/png", "png", 40, 20)
        with Image.open(io.BytesIO(doc.content)) as img:
            assert img.format == "PNG"
            assert img.getpixel((0, 0)) == (255, 0, 0)

    def test_pdf_rewritten_keeping_its_pages(self):
        data = pdf_bytes(2)
        doc = inspect(data, "invoice.pdf")
        assert (doc.content_type, doc.extension, doc.pages, doc.width, doc.height) == (
            "application/pdf",
            "pdf",
            2,
            None,
            None,
        )
        assert doc.content.startswith(b"%PDF-") and doc.content != data
        assert doc.sha256 == hashlib.sha256(data).hexdigest()  # the duplicate check compares the upload
        assert (
            doc.stored_sha256 == hashlib.sha256(doc.content).hexdigest()
        )  # the storage name, the stored file

    @pytest.mark.parametrize("pages", [1, 5])
    def test_pdf_page_limit_inclusive(self, pages):
        assert inspect(pdf_bytes(pages)).pages == pages

    def test_type_by_content_not_name(self):
        doc = inspect(png_bytes(), name="looks-like.pdf")
        assert doc.content_type == "image/png"
        doc = document_inspect(
            SimpleUploadedFile("a.png", jpeg_bytes(), content_type="image/png"), "pos_slip"
        )
        assert doc.content_type == "image/jpeg"

    def test_temporary_uploaded_file(self):
        data = jpeg_bytes()
        f = TemporaryUploadedFile("x.jpg", "image/jpeg", len(data), None)
        try:
            f.write(data)
            f.flush()
            # Read from the start even though the file position is at its end.
            doc = document_inspect(f, "id_card_front")
        finally:
            f.close()
        assert doc.sha256 == hashlib.sha256(data).hexdigest()

    def test_plain_file_like_without_size(self):
        doc = document_inspect(io.BytesIO(png_bytes()), "invoice")
        assert doc.content_type == "image/png"

    def test_cmyk_jpeg_becomes_rgb(self):
        doc = inspect(jpeg_bytes(two_colour(mode="CMYK")))
        with Image.open(io.BytesIO(doc.content)) as img:
            assert img.mode == "RGB"

    def test_greyscale_jpeg_stays_greyscale(self):
        doc = inspect(jpeg_bytes(two_colour(mode="L")))
        with Image.open(io.BytesIO(doc.content)) as img:
            assert img.mode == "L"

    def test_palette_png_with_transparency(self):
        img = two_colour().convert("P")
        doc = inspect(png_bytes(img, transparency=0))
        with Image.open(io.BytesIO(doc.content)) as out:
            assert out.mode == "RGBA"

    def test_palette_png_without_transparency(self):
        doc = inspect(png_bytes(two_colour().convert("P")))
        with Image.open(io.BytesIO(doc.content)) as out:
            assert out.mode == "RGB"
            assert out.getpixel((0, 0)) == (255, 0, 0)

    def test_bilevel_png(self):
        doc = inspect(png_bytes(two_colour(mode="1")))
        with Image.open(io.BytesIO(doc.content)) as out:
            assert out.mode == "L"

    def test_mpo_from_a_phone_camera(self):
        buf = io.BytesIO()
        two_colour().save(buf, format="MPO", save_all=True, append_images=[two_colour((20, 10))])
        doc = inspect(buf.getvalue())
        assert (doc.content_type, doc.width, doc.height) == ("image/jpeg", 40, 20)


# --- re-encoding ------------------------------------------------------------------------------------------------


class TestReencoding:
    def _exif(self, orientation: int) -> Image.Exif:
        exif = Image.Exif()
        exif[0x0112] = orientation
        exif[0x010F] = "SecretCam"  # Make
        exif[0x8825] = {2: (39.0, 54.0, 0.0)}  # GPS latitude
        return exif

    def test_a_large_phone_photo_is_stored_at_the_reading_size_and_a_smaller_one_as_it_is(self):
        side = STORED_PHOTO_MIN_LONG_SIDE
        doc = inspect(jpeg_bytes(two_colour((2 * side + 32, 3 * side // 2)), exif=self._exif(6)))
        # Decoded at half scale (never below the reading size), then turned upright.
        assert (doc.width, doc.height) == (3 * side // 4, side + 16)
        with Image.open(io.BytesIO(doc.content)) as img:
            assert img.size == (doc.width, doc.height)
        doc = inspect(jpeg_bytes(two_colour((2 * side - 8, side))))
        assert (doc.width, doc.height) == (2 * side - 8, side)

    def test_exif_orientation_applied_and_exif_stripped(self):
        data = jpeg_bytes(two_colour((40, 20)), exif=self._exif(6))  # 6: rotate 90° clockwise to display
        assert b"SecretCam" in data
        doc = inspect(data)
        assert (doc.width, doc.height) == (20, 40)
        assert b"Exif" not in doc.content
        assert b"SecretCam" not in doc.content
        with Image.open(io.BytesIO(doc.content)) as img:
            assert img.size == (20, 40)
            assert not img.getexif()
            # The left (red) half is now on top, the right (blue) half at the bottom.
            top, bottom = img.convert("RGB").getpixel((10, 5)), img.convert("RGB").getpixel((10, 35))
        assert top[0] > 200 and top[2] < 60
        assert bottom[2] > 200 and bottom[0] < 60

    def test_png_metadata_stripped(self):
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "secret-comment")
        data = png_bytes(two_colour(), pnginfo=info, exif=self._exif(1), icc_profile=b"fake-icc")
        assert b"secret-comment" in data
        doc = inspect(data)
        for marker in (b"secret-comment", b"SecretCam", b"eXIf", b"iCCP", b"tEXt"):
            assert marker not in doc.content

    @pytest.mark.parametrize("builder", [jpeg_bytes, png_bytes])
    def test_appended_payload_dropped(self, builder):
        clean = builder()
        payload = b"PK\x03\x04<?php system($_GET['c']); ?>" * 20
        doc_clean = inspect(clean)
        doc = inspect(clean + payload)
        assert b"<?php" not in doc.content
        assert doc.sha256 == hashlib.sha256(clean + payload).hexdigest()
        assert doc.stored_sha256 != doc.sha256
        # Same image, same stored content: the storage is shared, the original hashes differ.
        assert doc.stored_sha256 == doc_clean.stored_sha256
        assert doc.sha256 != doc_clean.sha256


# --- refusals ---------------------------------------------------------------------------------------------------


class TestRefused:
    def test_text_renamed_jpg(self):
        refused(b"just some text, not a picture\n" * 10, "JPEG", name="photo.jpg")

    def test_html_declared_as_png(self):
        with pytest.raises(FieldError) as info:
            document_inspect(
                SimpleUploadedFile(
                    "x.png", b"<html><script>alert(1)</script></html>", content_type="image/png"
                ),
                "id_card_back",
            )
        assert info.value.code == "invalid_file"
        assert info.value.field == "id_card_back"

    def test_other_image_types(self):
        buf = io.BytesIO()
        two_colour().save(buf, format="GIF")
        refused(buf.getvalue(), "JPEG")
        buf = io.BytesIO()
        two_colour().save(buf, format="BMP")
        refused(buf.getvalue(), "JPEG")

    def test_empty(self):
        refused(b"", "空")

    def test_oversize(self, settings):
        settings.MAX_DOCUMENT_BYTES = 1000
        data = jpeg_bytes() + b"\0" * 1001
        refused(data, "过大", "MB")

    def test_oversize_without_declared_size_reads_at_most_limit_plus_one(self, settings):
        settings.MAX_DOCUMENT_BYTES = 5000

        class Endless:
            name = "endless.jpg"

            def __init__(self):
                self.read_total = 0

            def read(self, size=-1):
                assert size > 0, "must never read without a limit"
                self.read_total += size
                return b"\xff" * size

        f = Endless()
        with pytest.raises(FieldError) as info:
            document_inspect(f, "invoice")
        assert info.value.code == "invalid_file"
        assert f.read_total == 5001

    def test_declared_size_over_limit_refused_before_reading(self, settings):
        settings.MAX_DOCUMENT_BYTES = 1000

        class Liar(io.BytesIO):
            size = 2000

            def read(self, *args):  # pragma: no cover - must not be reached
                raise AssertionError("read after the declared size was already too large")

        with pytest.raises(FieldError):
            document_inspect(Liar(b"x"), "invoice")

    def test_exactly_at_the_limit_is_accepted(self, settings):
        data = png_bytes()
        settings.MAX_DOCUMENT_BYTES = len(data)
        assert inspect(data).original_size == len(data)

    def test_pixel_bomb_header(self):
        # 100000 x 100000 claimed by a file of a few dozen bytes: refused from the header, nothing decoded.
        data = png_header_only(100_000, 100_000)
        assert len(data) < 200
        refused(data, "像素")

    def test_pixel_bomb_pillow_limit(self, settings):
        # Even with our own limit lifted, Pillow's decompression-bomb error becomes invalid_file.
        settings.MAX_DOCUMENT_PIXELS = 10**12
        refused(png_header_only(100_000, 100_000), "像素")

    def test_real_single_colour_png_over_pixel_limit(self, settings):
        settings.MAX_DOCUMENT_PIXELS = 100_000
        big = png_bytes(Image.new("1", (1000, 1000), 1))  # 1 Mpx that compresses to almost nothing
        assert len(big) < 5000
        refused(big, "像素")
        ok = png_bytes(Image.new("1", (300, 300), 1))
        assert inspect(ok).width == 300

    def test_truncated_jpeg(self):
        data = jpeg_bytes(two_colour((400, 300)))
        refused(data[: len(data) // 2], "损坏")

    def test_truncated_png(self):
        img = Image.frombytes("L", (300, 300), os.urandom(90_000))  # noise does not compress
        data = png_bytes(img)
        refused(data[: len(data) // 2], "损坏")

    def test_corrupt_png_header(self):
        data = bytearray(png_bytes())
        data[20] ^= 0xFF  # inside IHDR: the CRC no longer matches
        refused(bytes(data), "损坏")

    def test_palette_png_with_more_transparency_entries_than_colours(self):
        # Pillow decodes it, then cannot convert it: a refusal, not a server error.
        ihdr = struct.pack(">IIBBBBB", 2, 64, 1, 3, 0, 0, 0)  # 1-bit palette, no PLTE chunk
        rows = zlib.compress(b"\x00\x00" * 64)
        data = b"\x89PNG\r\n\x1a\n" + b"".join(
            png_chunk(kind, body)
            for kind, body in ((b"IHDR", ihdr), (b"tRNS", b"\x00" * 300), (b"IDAT", rows), (b"IEND", b""))
        )
        refused(data, "图片无法处理")

    def test_jpeg_magic_with_garbage(self):
        refused(b"\xff\xd8\xff\xe0" + b"garbage" * 100, "损坏")

    def test_too_many_pdf_pages(self):
        refused(pdf_bytes(6), "页数", "5")

    def test_pdf_page_limit_from_settings(self, settings):
        settings.MAX_PDF_PAGES = 1
        refused(pdf_bytes(2), "页数")

    def test_damaged_pdf(self):
        refused(b"%PDF-1.7\n" + b"this is not a pdf body" * 50, "PDF")

    def test_pdf_must_start_with_header(self):
        refused(b"junk\n" + pdf_bytes(1), "JPEG")

    def test_encrypted_pdf_with_empty_user_password(self):
        refused(encrypted_pdf(b""), "加密")

    def test_encrypted_pdf_with_password(self):
        refused(encrypted_pdf(b"secret"), "密码")

    def test_huge_pdf_page(self):
        # 200 x 280 pixels at 1 dpi: a page 200 x 280 inches, far too big to render for OCR.
        buf = io.BytesIO()
        Image.new("RGB", (200, 280), (255, 255, 255)).save(buf, format="PDF", resolution=1)
        refused(buf.getvalue(), "尺寸")


# --- storage ----------------------------------------------------------------------------------------------------


class TestStorage:
    def test_content_addressed_and_idempotent(self, documents_dir):
        doc = inspect(jpeg_bytes())
        name, created = document_store(doc)
        h = doc.stored_sha256
        assert name == f"{h[:2]}/{h[2:4]}/{h}.jpg" == doc.storage_name
        assert created is True
        path = documents_dir / name
        assert path.read_bytes() == doc.content
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert document_path(name) == path.resolve()

        again = inspect(jpeg_bytes() + b"trailing payload")  # different upload, same stored content
        assert document_store(again) == (name, False)
        assert document_store(doc) == (name, False)
        assert [p for p in documents_dir.rglob("*") if p.is_file()] == [path]  # no temp files left

    def test_pdf_stored_as_rewritten(self, documents_dir):
        doc = inspect(pdf_bytes(1))
        name, created = document_store(doc)
        assert created and name.endswith(".pdf")
        assert (documents_dir / name).read_bytes() == doc.content

    def test_different_content_different_files(self):
        a, _ = document_store(inspect(jpeg_bytes()))
        b, _ = document_store(inspect(png_bytes()))
        assert a != b
        assert document_path(a).exists() and document_path(b).exists()

    def test_damaged_copy_is_replaced(self, documents_dir):
        doc = inspect(png_bytes())
        name, _ = document_store(doc)
        (documents_dir / name).write_bytes(b"partial")
        assert document_store(doc) == (name, True)
        assert (documents_dir / name).read_bytes() == doc.content

    def test_concurrent_stores_of_the_same_content_create_once(self):
        doc = inspect(png_bytes(two_colour((300, 200))))
        results: list[tuple[str, bool]] = []
        barrier = threading.Barrier(8)

        def worker():
            barrier.wait()
            results.append(document_store(doc))

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len({name for name, _ in results}) == 1
        assert sum(created for _, created in results) == 1
        assert document_path(results[0][0]).read_bytes() == doc.content

    def test_discard(self):
        name, created = document_store(inspect(jpeg_bytes()))
        assert created
        document_discard(name)
        assert not document_path(name).exists()
        document_discard(name)  # already gone: no error
        assert document_store(inspect(jpeg_bytes()))[1] is True  # stored afresh afterwards

    @pytest.mark.parametrize(
        "name",
        [
            "../../etc/passwd",
            "/etc/passwd",
            "ab/cd/../../../secret.jpg",
            "ab/cd/" + "0" * 64 + ".jpg",  # directories do not match the hash
            "00/00/" + "0" * 64 + ".exe",
            "00/00/" + "0" * 64,
            "00\\00\\" + "0" * 64 + ".jpg",
            "00/00/" + "A" * 64 + ".jpg",
            "./00/00/" + "0" * 64 + ".jpg",
            "00/00/" + "0" * 64 + ".jpg/..",
            "00/00/" + "0" * 64 + ".jpg\n",
            "",
        ],
    )
    def test_traversal_and_foreign_names_refused(self, name):
        with pytest.raises(SuspiciousFileOperation):
            document_path(name)
        with pytest.raises(SuspiciousFileOperation):
            document_discard(name)

    def test_symlink_escape_refused(self, documents_dir, tmp_path):
        outside = tmp_path / "outside"
        (outside / "00").mkdir(parents=True)
        documents_dir.mkdir(parents=True)
        (documents_dir / "00").symlink_to(outside, target_is_directory=True)
        with pytest.raises(SuspiciousFileOperation):
            document_path("00/00/" + "0" * 64 + ".jpg")

    def test_valid_name_inside_root(self, documents_dir):
        name = "00/00/" + "0" * 64 + ".png"
        assert document_path(name) == (documents_dir / name).resolve()
