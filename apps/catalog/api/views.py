"""Catalog HTTP API: public reads, staff writes (catalog_manager role). Views stay thin."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog import selectors, services
from apps.catalog.cache import cached_public_read
from apps.catalog.models import Brand, Category, Product
from shop.api.permissions import PublicReadStaffWrite, require_perms

from .serializers import (
    BrandInputSerializer,
    BrandSerializer,
    CategoryInputSerializer,
    CategorySerializer,
    ProductImageCreatedSerializer,
    ProductImageInputSerializer,
    ProductInputSerializer,
    ProductListQuerySerializer,
    ProductPatchSerializer,
    ProductSerializer,
    StaffProductSerializer,
)


def _is_catalog_staff(request: Request, perm: str) -> bool:
    user = request.user
    return bool(user and user.is_authenticated and user.is_staff and user.has_perm(perm))


def _product_serializer(request: Request) -> type[ProductSerializer]:
    return StaffProductSerializer if _is_catalog_staff(request, "catalog.view_variant") else ProductSerializer


def _sees_inactive(request: Request) -> bool:
    return _is_catalog_staff(request, "catalog.view_product")


def _variant_inputs(rows: list[dict[str, Any]]) -> list[services.VariantInput]:
    return [services.VariantInput(**row) for row in rows]


class CategoryListCreateView(generics.GenericAPIView):
    """Categories (public); staff with the catalog role create them."""

    permission_classes = [PublicReadStaffWrite]
    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[Category]:
        return selectors.category_list()

    @extend_schema(responses=CategorySerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CategorySerializer(page, many=True).data)

    @extend_schema(request=CategoryInputSerializer, responses={201: CategorySerializer})
    def post(self, request: Request) -> Response:
        data = CategoryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.category_create(
            name=data.validated_data["name"], parent_id=data.validated_data["parent"]
        )
        return Response(CategorySerializer(category).data, status=status.HTTP_201_CREATED)


class BrandListCreateView(generics.GenericAPIView):
    """Brands (public); staff with the catalog role create them."""

    permission_classes = [PublicReadStaffWrite]
    queryset = Brand.objects.all()
    serializer_class = BrandSerializer
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[Brand]:
        return selectors.brand_list()

    @extend_schema(responses=BrandSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(BrandSerializer(page, many=True).data)

    @extend_schema(request=BrandInputSerializer, responses={201: BrandSerializer})
    def post(self, request: Request) -> Response:
        data = BrandInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        brand = services.brand_create(name=data.validated_data["name"])
        return Response(BrandSerializer(brand).data, status=status.HTTP_201_CREATED)


class ProductListCreateView(generics.GenericAPIView):
    """Products: anyone lists active ones; staff with the catalog role create them."""

    permission_classes = [PublicReadStaffWrite]
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    filter_backends: list = []

    @extend_schema(parameters=[ProductListQuerySerializer], responses=ProductSerializer(many=True))
    def get(self, request: Request) -> Response:
        staff_view = _sees_inactive(request) or _is_catalog_staff(request, "catalog.view_variant")

        def render() -> dict[str, Any]:
            # Validated only when the page is built: a cache hit skips it, and a 400 is never cached.
            query = ProductListQuerySerializer(data=request.query_params)
            query.is_valid(raise_exception=True)
            f = query.validated_data
            products = selectors.product_list(
                search=(f.get("search") or "").strip() or None,
                category_id=f.get("category"),
                brand_id=f.get("brand"),
                min_price=f.get("min_price"),
                max_price=f.get("max_price"),
                in_stock=f["in_stock"],
                ordering=f.get("ordering"),
                include_inactive=_sees_inactive(request),
            )
            page = self.paginate_queryset(products)
            serializer = _product_serializer(request)(page, many=True, context={"request": request})
            return self.get_paginated_response(serializer.data).data

        if staff_view:  # fresh data (and cost) for the back office: never cached
            return Response(render())
        # Storefront traffic: the same page for every public viewer, cached per catalog version.
        key = ("list", request.get_host(), request.get_full_path())
        return Response(cached_public_read(key, render))

    @extend_schema(request=ProductInputSerializer, responses={201: StaffProductSerializer})
    def post(self, request: Request) -> Response:
        data = ProductInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        product = services.product_create(
            name=v["name"],
            description=v["description"],
            category_id=v["category"],
            brand_id=v["brand"],
            is_active=v["is_active"],
            variants=_variant_inputs(v["variants"]),
        )
        product = selectors.product_get(product_id=product.pk, include_inactive=True)
        body = _product_serializer(request)(product, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ProductDetailView(generics.GenericAPIView):
    """One product: public read (active only), staff change and delete."""

    permission_classes = [PublicReadStaffWrite]
    queryset = Product.objects.all()
    serializer_class = ProductSerializer

    def _render(self, request: Request, product_id: int) -> dict[str, Any]:
        product = selectors.product_get(product_id=product_id, include_inactive=_sees_inactive(request))
        return _product_serializer(request)(product, context={"request": request}).data

    def get(self, request: Request, pk: int) -> Response:
        if _sees_inactive(request) or _is_catalog_staff(request, "catalog.view_variant"):
            return Response(self._render(request, pk))
        key = ("detail", request.get_host(), pk)
        return Response(cached_public_read(key, lambda: self._render(request, pk)))

    @extend_schema(request=ProductPatchSerializer, responses=StaffProductSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        product = selectors.product_for_update(product_id=pk)
        data = ProductPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        changes: dict[str, Any] = {key: v[key] for key in ("name", "description", "is_active") if key in v}
        if "category" in v:
            changes["category_id"] = v["category"]
        if "brand" in v:
            changes["brand_id"] = v["brand"]
        if "variants" in v:
            changes["variants"] = _variant_inputs(v["variants"])
        services.product_update(product=product, **changes)
        return Response(self._render(request, pk))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.product_delete(product=selectors.product_for_update(product_id=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductImageCreateView(APIView):
    """Upload an image for a product (multipart; staff with the catalog role)."""

    permission_classes = [require_perms("catalog.add_productimage")]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=ProductImageInputSerializer, responses={201: ProductImageCreatedSerializer})
    def post(self, request: Request, pk: int) -> Response:
        product = selectors.product_for_update(product_id=pk)
        data = ProductImageInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        image = services.product_image_add(
            product=product,
            image=data.validated_data["image"],
            alt=data.validated_data["alt"],
            position=data.validated_data["position"],
        )
        return Response(
            ProductImageCreatedSerializer(image, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )
