"""What Norce's checkout posts to the Order Receiver Service and what it expects back.

Field names and types are Norce's .NET contracts (``Order/OrderRequest.cs`` and the classes it
uses, norce-query-and-events.md §4.1). Validation is strict: an unknown property, a wrong type, a
missing ``ClientOrderRef`` or ``Items``, or two items with the same ``LineNo`` refuse the order
with field paths an operator can act on. ``ExtensionData`` (the contracts are
``IExtensibleDataObject``) is accepted and ignored.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    ExtensionData: Any = Field(default=None, exclude=True)


class OrderCodeValue(_Contract):
    Id: int | None = None
    Code: str | None = None
    Code2: str | None = None
    Value: str | None = None


class OrderAddress(_Contract):
    Type: str | None = None
    Line1: str | None = None
    Line2: str | None = None
    ZipCode: str | None = None
    City: str | None = None
    Country: str | None = Field(default=None, description="ISO 3166-1 alpha-2.")
    Region: str | None = None
    CareOf: str | None = None
    Box: str | None = None
    Gln: str | None = None
    ShippingPhoneNumber: str | None = None


class OrderCompany(_Contract):
    Code: str | None = None
    Name: str | None = None
    VatNo: str | None = None
    Email: str | None = None
    Phone: str | None = None
    Fax: str | None = None
    IsActive: bool | None = None
    Addresses: list[OrderAddress] | None = None
    AdditionalInfo: list[OrderCodeValue] | None = None
    # Deprecated in the contract, still serialized by older Norce versions.
    DeliveryCodeLimit: bool | None = None
    DeliveryCodes: list[str] | None = None
    PaymentCodeLimit: bool | None = None
    PaymentCodes: list[str] | None = None
    PricelistLimit: bool | None = None
    PricelistCodes: list[str] | None = None


class OrderPerson(_Contract):
    """``Order/Customer.cs`` (the ``Person`` of a ClientCustomer)."""

    CustomerCode: str | None = None
    CompanyCode: str | None = None
    FirstName: str | None = None
    LastName: str | None = None
    Email: str | None = None
    CellPhone: str | None = None
    WorkPhone: str | None = None
    PrivatePhone: str | None = None
    SSN: str | None = None
    JobTitle: str | None = None
    IsActive: bool | None = None
    Address: OrderAddress | None = None
    AdditionalInfo: list[OrderCodeValue] | None = None


class OrderClientCustomer(_Contract):
    Company: OrderCompany | None = None
    Person: OrderPerson | None = None


class OrderPayment(_Contract):
    PaymentCode: int | None = None
    PaymentMethodCode: str | None = None
    PaymentName: str | None = None
    PaymentRef: str | None = None
    Amount: Decimal | None = None
    CurrencyCode: str | None = None
    AdditionalInfo: list[OrderCodeValue] | None = None


class OrderDiscount(_Contract):
    Code: str | None = None
    Type: str | None = None
    Amount: Decimal | None = None


class OrderFee(_Contract):
    Type: str | None = None
    Description: str | None = None
    Amount: Decimal | None = None
    VatRate: Decimal | None = None


class OrderPickupStore(_Contract):
    Code: str | None = None
    Name: str | None = None
    IsDropPoint: bool | None = None
    Address: OrderAddress | None = None
    AdditionalInfo: list[OrderCodeValue] | None = None


class OrderShippingAdvice(_Contract):
    DeliveryMethodCode: str | None = None
    DoSMSNotify: bool | None = None
    IsComplete: bool | None = None
    IsFeeChargedOnce: bool | None = None
    PickupStore: OrderPickupStore | None = None
    ShipAdvisorOrderCode: str | None = None
    TmsReference: str | None = None


class OrderPriceListItem(_Contract):
    PriceListName: str | None = None
    IsActive: bool | None = None
    IsStandardPriceList: bool | None = None
    QtyBreak: int | None = None
    UnitPrice: Decimal | None = None


class OrderPromotion(_Contract):
    Id: str | None = None
    Name: str | None = None
    DiscountCode: str | None = None
    AppliedAmount: Decimal | None = None


class OrderItem(_Contract):
    LineNo: int = Field(description="Unique per order.")
    ParentLineNo: int | None = None
    PartNo: str | None = None
    ErpPartNo: str | None = None
    ManufacturerCode: str | None = None
    InternalProductId: int | None = None
    Description: str | None = None
    Quantity: int
    Quantity2: Decimal | None = Field(default=None, description="Non-integer quantities.")
    UnitPrice: Decimal | None = None
    UnitPriceOriginal: Decimal | None = None
    Discount: Decimal | None = None
    UnitVat: Decimal | None = None
    VatRate: Decimal | None = None
    Type: str | None = None
    TypeGroup: str | None = None
    PriceListNo: int | None = None
    PriceLists: list[OrderPriceListItem] | None = None
    Promotions: list[OrderPromotion] | None = None
    UnitOfMeasure: str | None = None
    Comment: str | None = None
    AdditionalInfo: list[OrderCodeValue] | None = None


class OrderHeader(_Contract):
    ApplicationKey: UUID | None = None


#: ``Common/OrderType.cs``: 1 Order, 2 PurchaseOrder, 3 RecurringOrder, 4 RecurringOrderTemplate,
#: 5 ExternalOrder (a number, or the member's name as .NET serializes enums either way).
OrderTypeValue = Literal[
    1, 2, 3, 4, 5, "Order", "PurchaseOrder", "RecurringOrder", "RecurringOrderTemplate", "ExternalOrder"
]


class OrderRequest(_Contract):
    Header: OrderHeader | None = None
    ClientOrderRef: str = Field(min_length=1, max_length=50, description="Usually the basket id.")
    ErpOrderNo: str | None = None
    CustomerOrderRef: str | None = Field(default=None, max_length=50)
    CustomerOrderComment: str | None = None
    CustomerInvoiceRef: str | None = None
    SubmitDate: datetime | None = None
    CurrencyCode: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    SellTo: OrderClientCustomer | None = None
    BillTo: OrderClientCustomer | None = None
    ShipTo: OrderClientCustomer | None = None
    Payments: list[OrderPayment] | None = None
    Discounts: list[OrderDiscount] | None = None
    Fees: list[OrderFee] | None = None
    ShippingAdvice: OrderShippingAdvice | None = None
    Items: list[OrderItem] = Field(min_length=1)
    AdditionalInfo: list[OrderCodeValue] | None = None
    OrderType: OrderTypeValue | None = None
    Source: str | None = None
    DoHold: bool | None = None
    SalesContactCode: str | None = None
    SalesContactDivision: str | None = None
    DiscountCode: str | None = None
    ReferId: int | None = None

    @model_validator(mode="after")
    def _line_numbers_unique(self) -> OrderRequest:
        seen: set[int] = set()
        for item in self.Items:
            if item.LineNo in seen:
                raise ValueError(f"Items: LineNo {item.LineNo} appears more than once")
            seen.add(item.LineNo)
        return self


class OrderResponse(BaseModel):
    """The synchronous answer Norce expects (``Order/OrderResponse.cs``)."""

    StatusCode: Literal["OK", "Failed"]
    Description: str = Field(default="", description="Why an order failed, for Norce's support.")
    HasErpOrderNo: bool = False
    ErpOrderNo: str | None = None


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending property ('' = the body).")
    error: str


class ValidOrder(BaseModel):
    """An order that passed validation: the model and the body exactly as Norce sent it."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    order: OrderRequest
    body: bytes


