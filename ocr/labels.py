"""The printed words of the claim documents: every label and every piece of form furniture, defined once.

A reader never takes one of these for a value: a name candidate that is, contains, or nearly is (an OCR misread
of) a vocabulary entry is dropped.  ``FIELD_LABELS`` gives each field the label printed for it on its document,
for the review page.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

from django.utils.translation import gettext_lazy as _

__all__ = [
    "FIELD_LABELS",
    "VOCABULARY",
    "clean",
    "is_furniture",
    "is_label_text",
    "label_similarity",
    "starts_with_label",
]

# 机动车销售统一发票: the 2015 paper form, the fully digital form and their furniture.
INVOICE_WORDS = (
    "机动车销售统一发票",
    "电子发票",
    "发票联",
    "抵扣联",
    "记账联",
    "第一联",
    "第二联",
    "第三联",
    "购货单位付款凭证",
    "发票代码",
    "发票号码",
    "开票日期",
    "机打代码",
    "机打号码",
    "机器编号",
    "税控码",
    "密码区",
    "购买方名称及身份证号码/组织机构代码",
    "购买方名称",
    "购买方信息",
    "销售方信息",
    "购买方",
    "销售方",
    "名称",
    "身份证号码/组织机构代码",
    "身份证号码",
    "组织机构代码",
    "纳税人识别号",
    "统一社会信用代码",
    "统一社会信用代码/纳税人识别号/身份证号码",
    "统一社会信用代码/纳税人识别号",
    "纳税人识别号/统一社会信用代码/身份证号码",
    "纳税人识别号/统一社会信用代码",
    "车辆类型",
    "厂牌型号",
    "产地",
    "合格证号",
    "进口证明书号",
    "商检单号",
    "发动机号码",
    "车辆识别代号/车架号码",
    "车辆识别代号",
    "车架号码",
    "价税合计",
    "大写",
    "小写",
    "人民币",
    "销货单位名称",
    "销货单位",
    "电话",
    "账号",
    "地址",
    "开户银行",
    "增值税税率或征收率",
    "增值税税率",
    "或征收率",
    "税率/征收率",
    "征收率",
    "增值税税额",
    "税额",
    "主管税务机关及代码",
    "主管税务机关",
    "不含税价",
    "完税凭证号码",
    "吨位",
    "限乘人数",
    "销货单位盖章",
    "销货单位(章)",
    "开票人",
    "备注",
    "手写无效",
    "一车一票",
    "项目名称",
    "规格型号",
    "单位",
    "数量",
    "单价",
    "金额",
    "合计",
    "发票专用章",
    "全国统一发票监制",
    "国家税务总局",
    "税务局",
    "下载次数",
    "机动车",
    "轿车",
)
ID_CARD_WORDS = (
    "姓名",
    "性别",
    "民族",
    "出生",
    "住址",
    "公民身份号码",
    "中华人民共和国",
    "居民身份证",
    "签发机关",
    "有效期限",
    "长期",
)
LICENSE_WORDS = (
    "中华人民共和国机动车行驶证",
    "机动车行驶证",
    "号牌号码",
    "所有人",
    "使用性质",
    "品牌型号",
    "注册日期",
    "发证日期",
    "非营运",
    "营运",
    "小型轿车",
    "交通警察",
)
POS_WORDS = (
    "中国银联",
    "签购单",
    "商户存根",
    "持卡人存根",
    "商户名称",
    "商户编号",
    "终端编号",
    "卡号",
    "交易类型",
    "消费",
    "批次号",
    "凭证号",
    "日期/时间",
    "持卡人签名",
    "参考号",
    "授权码",
)
VOCABULARY: tuple[str, ...] = tuple(dict.fromkeys(INVOICE_WORDS + ID_CARD_WORDS + LICENSE_WORDS + POS_WORDS))

_PUNCT_RE = re.compile(r"[\s:：()（）\[\]【】/／\\|·•・.,，。;；_\-—*＊⊗]")


def clean(text: str) -> str:
    """NFKC, without spaces and punctuation: the form in which labels are compared."""
    return _PUNCT_RE.sub("", unicodedata.normalize("NFKC", text or ""))


_CLEAN_VOCABULARY = tuple(sorted({clean(word) for word in VOCABULARY if len(clean(word)) >= 2}, key=len))
_VOCABULARY_SET = frozenset(_CLEAN_VOCABULARY)
_SIMILARITY_CACHE: dict[str, float] = {}


def label_similarity(text: str) -> float:
    """How nearly ``text`` is one vocabulary entry (1.0: exactly), after cleaning."""
    t = clean(text)
    if not t:
        return 0.0
    if t in _VOCABULARY_SET:
        return 1.0
    cached = _SIMILARITY_CACHE.get(t)
    if cached is not None:
        return cached
    best = 0.0
    chars = set(t)
    for word in _CLEAN_VOCABULARY:
        if abs(len(word) - len(t)) <= max(2, len(word) // 3) and chars & set(word):
            matcher = difflib.SequenceMatcher(None, word, t)
            if matcher.quick_ratio() > best:
                best = max(best, matcher.ratio())
    if len(_SIMILARITY_CACHE) < 10_000:
        _SIMILARITY_CACHE[t] = best
    return best


def is_label_text(text: str) -> bool:
    """The whole text is a label or furniture (possibly misread, possibly with its colon)."""
    t = clean(text)
    return bool(t) and (label_similarity(t) >= (1.0 if len(t) <= 2 else 0.75))


def starts_with_label(text: str) -> str | None:
    """The vocabulary entry ``text`` begins with (its own label: 名称：…, 电话 0358…), if any."""
    t = clean(text)
    for word in reversed(_CLEAN_VOCABULARY):  # longest first
        if t.startswith(word):
            return word
    return None


def is_furniture(text: str) -> bool:
    """``text`` is, contains, or nearly is printed form text: never a value such as a name."""
    t = clean(text)
    if not t:
        return True
    if any(word in t for word in _CLEAN_VOCABULARY):
        return True
    # a fragment of a longer label (纳税人识 of 纳税人识别号, 购货单位 of 购货单位付款凭证)
    if any(t in word for word in _CLEAN_VOCABULARY if len(word) > len(t)):
        return True
    return label_similarity(t) >= 0.7


# The label printed for each field on its document (the review page shows these).
FIELD_LABELS: dict[str, str] = {
    "invoice_code": _("发票代码"),
    "invoice_number": _("发票号码"),
    "invoice_date": _("开票日期"),
    "buyer_name": _("购买方名称"),
    "buyer_id_number": _("购买方身份证号码/组织机构代码"),
    "vin": _("车辆识别代号/车架号码"),
    "amount_words": _("价税合计（大写）"),
    "amount_figures": _("价税合计（小写）"),
    "net_amount": _("不含税价"),
    "tax_amount": _("增值税税额"),
    "tax_rate": _("增值税税率或征收率"),
    "seller_name": _("销货单位名称"),
    "seller_credit_code": _("销货单位纳税人识别号"),
    "plate_number": _("号牌号码"),
    "owner": _("所有人"),
    "register_date": _("注册日期"),
    "issue_date": _("发证日期"),
    "name": _("姓名"),
    "id_number": _("公民身份号码"),
    "issuer": _("签发机关"),
    "valid_from": _("有效期限（起）"),
    "valid_until": _("有效期限（止）"),
    "amount": _("金额"),
    "date": _("交易日期"),
}


# How sure a reading is, in words (the review page shows these rather than numbers).
CONFIDENCE_WORDS: dict[str, str] = {
    "confident": _("已核验"),
    "unsure": _("未核验，需人工核对"),
    "missing": _("未识别"),
}


def confidence_words(value, confident: bool | None) -> str:
    if value in (None, ""):
        return CONFIDENCE_WORDS["missing"]
    return CONFIDENCE_WORDS["confident" if confident else "unsure"]
