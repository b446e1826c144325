import sys

from django.core.management.base import BaseCommand, CommandError

from claims.models import Program
from claims.programs.budget import budget_recompute


class Command(BaseCommand):
    help = "Recompute a program's budget from its claims and its ledger; exit 1 on any difference."

    def add_arguments(self, parser):
        parser.add_argument("code")

    def handle(self, *args, code: str, **options):
        program = Program.objects.filter(code=code).first()
        if program is None:
            raise CommandError(f"no program with code {code!r}")
        r = budget_recompute(program)
        self.stdout.write(f"program        {r.program}")
        self.stdout.write(f"budget_total   {r.total:.2f}")
        self.stdout.write(
            f"reserved       {r.reserved:.2f}  (claims {r.claims_reserved:.2f}, ledger {r.ledger_reserved:.2f})"
        )
        self.stdout.write(
            f"paid           {r.paid:.2f}  (claims {r.claims_paid:.2f}, ledger {r.ledger_paid:.2f})"
        )
        self.stdout.write(f"available      {r.total - r.reserved - r.paid:.2f}")
        if r.ok:
            self.stdout.write("OK: program, claims and ledger agree")
            return
        for problem in r.problems:
            self.stderr.write(f"DIFFERENCE: {problem}")
        sys.exit(1)
