"""Unique slugs derived from names."""

from django.db import models
from django.utils.text import slugify


def unique_slug(
    model: type[models.Model], name: str, *, max_length: int, exclude_pk: int | None = None
) -> str:
    """`name` slugified; `-2`, `-3`, … appended while the slug is taken by another row."""
    base = (slugify(name) or "item")[: max_length - 8].strip("-") or "item"
    taken_qs = model._default_manager.filter(slug__startswith=base)
    if exclude_pk is not None:
        taken_qs = taken_qs.exclude(pk=exclude_pk)
    taken = set(taken_qs.values_list("slug", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
