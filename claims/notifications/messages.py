"""What the SMS says: the default Chinese templates per event, a program's overrides, and rendering.

A program file may override any template with the optional key `sms_templates` (`{event: text}`, see
docs/programs.md). Templates use `{name}` placeholders from `PLACEHOLDERS`. Whatever a template or a reviewer's
reason contains, a rendered message never carries a long run of digits: anything that could be an ID or card
number in the values filled in is masked before the message is stored.
"""

from __future__ import annotations

import re
import string
from typing import Any

from django.utils.translation import gettext_lazy as _

# --- Events -----------------------------------------------------------------------------------------------------
# A status change is told by the status it reaches, except where the way it got there matters to the applicant.
EVENT_PROMOTED = "promoted"  # waitlisted -> under_review
EVENT_CORRECTED = "corrected"  # returned -> under_review
EVENT_APPEAL_UPHELD = "appeal_upheld"  # appealed -> under_review or waitlisted
EVENT_APPEAL_DISMISSED = "appeal_dismissed"  # appealed -> rejected
EVENT_REMINDER_CORRECTION = "reminder_correction"
EVENT_REMINDER_BANK_DETAILS = "reminder_bank_details"
EVENT_CLAIM_NUMBER = "claim_number"  # the applicant asked for their claim number

HEAD = "【{program}】您的购车补贴申请（编号 {claim_number}）"
DEFAULT_TEMPLATES: dict[str, Any] = {
    "under_review": _(HEAD + "已受理，补贴金额 {amount} 元，正在审核中。"),
    "waitlisted": _(
        HEAD + "已受理。因补贴资金暂时不足进入候补，当前排第 {position} 位，有资金释放时按受理顺序转入审核。"
    ),
    EVENT_PROMOTED: _(HEAD + "已由候补转入审核，补贴金额 {amount} 元。"),
    EVENT_CORRECTED: _(HEAD + "补正材料已收到，已按原受理顺序重新进入审核。"),
    "returned": _(
        HEAD + "需要补正：{reason}。请于 {deadline} 前在“我的申请”页面补正，逾期未补正申请将失效。"
    ),
    "approved": _(HEAD + "已审核通过，补贴 {amount} 元将发放至您尾号 {card_last4} 的银行卡。"),
    "paid": _(HEAD + "的补贴 {amount} 元已发放至您尾号 {card_last4} 的银行卡，请注意查收。"),
    "payout_failed": _(
        HEAD + "补贴发放失败：{reason}。请于 {deadline} 前在“我的申请”页面提交新的银行卡信息。"
    ),
    "rejected": _(HEAD + "未通过审核：{reason}。如有异议，可于 {deadline} 前在“我的申请”页面提出申诉。"),
    "withdrawn": _(HEAD + "已撤回。"),
    "expired": _(HEAD + "已失效：{reason}。"),
    "appealed": _(HEAD + "的申诉已收到，将由另一名审核员复核，结果将短信通知您。"),
    EVENT_APPEAL_UPHELD: _(HEAD + "申诉成立，已按原受理顺序恢复办理，当前状态：{status}。"),
    EVENT_APPEAL_DISMISSED: _(HEAD + "申诉经复核不成立，维持不通过决定：{reason}。"),
    "unfunded": _(HEAD + "：活动已结束，补贴资金已发放完毕，您的候补申请未获补贴。"),
    EVENT_REMINDER_CORRECTION: _(
        HEAD + "的补正期限为 {deadline}，还剩 3 天，请尽快在“我的申请”页面补正，逾期申请将失效。"
    ),
    EVENT_REMINDER_BANK_DETAILS: _(
        HEAD + "补贴发放失败，提交新银行卡信息的期限为 {deadline}，还剩 3 天，逾期申请将失效。"
    ),
    EVENT_CLAIM_NUMBER: _("【{program}】您的购车补贴申请编号为 {claim_number}。如非本人操作，请忽略本短信。"),
}
EVENTS: tuple[str, ...] = tuple(DEFAULT_TEMPLATES)

PLACEHOLDERS: dict[str, Any] = {
    "program": _("项目名称"),
    "claim_number": _("申请编号"),
    "status": _("当前状态"),
    "amount": _("补贴金额（元）"),
    "reason": _("原因"),
    "deadline": _("期限（日期）"),
    "position": _("候补位次"),
    "card_last4": _("银行卡尾号"),
}

MAX_TEMPLATE_LENGTH = 300
# Eight or more digits in a row (an ID number, a card number, a phone): keep the first 3 and last 4.
_LONG_DIGITS = re.compile(r"\d{8,}[\dXx]?")


class TemplateError(ValueError):
    def __init__(self, key: str, message: Any):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = str(message)


def _mask_digits(match: re.Match) -> str:
    value = match.group(0)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def scrub(text: str) -> str:
    """Mask anything in `text` that could be a full ID, card or phone number."""
    return _LONG_DIGITS.sub(_mask_digits, text)


def _fields(template: str) -> list[str]:
    return [name for _text, name, _spec, _conv in string.Formatter().parse(template) if name is not None]


def templates_validate(value: Any) -> dict[str, str]:
    """The `sms_templates` key of a program file: `{event: template}`; raises TemplateError naming the key."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TemplateError("sms_templates", _("必须是以事件名为键、短信模板为值的对象"))
    result: dict[str, str] = {}
    for event, template in value.items():
        key = f"sms_templates.{event}"
        if event not in DEFAULT_TEMPLATES:
            raise TemplateError(key, _("未知的事件，可选：%(e)s") % {"e": "、".join(EVENTS)})
        if not isinstance(template, str) or not template.strip():
            raise TemplateError(key, _("必须是非空字符串"))
        if len(template) > MAX_TEMPLATE_LENGTH:
            raise TemplateError(key, _("过长（最多 %(n)d 个字符）") % {"n": MAX_TEMPLATE_LENGTH})
        try:
            names = _fields(template)
        except ValueError:
            raise TemplateError(key, _("花括号不成对")) from None
        unknown = [n for n in names if n not in PLACEHOLDERS]
        if unknown:
            raise TemplateError(
                key,
                _("未知的占位符 {%(n)s}，可用：%(p)s") % {"n": unknown[0], "p": "、".join(PLACEHOLDERS)},
            )
        result[event] = template.strip()
    return result


def template_for(program_source: dict | None, event: str) -> str:
    overrides = (program_source or {}).get("sms_templates") or {}
    template = overrides.get(event) if isinstance(overrides, dict) else None
    return template if isinstance(template, str) and template.strip() else str(DEFAULT_TEMPLATES[event])


def message_render(program_source: dict | None, event: str, params: dict[str, str]) -> str:
    """The message text for `event` with `params`; missing values render empty, values' digits are scrubbed."""
    values = {name: str(params.get(name, "") or "") for name in PLACEHOLDERS}
    # Free text (a reviewer's reason) may hold anything; the claim number is ours and stays whole.
    values = {name: v if name == "claim_number" else scrub(v) for name, v in values.items()}
    try:
        text = template_for(program_source, event).format(**values)
    except (KeyError, IndexError, ValueError):  # a template stored before validation existed
        text = str(DEFAULT_TEMPLATES[event]).format(**values)
    return text
