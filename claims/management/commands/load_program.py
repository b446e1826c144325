from django.core.management.base import BaseCommand, CommandError

from claims.programs.services import ProgramFileError, program_load, program_parse_file


class Command(BaseCommand):
    help = "Create a program from a JSON file, or update it when its code exists (see docs/programs.md)."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file: str, **options):
        try:
            spec = program_parse_file(file)
            program, created = program_load(spec)
        except ProgramFileError as exc:
            raise CommandError(f"refused, nothing written: {exc.message}") from None
        verb = "created" if created else "updated"
        self.stdout.write(
            f"{verb} program {program.code}: budget {program.budget_total:.2f}, "
            f"{program.tiers.count()} tiers, claims {program.claim_window_start}..{program.claim_window_end}"
        )
