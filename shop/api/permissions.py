"""Permission classes shared by every app's API."""

from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView


class IsStaff(permissions.BasePermission):
    """Staff users only (back-office operations)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Staff with the model permission for the method (roles are groups, see docs/roles.md).

    Unlike DRF's default, reads also need `view_<model>` so a role without it sees nothing.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not (request.user and request.user.is_authenticated and request.user.is_staff):
            return False
        return super().has_permission(request, view)


class PublicReadStaffWrite(StaffModelPermissions):
    """Anyone may read; writes need staff with the model permission."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return super().has_permission(request, view)


def require_perms(*perms: str) -> type[permissions.BasePermission]:
    """Permission class for action endpoints: staff holding every permission listed."""

    class _RequirePerms(permissions.BasePermission):
        def has_permission(self, request: Request, view: APIView) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and user.is_staff and user.has_perms(perms))

    _RequirePerms.__name__ = "Require_" + "_".join(p.replace(".", "_") for p in perms)
    return _RequirePerms
