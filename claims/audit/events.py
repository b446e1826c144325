"""The audit trail's words, defined once: a Chinese label per event code and per detail key, and the readable
form of an event's details. The admin list, its filter and the CSV export all use these."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext_lazy as _

AUDIT_EVENTS = {
    "claim_approved": _("审核通过"),
    "claim_rejected": _("不予通过"),
    "claim_returned": _("退回补正"),
    "claim_corrected": _("申请人补正"),
    "claim_correction_expired": _("逾期未补正，已过期"),
    "claim_payout_fix_expired": _("发放失败后逾期未更正账户，已过期"),
    "claim_review_opened": _("打开审核页面"),
    "program_closed": _("补贴活动结束"),
    "settlement_export": _("导出结算报表"),
    "claim_counter_intake": _("窗口受理"),
    "pii_view": _("查看完整个人信息"),
    "document_view": _("查看申请材料"),
    "api_token_issued": _("获取接口令牌"),
    "staff_login": _("登录管理后台"),
    "audit_export": _("导出审计日志"),
    "report_exported": _("导出报表"),
    "bank_account_changed": _("申请人更换收款银行卡"),
    "payout_created": _("生成发放指令"),
    "payout_batched": _("发放指令编入批次"),
    "payout_submitted": _("发放指令提交银行接口"),
    "payout_paid": _("发放成功"),
    "payout_failed": _("发放失败"),
    "payout_cancelled": _("发放指令作废"),
    "payout_retry": _("财务安排重新发放"),
    "payout_batch_created": _("创建发放批次"),
    "payout_batch_approved": _("复核发放批次"),
    "payout_batch_completed": _("发放批次全部回盘"),
    "payout_batch_cancelled": _("作废发放批次"),
    "payout_file_exported": _("导出银行文件"),
    "bank_file_expired": _("银行文件按保存期限删除"),
    "payout_results_imported": _("导入银行回盘"),
    "keys_rotated": _("更换加密密钥"),
    "dealer_sales_imported": _("导入经销商销售记录"),
    "ledger_published": _("发布公示"),
    "appeal_dismissed": _("申诉不成立"),
    "appeal_upheld": _("申诉成立，恢复审核"),
    "claim_appealed": _("申请人提出申诉"),
    "claim_full_number_search": _("按完整证件号、手机号或银行卡号查找申请"),
}

DETAIL_LABELS = {
    "via": _("登录途径"),
    "number": _("号码（已遮蔽）"),
    "amount": _("金额"),
    "attempt": _("第几次发放"),
    "bank_account": _("银行卡号"),
    "old_bank_account": _("原银行卡号"),
    "new_bank_account": _("新银行卡号"),
    "bank_reference": _("银行流水号"),
    "reference": _("银行流水号"),
    "batch": _("批次"),
    "count": _("笔数"),
    "total": _("总金额"),
    "program": _("补贴项目"),
    "format": _("文件格式"),
    "layout": _("银行文件格式"),
    "sha256": _("校验值"),
    "lines": _("行数"),
    "paid": _("成功"),
    "failed": _("失败"),
    "unchanged": _("未变"),
    "reason": _("原因"),
    "reason_code": _("原因代码"),
    "fields": _("字段"),
    "documents": _("材料"),
    "document": _("材料"),
    "kind": _("类别"),
    "field": _("字段"),
    "from": _("原状态"),
    "to": _("新状态"),
    "from_status": _("原状态"),
    "to_status": _("新状态"),
    "source": _("来源"),
    "actor_label": _("操作方"),
    "params": _("筛选条件"),
    "note": _("说明"),
}


def event_label(code: str) -> str:
    return str(AUDIT_EVENTS.get(code, code))


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(_value(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def detail_text(detail: dict[str, Any] | None) -> str:
    """`金额：6000.00；银行卡号：6217****0409` — each key by its label (unknown keys as they are)."""
    if not detail:
        return ""
    return "；".join(
        f"{DETAIL_LABELS.get(key, key)}：{_value(value)}" for key, value in sorted(detail.items())
    )
