"""JWT authentication: simplejwt's, with the user read by one raw primary-key SELECT.

Every authenticated request reads its user. One hand-written `SELECT … WHERE id = %s` read into a
full User (shop.db, with the ORM's converters) costs well under half the CPU of
`User.objects.get(id=…)`, whose query Django builds anew on each call; the checks are simplejwt's.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import get_md5_hash_password

from shop.db import instance_from_row, select_columns


def user_by_id(user_id: Any) -> Any:
    """The user with primary key `user_id`, or None (one raw statement)."""
    User = get_user_model()
    try:
        key = User._meta.pk.to_python(user_id)
    except Exception:  # a claim of the wrong type names no user
        return None
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {select_columns(User, 'u')} FROM {quote(User._meta.db_table)} u "
        f"WHERE u.{quote(User._meta.pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
    return None if row is None else instance_from_row(User, row)


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's `JWTAuthentication`; only the user lookup differs (see the module docstring)."""

    def get_user(self, validated_token: Token) -> Any:
        if api_settings.USER_ID_FIELD != get_user_model()._meta.pk.name:
            return super().get_user(validated_token)
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        user = user_by_id(user_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return user


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of simplejwt, for this subclass (drf-spectacular matches exact classes)."""

    target_class = "shop.api.authentication.JWTAuthentication"
