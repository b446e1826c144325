"""The Alibaba Cloud SMS backend against a local fake server that checks the request signature independently."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from claims.models import Notification
from claims.notifications import services as notify
from claims.notifications.backends import AliyunSmsBackend, SmsMessage, SmsPermanentError, SmsTransientError
from tests.factories import submit_claim

SECRET = "testsecret"


def expected_signature(params: dict[str, str]) -> str:
    """The provider's documented procedure, written out separately from the code under test."""

    def enc(value: str) -> str:
        return urllib.parse.quote(value, safe="~").replace("+", "%20").replace("*", "%2A")

    query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()) if k != "Signature")
    string_to_sign = "POST&" + enc("/") + "&" + enc(query)
    digest = hmac.new((SECRET + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class FakeDysms(BaseHTTPRequestHandler):
    answers: list = []
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        params = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        self.received.append(params)
        status, answer = self.answers.pop(0) if self.answers else (200, None)
        if answer is None:
            ok = params.get("Signature") == expected_signature(params)
            answer = (
                {"Code": "OK", "Message": "OK", "BizId": "biz-1", "RequestId": "r1"}
                if ok
                else {"Code": "SignatureDoesNotMatch", "Message": "bad signature"}
            )
            status = 200 if ok else 400
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_dysms(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeDysms)
    FakeDysms.answers, FakeDysms.received = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.ALIYUN_SMS_ACCESS_KEY_ID = "testid"
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = SECRET
    settings.ALIYUN_SMS_SIGN_NAME = "汾阳市商务局"
    settings.ALIYUN_SMS_TEMPLATE_CODE = "SMS_0001"
    settings.ALIYUN_SMS_TEMPLATE_CODES = {"paid": "SMS_0002"}
    settings.ALIYUN_SMS_ENDPOINT = f"http://127.0.0.1:{server.server_port}/"
    settings.SMS_HTTP_TIMEOUT = 5
    yield FakeDysms
    server.shutdown()
    server.server_close()


def _message(**kw) -> SmsMessage:
    return SmsMessage(
        **{
            "to": "13800138000",
            "text": "【测试】您的申请（编号 T-000001）已受理 * ~ 100%",
            "claim_number": "T-000001",
            "event": "under_review",
            "key": "1:status:1",
            "params": {"claim_number": "T-000001", "amount": "6000.00"},
            **kw,
        }
    )


def test_a_signed_send_sms_is_accepted(fake_dysms):
    assert AliyunSmsBackend().send(_message()) == "biz-1"
    params = fake_dysms.received[0]
    assert params["Action"] == "SendSms" and params["SignatureMethod"] == "HMAC-SHA1"
    assert params["PhoneNumbers"] == "13800138000" and params["SignName"] == "汾阳市商务局"
    assert params["TemplateCode"] == "SMS_0001" and params["Version"] == "2017-05-25"
    assert json.loads(params["TemplateParam"])["content"].startswith("【测试】")
    assert AliyunSmsBackend().send(_message(event="paid")) == "biz-1"
    assert fake_dysms.received[1]["TemplateCode"] == "SMS_0002"
    assert fake_dysms.received[0]["SignatureNonce"] != fake_dysms.received[1]["SignatureNonce"]


def test_a_wrong_secret_is_refused_by_the_server_as_permanent(fake_dysms, settings):
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "wrong"
    with pytest.raises(SmsPermanentError, match="SignatureDoesNotMatch"):
        AliyunSmsBackend().send(_message())


@pytest.mark.parametrize(
    "answer, error",
    [
        ((500, {"Code": "InternalError"}), SmsTransientError),
        ((200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发流控"}), SmsTransientError),
        ((200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}), SmsPermanentError),
    ],
)
def test_provider_errors_are_transient_or_permanent(fake_dysms, answer, error):
    fake_dysms.answers.append(answer)
    with pytest.raises(error):
        AliyunSmsBackend().send(_message())


def test_an_unreachable_endpoint_is_transient(settings, fake_dysms):
    settings.ALIYUN_SMS_ENDPOINT = "http://127.0.0.1:9/"
    with pytest.raises(SmsTransientError):
        AliyunSmsBackend().send(_message())


def test_the_outbox_sends_through_the_provider(fake_dysms, settings, program):
    settings.SMS_BACKEND = "claims.notifications.backends.AliyunSmsBackend"
    claim = submit_claim(program)
    row = Notification.objects.get(claim=claim)
    Notification.objects.filter(pk=row.pk).update(status="pending", sent_at=None)
    assert notify.notification_send(row.pk) == "sent"
    row.refresh_from_db()
    assert row.provider_reference == "biz-1"
    assert fake_dysms.received[-1]["OutId"] == row.key
    fake_dysms.answers.append((200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}))
    Notification.objects.filter(pk=row.pk).update(status="pending", sent_at=None)
    assert notify.notification_send(row.pk) == "failed"
    row.refresh_from_db()
    assert row.status == "failed" and "MOBILE_NUMBER_ILLEGAL" in row.last_error
