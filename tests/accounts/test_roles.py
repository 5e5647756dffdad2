"""Staff roles are groups created by migration, with permissions synced after every migrate."""

import pytest
from django.contrib.auth.models import Group

from apps.accounts.roles import ROLES, roles_sync
from tests.factories.accounts import StaffFactory

pytestmark = pytest.mark.django_db


def codes(group: Group) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_the_four_role_groups_exist():
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)
    assert set(ROLES) == {"catalog_manager", "inventory_clerk", "marketing", "customer_support"}


def test_catalog_manager_manages_catalog_but_only_reads_stock():
    roles_sync()
    perms = codes(Group.objects.get(name="catalog_manager"))
    assert {"catalog.add_product", "catalog.change_variant", "catalog.delete_brand"} <= perms
    assert "inventory.view_stocklevel" in perms
    assert "inventory.change_stocklevel" not in perms
    assert not any(p.startswith("orders.") for p in perms)


def test_inventory_clerk_manages_stock_not_catalog():
    roles_sync()
    perms = codes(Group.objects.get(name="inventory_clerk"))
    assert {"inventory.add_stockmovement", "inventory.change_stocklevel"} <= perms
    assert "catalog.view_product" in perms
    assert "catalog.change_product" not in perms


def test_role_membership_grants_permissions_to_a_staff_user():
    roles_sync()
    clerk = StaffFactory(roles=["inventory_clerk"])
    assert clerk.has_perm("inventory.change_stocklevel")
    assert not clerk.has_perm("catalog.change_product")


def test_sync_is_idempotent():
    roles_sync()
    before = {g.name: codes(g) for g in Group.objects.filter(name__in=ROLES)}
    roles_sync()
    assert {g.name: codes(g) for g in Group.objects.filter(name__in=ROLES)} == before
