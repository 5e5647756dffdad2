"""Create a local admin account the first time (never in production); print its password once."""

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User


class Command(BaseCommand):
    help = "Create a local superuser if none exists and print its generated credentials once."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@example.com")

    def handle(self, *args, email: str, **options):
        if settings.SETTINGS_MODULE.endswith("production"):
            raise CommandError("bootstrap_admin is for local development; use createsuperuser in production.")
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("An admin account already exists; nothing to do.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(email=email, password=password, first_name="Local", last_name="Admin")
        bar = "=" * 64
        self.stdout.write(
            self.style.SUCCESS(
                f"{bar}\n Local admin created (shown only this once)\n"
                f"   e-mail:   {email}\n   password: {password}\n"
                f"   log in at http://localhost:8000/admin/\n{bar}"
            )
        )