class InvalidOrder(BaseModel):
    model_config = ConfigDict(frozen=True)

    reason: Literal["invalid_json", "not_an_object", "invalid_order", "too_large"]
    message: str
    errors: list[FieldError] = Field(default_factory=list)
    #: ``ClientOrderRef`` when the body named one (the operator's search key), else ``None``.
    client_order_ref: str | None = None

    def description(self) -> str:
        """One line for ``OrderResponse.Description``: what is wrong and where, so it can be fixed."""
        details = "; ".join(f"{e.field or 'body'}: {e.error}" for e in self.errors[:5])
        more = f" (+{len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        return f"{self.message}{': ' + details if details else ''}{more}"[:1000]


def validate_order(body: bytes, *, max_body_bytes: int) -> ValidOrder | InvalidOrder:
    """Strict JSON → :class:`OrderRequest`, or the reasons it is not one."""
    if len(body) > max_body_bytes:
        return InvalidOrder(reason="too_large", message=f"Order body exceeds {max_body_bytes} bytes")
    try:
        data = orjson.loads(body)  # strict: NaN/Infinity and invalid UTF-8 are refused
    except orjson.JSONDecodeError as exc:
        return InvalidOrder(reason="invalid_json", message=f"Order body is not JSON ({exc.msg})")
    if not isinstance(data, dict):
        return InvalidOrder(reason="not_an_object", message="Order body must be a JSON object (OrderRequest)")
    ref = data.get("ClientOrderRef")
    ref_text = ref[:50] if isinstance(ref, str) and ref else None
    try:
        order = OrderRequest.model_validate(data)
    except ValidationError as exc:
        errors = [
            FieldError(field=".".join(str(p) for p in err["loc"]), error=err["msg"])
            for err in exc.errors(include_url=False)
        ]
        return InvalidOrder(
            reason="invalid_order",
            message="OrderRequest does not match the contract",
            errors=errors[:50],
            client_order_ref=ref_text,
        )
    return ValidOrder(order=order, body=body)


__all__ = [
    "FieldError",
    "InvalidOrder",
    "OrderItem",
    "OrderRequest",
    "OrderResponse",
    "ValidOrder",
    "validate_order",
]
