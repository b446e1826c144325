"""On PostgreSQL, the append-only tables refuse UPDATE and DELETE in the database itself, whoever connects.

The application already refuses both (claims.base.AppendOnlyModel); this is the backstop for anything that
bypasses it. TRUNCATE (used only by test teardown) is not affected.
"""

from django.db import migrations

TABLES = (
    "claims_claimevent",
    "claims_ledgerentry",
    "claims_auditlog",
    "claims_payoutresultimport",
    "claims_payoutevent",
    "claims_payoutbatchevent",
)

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION subsidy_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION subsidy_refuse_change();"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS subsidy_refuse_change();")


class Migration(migrations.Migration):
    dependencies = [("claims", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
