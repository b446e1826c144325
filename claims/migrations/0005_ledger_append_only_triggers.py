"""On PostgreSQL, the ledger publications and their lines refuse UPDATE and DELETE in the database itself."""

from django.db import migrations

TABLES = ("claims_ledgerpublication", "claims_ledgerline")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
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


class Migration(migrations.Migration):
    dependencies = [("claims", "0004_ledger_publications_dealer_sales_fingerprints")]

    operations = [migrations.RunPython(forwards, backwards)]
