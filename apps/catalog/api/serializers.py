"""Catalog API shapes. Output serializers only read what the selectors loaded."""

from django.conf import settings
from rest_framework import serializers

from apps.catalog.models import Brand, Category, Product, ProductImage, Variant
from apps.catalog.selectors import PRODUCT_ORDERINGS

MONEY = {"max_digits": 12, "decimal_places": 2}


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent"]
        read_only_fields = fields


class CategoryInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    parent = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)


class BrandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = ["id", "name", "slug"]
        read_only_fields = fields


class BrandInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)


class VariantSerializer(serializers.ModelSerializer):
    available = serializers.IntegerField(
        read_only=True, help_text="Sellable units across sellable locations."
    )

    class Meta:
        model = Variant
        fields = ["id", "sku", "name", "price", "available"]
        read_only_fields = fields


class StaffVariantSerializer(VariantSerializer):
    """Staff with the catalog view permission also see cost and inactive variants."""

    class Meta(VariantSerializer.Meta):
        fields = [*VariantSerializer.Meta.fields, "cost", "is_active"]
        read_only_fields = fields


class ProductImageSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ["url", "alt"]
        read_only_fields = fields

    def get_url(self, obj: ProductImage) -> str:
        request = self.context.get("request")
        url = obj.image.url
        return request.build_absolute_uri(url) if request is not None else url


class ProductImageCreatedSerializer(ProductImageSerializer):
    class Meta(ProductImageSerializer.Meta):
        fields = ["id", "url", "alt", "position"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    price = serializers.DecimalField(
        read_only=True, allow_null=True, help_text="Lowest active variant price.", **MONEY
    )
    currency = serializers.SerializerMethodField()
    images = ProductImageSerializer(many=True, read_only=True)
    variants = VariantSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "category",
            "brand",
            "price",
            "currency",
            "is_active",
            "created_at",
            "images",
            "variants",
        ]
        read_only_fields = fields

    def get_currency(self, obj: Product) -> str:
        return settings.SHOP_CURRENCY


class StaffProductSerializer(ProductSerializer):
    variants = StaffVariantSerializer(many=True, read_only=True)


class VariantInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    price = serializers.DecimalField(min_value=0, **MONEY)
    cost = serializers.DecimalField(min_value=0, required=False, allow_null=True, default=None, **MONEY)
    barcode = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    attributes = serializers.DictField(required=False, default=dict)
    is_active = serializers.BooleanField(required=False, default=True)


class ProductInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.IntegerField(min_value=1)
    brand = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    is_active = serializers.BooleanField(required=False, default=True)
    variants = VariantInputSerializer(many=True, allow_empty=False)


class ProductPatchSerializer(serializers.Serializer):
    """Every field optional; `variants` are upserted by SKU."""

    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    category = serializers.IntegerField(min_value=1, required=False)
    brand = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)
    variants = VariantInputSerializer(many=True, allow_empty=False, required=False)


class ProductImageInputSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG, PNG, WebP or GIF; checked with Pillow.")
    alt = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    position = serializers.IntegerField(
        min_value=0, max_value=32767, required=False, allow_null=True, default=None
    )


class ProductListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(
        required=False, max_length=200, help_text="Full-text: name, brand, SKU, description."
    )
    category = serializers.IntegerField(required=False, min_value=1, help_text="Includes sub-categories.")
    brand = serializers.IntegerField(required=False, min_value=1)
    min_price = serializers.DecimalField(required=False, min_value=0, **MONEY)
    max_price = serializers.DecimalField(required=False, min_value=0, **MONEY)
    in_stock = serializers.BooleanField(required=False, default=False)
    ordering = serializers.ChoiceField(choices=list(PRODUCT_ORDERINGS), required=False)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, help_text="At most 100.")
