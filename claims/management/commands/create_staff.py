from django.core.management.base import BaseCommand, CommandError

from claims.accounts.roles import ROLES
from claims.accounts.services import staff_create
from claims.errors import ServiceError


class Command(BaseCommand):
    help = "Create a staff account with a role (or update an existing one's role and password)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--password", required=True)
        parser.add_argument("--dealer-credit-code", default="", help="the seller a dealer account speaks for")

    def handle(self, *args, username: str, role: str, password: str, dealer_credit_code: str = "", **options):
        try:
            staff_create(username, role, password, dealer_credit_code=dealer_credit_code)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"staff user {username} has role {role}")
