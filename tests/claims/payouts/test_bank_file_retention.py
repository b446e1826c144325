"""Exported bank files are deleted after BANK_FILE_RETENTION_DAYS; the batch's record stays, every deletion audited."""

from __future__ import annotations

import datetime as dt
import hashlib
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims.models import AuditLog, PayoutBatch
from claims.payouts.models import PayoutBankFile
from claims.payouts.tasks import bank_files_purge_task
from conftest import token_client
from tests.claims.payouts.payout_helpers import approved_claims

pytestmark = pytest.mark.django_db

BATCHES = "/admin/claims/payoutbatch/"


def _exported_batch(program, finance, finance2) -> tuple[int, dict[str, bytes]]:
    approved_claims(program, 2)
    batch_id = token_client(finance).post("/api/v1/staff/payout-batches/").json()["id"]
    token_client(finance2).post(f"/api/v1/staff/payout-batches/{batch_id}/approve/")
    files = {}
    for fmt in ("csv", "xlsx"):
        r = token_client(finance).get(f"/api/v1/staff/payout-batches/{batch_id}/file?format={fmt}")
        assert r.status_code == 200
        files[fmt] = b"".join(r.streaming_content)
    return batch_id, files


def _later(days: float):
    """Move the clock `days` ahead of now."""
    moved = timezone.now() + dt.timedelta(days=days)
    return mock.patch("django.utils.timezone.now", return_value=moved)


def test_files_past_retention_are_deleted_once_and_the_batch_record_stays(
    program, finance, finance2, auditor, settings, client
):
    settings.BANK_FILE_RETENTION_DAYS = 30
    batch_id, files = _exported_batch(program, finance, finance2)
    paths = [settings.EXPORTS_DIR / "payout-batches" / f.stored_name for f in PayoutBankFile.objects.all()]
    assert len(paths) == 2 and all(p.exists() for p in paths)
    batch = PayoutBatch.objects.get(pk=batch_id)

    # Within the retention period nothing is deleted.
    with _later(29):
        assert bank_files_purge_task() == {"deleted": 0, "already_missing": 0}
    assert all(p.exists() for p in paths)

    with _later(31):
        assert bank_files_purge_task() == {"deleted": 2, "already_missing": 0}
        assert bank_files_purge_task() == {"deleted": 0, "already_missing": 0}  # idempotent
    assert not any(p.exists() for p in paths)
    rows = AuditLog.objects.filter(action="bank_file_expired").order_by("id")
    assert [r.detail["format"] for r in rows] == ["csv", "xlsx"]
    assert {r.detail["sha256"] for r in rows} == {hashlib.sha256(b).hexdigest() for b in files.values()}
    assert all(r.object_type == "PayoutBankFile" and not r.detail["missing"] for r in rows)

    # The batch, its checksums and totals stay; a download says why there is no file (not a server error).
    detail = token_client(auditor).get(f"/api/v1/staff/payout-batches/{batch_id}/").json()
    assert detail["files"] == {fmt: hashlib.sha256(b).hexdigest() for fmt, b in files.items()}
    fresh = PayoutBatch.objects.get(pk=batch_id)
    assert (fresh.count, fresh.total, fresh.status) == (batch.count, batch.total, batch.status)
    assert PayoutBankFile.objects.filter(batch_id=batch_id).count() == 2
    r = token_client(finance).get(f"/api/v1/staff/payout-batches/{batch_id}/file?format=csv")
    assert (
        r.status_code == 410 and r.json()["code"] == "bank_file_expired" and "保存期限" in r.json()["message"]
    )
    assert not any(p.exists() for p in paths)  # and it is not written again

    # The admin list shows the deletion instead of the download links.
    client.force_login(finance)
    page = client.get(BATCHES).content.decode()
    assert "已按保存期限删除" in page
    assert f"/admin/claims/payoutbatch/{batch_id}/file/csv/" not in page


def test_a_file_already_gone_is_recorded_and_fresh_batches_keep_their_links(
    program, finance, finance2, settings, client
):
    settings.BANK_FILE_RETENTION_DAYS = 90
    batch_id, _files = _exported_batch(program, finance, finance2)
    csv_file = PayoutBankFile.objects.get(batch_id=batch_id, fmt="csv")
    (settings.EXPORTS_DIR / "payout-batches" / csv_file.stored_name).unlink()
    client.force_login(finance)
    assert f"/admin/claims/payoutbatch/{batch_id}/file/csv/" in client.get(BATCHES).content.decode()
    with _later(91):
        assert bank_files_purge_task() == {"deleted": 1, "already_missing": 1}
    gone = AuditLog.objects.get(action="bank_file_expired", object_id=str(csv_file.pk))
    assert gone.detail["missing"] is True and gone.detail["retention_days"] == 90


def test_the_purge_is_on_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "claims.payouts.purge_bank_files" in tasks


def test_the_batch_list_finds_expired_files_in_the_same_queries_for_any_number_of_batches(
    program, finance, finance2, settings, client
):
    settings.BANK_FILE_RETENTION_DAYS = 30
    expired_id, _files = _exported_batch(program, finance, finance2)
    with _later(31):
        bank_files_purge_task()
    client.force_login(finance)
    client.get(BATCHES)  # the session and the permission caches of a first request

    def list_queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(BATCHES).content.decode()
        return len(queries), page

    few, _page = list_queries()
    for n in range(6):
        batch = PayoutBatch.objects.create(
            program=program, status="completed", created_by=finance, approved_by=finance2
        )
        for fmt in ("csv", "xlsx"):
            PayoutBankFile.objects.create(
                batch=batch,
                fmt=fmt,
                layout="default",
                stored_name=f"b{n}.{fmt}",
                sha256="0" * 64,
                created_by=finance,
            )
    many, page = list_queries()
    assert many == few
    assert page.count("已按保存期限删除") == 2  # the expired batch's two files; the others keep their links
    assert f"/admin/claims/payoutbatch/{batch.pk}/file/xlsx/" in page
    assert f"/admin/claims/payoutbatch/{expired_id}/file/csv/" not in page
