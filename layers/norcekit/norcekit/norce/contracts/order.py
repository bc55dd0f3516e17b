"""Connect order write-back bodies (``Order/SendOrderStatus``, ``Order/CreateDeliveryNote``,
``Order/CreateInvoice``, ``Order/CreditPayment``, ``Order/CancelOrder``): the ERP's answers to an
order (norce-query-and-events.md §4.2).

Names and types are the .NET contracts' (R-CONTRACTS ``Order/*.cs``). Type trap: ``ClientOrderRef``
is a *string* in the OrderRequest but an **int32** here (the basket id). Amounts are floats, as in
the import contracts.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .common import ContractModel, NorceDateTime
from .enums import OrderStatus

Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


#: ``OrderStatus`` travels as the member's *name* ("Confirmed"), as the docs show it.
OrderStatusName = Annotated[str, Field(pattern="^(" + "|".join(OrderStatus.__members__) + ")$")]


class OrderInfo(ContractModel):
    Code: str | None = None
    Value: str | None = None


class OrderItemStatus(ContractModel):
    LineNo: str
    ItemStatus: OrderStatusName | None = None


class SendOrderStatusRequest(ContractModel):
    ClientOrderRef: Int32 = Field(description="The basket id (int32), not the OrderRequest's string.")
    ErpOrderNo: str | None = None
    OrderStatus: OrderStatusName
    AccountId: Int32 | None = None
    Infos: list[OrderInfo] | None = None
    ItemStatuses: list[OrderItemStatus] | None = None


class Address(ContractModel):
    Type: str | None = None
    Line1: str | None = None
    Line2: str | None = None
    ZipCode: str | None = None
    City: str | None = None
    Country: str | None = None
    Region: str | None = None
    CareOf: str | None = None
    Box: str | None = None
    Gln: str | None = None
    ShippingPhoneNumber: str | None = None


class DeliveryNoteItem(ContractModel):
    Id: Int32 | None = None
    ItemNo: str | None = None
    Qty: float
    RowNumber: float
    Description: str | None = None
    Comment: str | None = None


class DeliveryNotePackage(ContractModel):
    Id: Int32 | None = None
    ParcelNumber: str | None = Field(default=None, description="The carrier's tracking number.")
    StatusId: Int32 = 0


class DeliveryNote(ContractModel):
    OrderNo: str = Field(min_length=1)
    NoteNo: str = Field(min_length=1)
    DeliveryDate: NorceDateTime
    StatusId: Int32 = 0
    BuyerCompanyCode: str | None = None
    BuyerCustomerCode: str | None = None
    DeliveryAddress: Address | None = None
    DeliveryAttention: str | None = None
    DeliveryMode: str | None = None
    DeliveryName: str | None = None
    DivisionCode: str | None = None
    IsPrinted: bool | None = None
    NoteText: str | None = None
    DeliveryNoteItems: list[DeliveryNoteItem] | None = None
    DeliveryNotePackages: list[DeliveryNotePackage] | None = None


class CodeValue(ContractModel):
    Id: Int32 | None = None
    Code: str | None = None
    Code2: str | None = None
    Value: str | None = None


class InvoicePayment(ContractModel):
    """The contract's ``Payment`` (named apart from the ``Invoice.Payment`` property it types)."""

    PaymentCode: Int32 | None = None
    PaymentMethodCode: str | None = None
    PaymentName: str | None = None
    PaymentRef: str | None = None
    Amount: float | None = None
    CurrencyCode: str | None = None
    AdditionalInfo: list[CodeValue] | None = None


class InvoiceItem(ContractModel):
    LineNo: float
    PartNo: str | None = None
    ProductName: str | None = None
    Description: str | None = None
    Quantity: Int32
    UnitPrice: float
    UnitVat: float = 0.0
    VatRate: float = 0.0
    LineAmount: float
    Discount: float | None = None
    SalePrice: float | None = None
    PriceList: str | None = None


class Invoice(ContractModel):
    InvoiceNo: str = Field(min_length=1)
    ClientOrderRef: Int32
    ErpOrderNo: str | None = None
    InvoiceDate: NorceDateTime
    InvoiceDueDate: NorceDateTime | None = None
    DeliveryDate: NorceDateTime | None = None
    CurrencyCode: str = Field(pattern=r"^[A-Z]{3}$")
    TotalAmount: float
    Vat: float
    VatRoundOff: float | None = None
    InvoiceRoundOff: float | None = None
    Items: list[InvoiceItem] | None = None
    Payment: InvoicePayment | None = None
    PaymentMethodCode: str | None = None
    PaymentMethodName: str | None = None
    IsLastInvoiceForOrder: bool | None = None
    SuppressPspCall: bool = Field(default=False, description="True: stored only, no PSP capture.")
    CreditedInvoiceNo: str | None = None
    ApplicationKey: str | None = None
    Name: str | None = None
    Attention: str | None = None
    AddressLine1: str | None = None
    AddressLine2: str | None = None
    CareOf: str | None = None
    ZipCode: str | None = None
    City: str | None = None
    Region: str | None = None
    Country: str | None = None
    CountryCode: str | None = None
    Gln: str | None = None
    GroupCode: str | None = None
    CultureCode: str | None = None
    Comment: str | None = None


class CancelPayment(InvoicePayment):
    """The contract's ``Payment`` in a cancel: Norce cancels it at the PSP by its ``PaymentRef``."""

    PaymentRef: str = Field(min_length=1)


class CancelOrderRequest(ContractModel):
    """``Order/CancelOrder``. The docs conflict on ``ErpOrderNo`` (one page: ClientOrderRef *or*
    ErpOrderNo; the other: both required): the contract's string, optional here; send it."""

    ClientOrderRef: Int32 = Field(description="The basket id (int32), not the OrderRequest's string.")
    ErpOrderNo: str | None = None
    Payments: list[CancelPayment] | None = None


__all__ = [
    "CancelOrderRequest",
    "CancelPayment",
    "DeliveryNote",
    "Invoice",
    "InvoicePayment",
    "OrderStatus",
    "SendOrderStatusRequest",
]
