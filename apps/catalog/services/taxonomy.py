"""Categories and brands."""

from django.db import IntegrityError, transaction

from shop.exceptions import ValidationFailed

from ..cache import catalog_cache_bump
from ..models import Brand, Category
from ..selectors import category_subtree_ids
from .slugs import unique_slug


def _parent(parent_id: int | None) -> Category | None:
    if parent_id is None:
        return None
    parent = Category.objects.filter(pk=parent_id).first()
    if parent is None:
        raise ValidationFailed(details={"parent": [f"Unknown category {parent_id}."]})
    return parent


@transaction.atomic
def category_create(*, name: str, parent_id: int | None = None) -> Category:
    """Create a category (optionally under a parent) with a unique slug from its name."""
    name = name.strip()
    if not name:
        raise ValidationFailed(details={"name": ["This field may not be blank."]})
    parent = _parent(parent_id)
    category = Category(name=name, parent=parent, slug=unique_slug(Category, name, max_length=140))
    category.save()
    return category


@transaction.atomic
def category_update(*, category: Category, name: str | None = None, parent_id: int | None = ...) -> Category:
    """Rename or move a category; moving it under itself or one of its descendants is refused."""
    if name is not None:
        if not name.strip():
            raise ValidationFailed(details={"name": ["This field may not be blank."]})
        category.name = name.strip()
    if parent_id is not ...:
        if parent_id is not None and parent_id in category_subtree_ids(category_id=category.pk):
            raise ValidationFailed(details={"parent": ["A category cannot be moved under itself."]})
        category.parent = _parent(parent_id)
    category.save()
    catalog_cache_bump()  # moving a category changes which products a category filter returns
    return category


@transaction.atomic
def brand_create(*, name: str) -> Brand:
    """Create a brand; names are unique (case-insensitive)."""
    name = name.strip()
    if not name:
        raise ValidationFailed(details={"name": ["This field may not be blank."]})
    if Brand.objects.filter(name__iexact=name).exists():
        raise ValidationFailed(details={"name": ["A brand with this name already exists."]})
    try:
        with transaction.atomic():
            return Brand.objects.create(name=name, slug=unique_slug(Brand, name, max_length=140))
    except IntegrityError:  # a concurrent create won the race
        raise ValidationFailed(details={"name": ["A brand with this name already exists."]})


def brand_get_or_create(*, name: str) -> Brand:
    """The brand named `name` (case-insensitive), created if missing."""
    brand = Brand.objects.filter(name__iexact=name.strip()).first()
    return brand or brand_create(name=name)
