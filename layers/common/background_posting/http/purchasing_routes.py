"""Routes: purchase orders, goods receipts, and rescheduling an invoice's verification."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from background_posting.domain.documents import Verification
from background_posting.domain.model import LazyModel
from background_posting.domain.purchasing import (
    GoodsReceiptInput,
    PurchaseOrder,
    PurchaseOrderInput,
)
from background_posting.http.claims import caller_from
from background_posting.http.document_routes import DocumentId
from background_posting.services import purchasing_service, verification_service

router = Router()

OrderId = Annotated[
    str, Path(description="Purchase order id", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
]


def _json(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@router.post(
    "/purchase-orders",
    tags=["Purchasing"],
    summary="Create a purchase order of a vendor (its lines' received and invoiced start at 0)",
)
def create_purchase_order(order: Annotated[PurchaseOrderInput, Body()]) -> Response[Any]:
    created = purchasing_service.create_order(caller_from(router.current_event), order)
    return _json(201, created.model_dump(mode="json"))


@router.get(
    "/purchase-orders/<order_id>",
    tags=["Purchasing"],
    summary="Read a purchase order: each line's received_quantity and invoiced_quantity",
)
def get_purchase_order(order_id: OrderId) -> PurchaseOrder:
    return purchasing_service.read_order(caller_from(router.current_event), order_id)


@router.post(
    "/goods-receipts",
    tags=["Purchasing"],
    summary="Record a goods receipt against a purchase order (never past the ordered quantity)",
)
def create_goods_receipt(receipt: Annotated[GoodsReceiptInput, Body()]) -> Response[Any]:
    recorded = purchasing_service.receive_goods(caller_from(router.current_event), receipt)
    return _json(201, recorded)


class RescheduledInvoice(LazyModel):
    """The invoice, waiting for its verification in the next run (`verification.status`
    pending, the last verification's figures kept until then)."""

    id: str
    number: str
    status: str
    verification: Verification


@router.post(
    "/documents/<document_id>/reschedule-verification",
    tags=["Purchasing"],
    summary="Verify an invoice verified with errors again in the next run",
)
def reschedule_verification(document_id: DocumentId) -> RescheduledInvoice:
    document = verification_service.reschedule(caller_from(router.current_event), document_id)
    assert document.verification is not None
    return RescheduledInvoice(
        id=document.id,
        number=document.number,
        status=document.status,
        verification=document.verification,
    )


class CompletedInvoice(LazyModel):
    """The invoice with its verification completed (`verification.status` posted, with
    `completed_by` and `completed_at`)."""

    id: str
    number: str
    status: str
    verification: Verification


@router.post(
    "/documents/<document_id>/complete-verification",
    tags=["Purchasing"],
    summary="Complete the verification of an invoice posted, not completed",
)
def complete_verification(document_id: DocumentId) -> CompletedInvoice:
    document = verification_service.complete(caller_from(router.current_event), document_id)
    assert document.verification is not None
    return CompletedInvoice(
        id=document.id,
        number=document.number,
        status=document.status,
        verification=document.verification,
    )
