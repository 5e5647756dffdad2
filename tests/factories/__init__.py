"""Factories, one module per app: `from tests.factories.catalog import VariantFactory`."""
