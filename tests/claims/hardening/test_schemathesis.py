"""Every operation of the published API schema with generated data: never a server error.

The schema is the one /api/schema/ serves (drf-spectacular), generated here without a request; each operation is
one test, with `EXAMPLES` generated requests sent through the WSGI application. Staff operations run with a
reviewer's token, so they get past authentication into the views; the buyer-facing ones need none.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from tests.factories import make_staff, submit_claim

pytestmark = pytest.mark.django_db

EXAMPLES = 20
SCHEMA = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}


@pytest.fixture
def keep_test_connection():
    """The WSGI handler closes the connection after each request; the test's transaction must survive it (as in
    Django's own test client)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def app(db, program, settings, keep_test_connection):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    submit_claim(program)
    SCHEMA.app = get_wsgi_application()
    return SCHEMA.app


@pytest.fixture
def staff_headers(db):
    user = make_staff("schemathesis-staff", "reviewer")
    token, _created = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


def test_the_served_schema_is_the_tested_one(client):
    assert client.get("/api/schema/").status_code == 200
    assert len(OPERATIONS) > 20


def test_the_schema_is_valid_and_every_request_body_has_its_fields():
    """Schemathesis can only generate meaningful bodies from described fields: a free-form object gets junk."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    components = schema["components"]["schemas"]
    free_form = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for content_type, content in operation.get("requestBody", {}).get("content", {}).items():
                body = content["schema"]
                body = components[body["$ref"].rsplit("/", 1)[-1]] if "$ref" in body else body
                if not body.get("properties"):
                    free_form.append((method, path, content_type))
    assert free_form == []
    upload = components["UploadMultipart"]["properties"]
    assert upload["file"] == {
        "type": "string",
        "format": "binary",
        "description": upload["file"]["description"],
    }
    submission = components["ClaimSubmitMultipart"]
    assert {"program", "vin", "invoice", "invoice_upload"} <= set(submission["properties"])
    assert "invoice" not in submission["required"] and "vin" in submission["required"]


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_server_error(label, app, staff_headers):
    operation = OPERATIONS[label]

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        response = case.call(headers=staff_headers, app=app)
        case.validate_response(response, checks=[not_a_server_error])

    run()
