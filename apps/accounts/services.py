"""Account writes."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from shop.exceptions import ValidationFailed

from .models import User


@transaction.atomic
def user_register(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User:
    """Create a customer account; weak passwords and taken e-mails are `invalid` (400)."""
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationFailed(
            "Invalid input.", details={"email": ["A user with this e-mail already exists."]}
        )
    candidate = User(email=email, first_name=first_name, last_name=last_name)
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        raise ValidationFailed("Invalid input.", details={"password": list(exc.messages)})
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError:  # a concurrent registration won the race
        raise ValidationFailed(
            "Invalid input.", details={"email": ["A user with this e-mail already exists."]}
        )
    return candidate
