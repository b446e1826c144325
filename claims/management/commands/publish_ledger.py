from django.core.management.base import BaseCommand, CommandError

from claims.ledger.services import ledger_publish
from claims.models import Program


class Command(BaseCommand):
    help = "Publish the claims approved or paid since the program's last ledger publication (prints seq and sha256)."

    def add_arguments(self, parser):
        parser.add_argument("code")

    def handle(self, *args, code: str, **options):
        if not Program.objects.filter(code=code).exists():
            raise CommandError(f"no program with code {code!r}")
        publication = ledger_publish(code)
        if publication is not None:
            self.stdout.write(f"seq {publication.seq} sha256 {publication.sha256}")
