"""Staff roles: Django groups with model permissions (documented in docs/roles.md).

The groups are created by a data migration; their permissions are (re)synced after every
`migrate`, because each app's permissions only exist once that app has migrated.
"""

from typing import Any

ROLE_PERMISSIONS: dict[str, dict[str, list[str]]] = {
    # role: {app_label: [model names]} → view/add/change/delete on each
    "catalog_manager": {
        "catalog": ["category", "brand", "product", "variant", "productimage"],
    },
    "inventory_clerk": {
        "inventory": ["location", "stocklevel", "stockmovement", "reservation", "reorderalert"],
        "purchasing": [
            "supplier",
            "supplierproduct",
            "purchaseorder",
            "purchaseorderline",
            "purchaseorderreceipt",
        ],
        "rebates": ["rebateagreement", "rebatetier", "rebateaccrual"],
    },
    "marketing": {
        "exposure": ["exposurepin", "exposureexperiment", "exposurevariant", "productranking"],
        "engagement": ["productengagementdaily", "customerengagementdaily"],
    },
    "customer_support": {
        "orders": ["order", "orderline", "orderdiscount", "orderevent", "shipment"],
        "payments": ["payment", "paymentnotification"],
    },
}
# Read-only extras: a role sees what it needs to do its job without changing it.
ROLE_VIEW_ONLY: dict[str, dict[str, list[str]]] = {
    "catalog_manager": {"inventory": ["stocklevel", "location"]},
    "inventory_clerk": {"catalog": ["product", "variant", "category", "brand"]},
    "marketing": {"catalog": ["product", "variant", "category", "brand"]},
    "customer_support": {
        "catalog": ["product", "variant"],
        "accounts": ["user"],
        "orders": ["cart", "cartline"],
    },
}
ROLES = tuple(ROLE_PERMISSIONS)


def roles_sync() -> None:
    """Give every role group exactly the permissions listed above (those that exist yet)."""
    from django.contrib.auth.models import Group, Permission

    # Read once for all roles (it also runs before every transactional test, tests/conftest.py).
    existing = {
        (p.content_type.app_label, p.codename): p for p in Permission.objects.select_related("content_type")
    }
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted: set[tuple[str, str]] = set()
        for app_label, models in ROLE_PERMISSIONS[role].items():
            for model in models:
                wanted |= {(app_label, f"{action}_{model}") for action in ("view", "add", "change", "delete")}
        for app_label, models in ROLE_VIEW_ONLY.get(role, {}).items():
            wanted |= {(app_label, f"view_{model}") for model in models}
        group.permissions.set([existing[natural_key] for natural_key in wanted if natural_key in existing])


def roles_sync_after_migrate(sender: Any, **kwargs: Any) -> None:
    """Sync once per `migrate`, after the last app's permissions have been created.

    `flush` also sends post_migrate, but without a plan; it is skipped so that a flushed database stays
    empty (Django's serialized test rollback re-inserts the groups itself).
    """
    from django.apps import apps

    if "plan" in kwargs and sender is list(apps.get_app_configs())[-1]:
        roles_sync()
