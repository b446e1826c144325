"""The audit log in Chinese: one label per event code, readable details, Chinese headers."""

from __future__ import annotations

import re
from pathlib import Path

from claims.audit.events import AUDIT_EVENTS, detail_text
from claims.audit.services import audit_log
from claims.payouts.models import PayoutBatch, PayoutStatus

ROOT = Path(__file__).resolve().parents[3] / "claims"


def test_every_event_code_written_has_a_label():
    written = set()
    for path in ROOT.rglob("*.py"):
        written |= set(re.findall(r'(?:audit_log|_audit)\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8")))
    # The transition functions write payout_<status> and payout_batch_<status>.
    written |= {f"payout_{s}" for s in PayoutStatus.values if s != "pending"}
    written |= {f"payout_batch_{s}" for s in PayoutBatch.Status.values if s != "created"}
    assert written - set(AUDIT_EVENTS) == set()


def test_details_are_readable():
    assert detail_text({"amount": "6000.00", "bank_account": "6217****0409"}) == (
        "金额：6000.00；银行卡号：6217****0409"
    )
    assert detail_text({"fields": ["vin", "plate"]}) == "字段：vin、plate"


def test_audit_admin_is_chinese(client, auditor):
    audit_log("payout_file_exported", actor=auditor, format="csv", count=3, total="18000.00")
    client.force_login(auditor)
    page = client.get("/admin/claims/auditlog/").content.decode()
    assert "导出银行文件" in page and "文件格式：csv" in page and "笔数：3" in page
    assert '<td class="field-action_display">导出银行文件</td>' in page and "{&quot;" not in page
    for header in ("时间", "操作人", "操作", "申请编号", "详情"):
        assert header in page
