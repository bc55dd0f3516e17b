"""Customer contracts (ImportCustomers, ImportCompanies).

The Customer namespace has its own Flag/Info/PriceList/DeliveryMethod classes that differ from the
Product ones, hence the ``Customer`` prefix on their Python names.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import model_validator

from . import enums as en
from .common import ContractModel, Image, NorceDateTime


class Address(ContractModel):
    contract_name: ClassVar[str] = "Customer.Models.Address"

    Code: str | None = None
    CareOf: str | None = None
    AddressLine1: str | None = None
    AddressLine2: str | None = None
    ZipCode: str | None = None
    City: str | None = None
    Region: str | None = None
    CountryCode: str | None = None
    Gln: str | None = None
    ShippingPhoneNumber: str | None = None
    IsPrimary: bool | None = None
    IsValidated: bool | None = None


class AccountRole(ContractModel):
    contract_name: ClassVar[str] = "Customer.Models.AccountRole"

    Code: str | None = None
    IsActive: bool | None = None


class Account(ContractModel):
    contract_name: ClassVar[str] = "Customer.Models.Account"

    ApplicationKey: UUID | None = None
    LoginName: str | None = None
    Password: str | None = None
    Status: en.AccountStatus | None = None
    Roles: list[AccountRole] | None = None


class CustomerInfo(ContractModel):
    contract_name: ClassVar[str] = "Customer.Models.Info"

    Code: str | None = None
    Value: str | None = None


class CustomerFlag(ContractModel):
    contract_name: ClassVar[str] = "Customer.Models.Flag"

    Code: str | None = None
    IsActive: bool | None = None
    IsCreateOnly: bool | None = None
    IsLimitedUpdate: bool | None = None
    StopDate: NorceDateTime | None = None


class CustomerPriceList(ContractModel):
    contract_name: ClassVar[str] = "Customer.Models.PriceList"

    Code: str | None = None
    IsExclusive: bool | None = None


class CustomerDeliveryMethod(ContractModel):
    contract_name: ClassVar[str] = "Customer.Models.DeliveryMethod"

    Code: str | None = None
    IsActive: bool | None = None


class PaymentMethod(ContractModel):
    contract_name: ClassVar[str] = "Customer.Models.PaymentMethod"

    Code: str | None = None
    IsActive: bool | None = None
    InvoiceCaptureSettingsCode: str | None = None


class Discount(ContractModel):
    contract_name: ClassVar[str] = "Customer.Models.Discount"

    Type: en.DiscountType | None = None
    ValueCode: str | None = None
    DiscountPercentage: float | None = None
    PriceListTypeIdSeed: str | None = None


class Division(ContractModel):
    contract_name: ClassVar[str] = "Customer.Models.Division"

    Code: str | None = None
    IsPrimary: bool | None = None


class Contact(ContractModel):
    contract_name: ClassVar[str] = "Customer.Models.Contact"

    Code: str | None = None
    IsActive: bool | None = None


class CompanyIdentifier(ContractModel):
    """A customer's link to a company, matched like a company (Code, Id or OrganizationNo)."""

    contract_name: ClassVar[str] = "Customer.Models.CompanyIdentifier"

    Id: int | None = None
    Code: str | None = None
    OrganizationNo: str | None = None
    Name: str | None = None
    IsPrimary: bool | None = None


class Customer(ContractModel):
    """A person. Norce updates by Code, Id or EmailAddress, so one of them is required."""

    contract_name: ClassVar[str] = "Customer.Models.Customer"

    Type: en.CustomerType | None = None
    ApplicationKey: UUID | None = None
    Id: int | None = None
    Code: str | None = None
    EmailAddress: str | None = None
    SocialSecurityNumber: str | None = None
    Title: str | None = None
    FirstName: str | None = None
    MiddleName: str | None = None
    LastName: str | None = None
    PhoneNumber: str | None = None
    CellPhoneNumber: str | None = None
    IsActive: bool | None = None
    InvoiceAddress: Address | None = None
    DeliveryAddresses: list[Address] | None = None
    Accounts: list[Account] | None = None
    AdditionalInfo: list[CustomerInfo] | None = None
    Flags: list[CustomerFlag] | None = None
    PriceLists: list[CustomerPriceList] | None = None
    Companies: list[CompanyIdentifier] | None = None
    IsCompanyListDelta: bool | None = None
    CrmId: str | None = None

    @model_validator(mode="after")
    def _has_identifier(self) -> Customer:
        if self.Code or self.Id is not None or self.EmailAddress:
            return self
        raise ValueError("customer has no identifier: set Code, Id or EmailAddress")


class Company(ContractModel):
    """A company. Norce updates by Code, Id or OrganizationNo, so one of them is required."""

    contract_name: ClassVar[str] = "Customer.Models.Company"

    ApplicationKey: UUID | None = None
    Id: int | None = None
    Code: str | None = None
    OrganizationNo: str | None = None
    Name: str | None = None
    EmailAddress: str | None = None
    PhoneNumber: str | None = None
    VatNo: str | None = None
    LogoImage: Image | None = None
    ParentCompanyCode: str | None = None
    IsActive: bool | None = None
    InvoiceAddress: Address | None = None
    DeliveryAddresses: list[Address] | None = None
    UseInvoiceAddressAsDeliveryAddress: bool | None = None
    AdditionalInfo: list[CustomerInfo] | None = None
    Contacts: list[Contact] | None = None
    Customers: list[Customer] | None = None
    IsCustomerListDelta: bool | None = None
    DeliveryMethods: list[CustomerDeliveryMethod] | None = None
    Discounts: list[Discount] | None = None
    Flags: list[CustomerFlag] | None = None
    PaymentMethods: list[PaymentMethod] | None = None
    PriceLists: list[CustomerPriceList] | None = None

    @model_validator(mode="after")
    def _has_identifier(self) -> Company:
        if self.Code or self.Id is not None or self.OrganizationNo:
            return self
        raise ValueError("company has no identifier: set Code, Id or OrganizationNo")
