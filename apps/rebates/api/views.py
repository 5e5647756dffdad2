"""Rebates API (staff): agreements and their statements."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.api.permissions import StaffModelPermissions, require_perms

from .. import selectors, services
from ..models import RebateAgreement
from .serializers import RebateAgreementSerializer, RebateStatementSerializer, StatementQuerySerializer


class RebateAgreementListCreateView(generics.ListCreateAPIView):
    """Supplier rebate agreements with their tiers; POST creates one with tiers nested."""

    serializer_class = RebateAgreementSerializer
    permission_classes = [StaffModelPermissions]
    filterset_fields = ["supplier", "is_active", "mode"]

    def get_queryset(self) -> QuerySet[RebateAgreement]:
        return selectors.rebate_agreement_list()

    def create(self, request: Request, *args, **kwargs) -> Response:
        data = RebateAgreementSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        tiers = [services.TierInput(t["threshold"], t["rate_percent"]) for t in v.pop("tiers")]
        agreement = services.rebate_agreement_create(tiers=tiers, **v)
        agreement = selectors.rebate_agreement_list().get(pk=agreement.pk)
        return Response(RebateAgreementSerializer(agreement).data, status=status.HTTP_201_CREATED)


class RebateAgreementDetailView(generics.RetrieveAPIView):
    """One agreement with its tiers and scope."""

    serializer_class = RebateAgreementSerializer
    permission_classes = [StaffModelPermissions]

    def get_queryset(self) -> QuerySet[RebateAgreement]:
        return selectors.rebate_agreement_list()


class RebateStatementView(APIView):
    permission_classes = [require_perms("rebates.view_rebateagreement")]

    @extend_schema(
        parameters=[StatementQuerySerializer],
        responses=RebateStatementSerializer,
        summary="Where an agreement stands: basis, tier reached, rebate, gap to the next tier",
    )
    def get(self, request: Request, pk: int) -> Response:
        query = StatementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        agreement = get_object_or_404(RebateAgreement, pk=pk)
        statement = selectors.rebate_statement(agreement, as_of=query.validated_data.get("as_of"))
        return Response(RebateStatementSerializer(statement).data)
