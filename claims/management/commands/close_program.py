from django.core.management.base import BaseCommand, CommandError

from claims.errors import ServiceError
from claims.programs.closeout import program_close


class Command(BaseCommand):
    help = "Close a program now: it takes no more claims and every waitlisted claim becomes unfunded."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--reason", default="")

    def handle(self, *args, code: str, reason: str, **options):
        try:
            result = program_close(code, reason=reason)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        state = "closed" if result.closed_now else "was already closed"
        self.stdout.write(f"program {result.program} {state}")
        self.stdout.write(f"unfunded {len(result.unfunded)}")
