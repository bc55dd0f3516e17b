"""Connect contract enums, generated once from Norce's official .NET contracts.

Source: github.com/StormCommerce/Storm.Connect.Contracts @ 69a13d0a0739c9e2e27eeaf21054792ce7d12221.
Regenerate if the contracts change; nothing reads the JSON at run time. Names and integers are
the contract's own (the wire carries the integers); ``ContractEnum`` also resolves member names,
case-insensitively, so mappings and header lists may say ``"PriceSale"`` instead of ``3``.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Self


class ContractEnum(IntEnum):
    """IntEnum that also resolves member names (case-insensitive) and numeric strings."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, str):
            text = value.strip()
            wanted = text.casefold()
            for name, member in cls.__members__.items():
                if name.casefold() == wanted:
                    return member
            if text.lstrip("-").isdigit():
                number = int(text)
                for member in cls:
                    if member.value == number:
                        return member
        return None

    @classmethod
    def coerce(cls, value: int | str) -> Self:
        """Member for an integer, a numeric string or a name (any case); ValueError otherwise."""
        return cls(value)  # type: ignore[arg-type]  # names are resolved by _missing_

    @classmethod
    def valid_names(cls) -> str:
        """``Name(int)`` list used in error messages."""
        return ", ".join(f"{m.name}({m.value})" for m in cls)


class AccountField(ContractEnum):
    """Contract ``Customer.Fields.AccountField``."""

    PasswordCreateOnly = 0
    Status = 1
    StatusCreateOnly = 2
    Roles = 3
    RolesCreateOnly = 4


class AccountStatus(ContractEnum):
    """Contract ``Customer.Models.AccountStatus``."""

    Active = 1
    Inactive = 2


class CompanyField(ContractEnum):
    """Contract ``Customer.Fields.CompanyField``."""

    ApplicationKey = 0
    Id = 1
    Code = 2
    OrganizationNo = 3
    Name = 4
    EmailAddress = 5
    PhoneNumber = 6
    LogoImage = 7
    ParentCompanyCode = 8
    IsActive = 9
    InvoiceAddress = 10
    DeliveryAddresses = 11
    AdditionalInfo = 12
    Contacts = 13
    Customers = 14
    DeliveryMethods = 15
    Discounts = 16
    Flags = 17
    PaymentMethods = 18
    PriceLists = 19
    SearchOnlyByCode = 20
    VatNo = 21
    PreserveFlags = 22


class CompetitorSkuField(ContractEnum):
    """Contract ``Product.Fields.CompetitorSkuField``."""

    CompetitorName = 0
    ProductName = 1
    VatRate = 2
    ExternalPopularities = 3


class CustomerField(ContractEnum):
    """Contract ``Customer.Fields.CustomerField``."""

    ApplicationKey = 0
    Id = 1
    Code = 2
    EmailAddress = 3
    SocialSecurityNumber = 4
    Title = 5
    FirstName = 6
    MiddleName = 7
    LastName = 8
    PhoneNumber = 9
    CellPhoneNumber = 10
    IsActive = 11
    InvoiceAddress = 12
    DeliveryAddresses = 13
    Accounts = 14
    AdditionalInfo = 15
    Flags = 16
    PriceLists = 17
    SearchOnlyByCode = 18
    Companies = 19
    CrmId = 20
    PreserveFlags = 21


class CustomerType(ContractEnum):
    """Contract ``Customer.Models.CustomerType``."""

    Customer = 1
    CompanyContact = 2


class DiscountType(ContractEnum):
    """Contract ``Customer.Models.DiscountType``."""

    Category = 1
    ProductDiscountClass = 2
    ProductFlag = 3


class ExternalContentCategoryField(ContractEnum):
    """Contract ``ExternalContent.Fields.ExternalContentCategoryField``."""

    CategoryName = 0
    CategoryFullName = 1
    UnspcCode = 2
    ParentCategoryCode = 3
    HasRequirements = 4
    IsHidden = 5


class ExternalContentParametricField(ContractEnum):
    """Contract ``ExternalContent.Fields.ExternalContentParametricField``."""

    Name = 0
    Uom = 1
    ParametricType = 2
    HasListValues = 3
    HasMultipleValues = 4
    ExampleValues = 5


class ImageCultureField(ContractEnum):
    """Contract ``Product.Fields.ImageCultureField``."""

    Name = 0
    Description = 1
    AltText = 2


class InheritStructureCalculationRule(ContractEnum):
    """Contract ``Product.Models.InheritStructureCalculationRule``."""

    locals()["None"] = 0  # contract name is a Python keyword
    None_ = 0  # alias usable from Python
    ItemsUseDefaultPriceRule = 1
    StandardPriceFromInheritedStructureItemSalePrice = 2


class OrderStatus(ContractEnum):
    """Contract ``Order.OrderStatus``."""

    Created = 0
    Allocation = 1
    Confirmed = 2
    BackOrder = 3
    Delivered = 4
    Invoiced = 5
    Cancelled = 6
    CreditControl = 7
    PartlyDelivered = 8
    Acknowledged = 9
    ErpConfirmed = 10
    ReadyForPickup = 11
    PickedUp = 12
    NotPickedUp = 13
    OnHold = 14
    WaitingForCancel = 15
    WaitingForOnHoldRemoved = 16
    CancelError = 17
    AcknowledgementError = 18
    ReadyForReservation = 19
    Reserved = 20


class OrderTypes(ContractEnum):
    """Contract ``Common.OrderTypes``."""

    Order = 1
    PurchaseOrder = 2
    RecurringOrder = 3
    RecurringOrderTemplate = 4
    ExternalOrder = 5


class ParametricType(ContractEnum):
    """Contract ``Common.ParametricType``."""

    Text = 1
    Integer = 2
    Decimal = 3
    Boolean = 4
    Html = 5
    Date = 6


class PopulationRulesType(ContractEnum):
    """Contract ``Product.Models.PopulationRulesType``."""

    Exclude = 0
    Include = 1


class PriceListField(ContractEnum):
    """Contract ``Product.Fields.PriceListField``."""

    Name = 0
    CurrencyCode = 1
    StartDate = 2
    EndDate = 3
    IsPublic = 4
    IsPrimary = 5
    TypeCode = 6
    Warehouses = 7
    DefaultPriceRule = 8
    Description = 9
    IsErpIntegrated = 10
    DoNotCreateApplicationPriceList = 11
    SalesArea = 12
    DefaultMinMarginPercent = 13
    LimitToRecPrice = 14
    ParentPriceListCode = 15
    DefaultSupplementalChargeFixed = 16
    DefaultSupplementalChargePercent = 17
    PriceRules = 18
    PriceRulesCleanup = 19
    PriceRulesLimitedUpdate = 20
    Population = 21
    PopulationCleanup = 22
    IsFavorite = 23
    InheritStructureCalculationRule = 24


class PriceListPopulationAllCategoriesRuleType(ContractEnum):
    """Contract ``Product.Models.PriceListPopulationAllCategoriesRuleType``."""

    locals()["None"] = 1  # contract name is a Python keyword
    None_ = 1  # alias usable from Python
    Manufacturers = 2
    Flags = 3


class PriceListPopulationCategoryRuleType(ContractEnum):
    """Contract ``Product.Models.PriceListPopulationCategoryRuleType``."""

    locals()["None"] = 1  # contract name is a Python keyword
    None_ = 1  # alias usable from Python
    Manufacturers = 2
    Flags = 3
    Category = 4


class PriceListPopulationType(ContractEnum):
    """Contract ``Product.Models.PriceListPopulationType``."""

    Exclude = 1
    Include = 2


class PriceListPriceRuleField(ContractEnum):
    """Contract ``Product.Fields.PriceListPriceRuleField``."""

    Type = 0
    Value = 1
    LimitToRecPrice = 2
    SupplementalChargeFixed = 3
    SupplementalChargePercent = 4


class PriceListPriceRuleType(ContractEnum):
    """Contract ``Product.Models.PriceListPriceRuleType``."""

    CostPlus_PurchaseCost = 1
    Margin_PurchaseCost = 3
    UseRecommendedPrice = 4
    CostPlus_UnitCost = 5
    Margin_UnitCost = 6
    UseStandardPrice_PctDiscount = 7
    UseStandardPrice_FixedDiscount = 10
    UseCatalogPrice = 12


class PriceRule(ContractEnum):
    """Contract ``Product.Models.PriceRule``."""

    CostPlus_PurchaseCost = 1
    FixedPrice = 2
    Margin_PurchaseCost = 3
    UseRecommendedPrice = 4
    CostPlus_UnitCost = 5
    Margin_UnitCost = 6
    UseStandardPrice_PctDiscount = 7
    Competitive_PurchaseCost = 8
    Competitive_UnitCost = 9
    UseStandardPrice_FixedDiscount = 10
    StructureCalculation = 11
    UseCatalogPrice = 12


class ProductCultureField(ContractEnum):
    """Contract ``Product.Fields.ProductCultureField``."""

    Name = 0
    NameCreateOnly = 1
    SubHeader = 2
    SubDescription = 3
    DescriptionHeader = 4
    Description = 5
    DescriptionCreateOnly = 6
    Synonyms = 7
    Title = 8
    Tags = 9
    MetaTags = 10
    MetaDescription = 11
    NameLimitedUpdate = 12
    UniqueUrlName = 13
    IsUniqueUrlNameManuallyMaintained = 14
    UniqueUrlNameCreateOnly = 15


class ProductField(ContractEnum):
    """Contract ``Product.Fields.ProductField``."""

    ManufacturerCode = 0
    ManufacturerName = 1
    Alias = 2
    Code = 3
    Variants = 4
    Cultures = 5
    Categories = 6
    MainImage = 7
    AdditionalImages = 8
    Family = 9
    ProductParametrics = 10
    ProductParametricsCreateOnly = 11
    VariantDefinitionGroup = 12
    VariantDefinitionGroupCreateOnly = 13
    Assortment = 14
    CategoriesCreateOnly = 15
    CategoriesLimitedUpdate = 16
    AdditionalImagesCleanup = 17
    ParametricsCleanup = 18
    ImagesAndFilesCleanup = 19


class RelationCultureField(ContractEnum):
    """Contract ``Product.Fields.RelationCultureField``."""

    Name = 1
    NameCreateOnly = 2
    SubHeader = 3
    SubDescription = 4
    DescriptionHeader = 5
    Description = 6
    DescriptionCreateOnly = 7


class RelationField(ContractEnum):
    """Contract ``Product.Fields.RelationField``."""

    IsActive = 1
    IsVariantUnique = 2
    IsVariantUniqueCreateOnly = 3
    IsRelatedVariantUnique = 4
    IsRelatedVariantUniqueCreateOnly = 5
    DefaultName = 6
    DefaultSubHeader = 7
    DefaultSubDescription = 8
    DefaultDescriptionHeader = 9
    DefaultDescription = 10
    Cultures = 11
    SortOrder = 12


class SalesArea(ContractEnum):
    """Contract ``Product.Models.SalesArea``."""

    Sweden = 1
    Norway = 2
    Denmark = 3
    Finland = 4
    UnitedKingdom = 5
    Estonia = 6
    Greenland = 7
    Germany = 8
    Italy = 9
    Austria = 10
    Spain = 11
    Netherlands = 12
    Belgium = 13
    France = 14
    Switzerland = 15
    USA = 17
    Ireland = 18
    Canada = 19
    Lithuania = 20
    Latvia = 21
    Japan = 22
    SouthKorea = 23
    Australia = 24
    Europe = 25
    Poland = 26
    CzechRepublic = 27
    Russia = 28
    NoVAT = 29
    Bulgaria = 36
    Croatia = 37
    Cyprus = 38
    Greece = 39
    Hungary = 40
    Luxembourg = 41
    Malta = 42
    Portugal = 43
    Romania = 44
    Slovakia = 45
    Slovenia = 46


class SerializationType(ContractEnum):
    """Contract ``SerializationType``."""

    Json = 0
    DataContractSerializer = 1


class SkuCultureField(ContractEnum):
    """Contract ``Product.Fields.SkuCultureField``."""

    ErpName = 0
    ErpNameCreateOnly = 1
    Comment = 2
    CommentCreateOnly = 3


class SkuField(ContractEnum):
    """Contract ``Product.Fields.SkuField``."""

    Status = 1
    Type = 2
    IntegrationPartNo = 3
    CommodityCode = 4
    EanCode = 5
    TrackingCode = 6
    UnitOfMeasurementType = 7
    UnitOfMeasurementCount = 8
    IsDropShipOnly = 9
    IsBuyable = 10
    DiscountClass = 11
    RecommendedSalesQty = 12
    IsRecommendedSalesQtyFixed = 13
    ActualWeight = 14
    VolumeWeight = 15
    LogisticWidth = 16
    LogisticHeight = 18
    LogisticDepth = 19
    StandardPrice = 20
    VatRate = 21
    StatusCreateOnly = 22
    StartDate = 23
    StopDate = 24
    StructureItems = 25
    PartNoCreateWhenMissing = 26


class SkuOnhandField(ContractEnum):
    """Contract ``Product.Fields.SkuOnhandField``."""

    OnhandValue = 3
    IncomingValue = 4
    NextDeliveryDate = 5
    LeadTimeDayCount = 6
    OnOrderValue = 7
    MinimumValue = 8
    MaximumValue = 9
    IsActive = 10
    Infos = 11


class SkuPriceListField(ContractEnum):
    """Contract ``Product.Fields.SkuPriceListField``."""

    PriceSale = 3
    CostPurchase = 4
    CostUnit = 5
    PriceRecommended = 6
    PricePrevious = 7
    PriceCatalog = 8
    IsPriceDiscountable = 9
    IsActive = 10
    IsPriceDiscountableCreateOnly = 11
    PriceRule = 12
    FullfileResetInheritance = 13


class SkuStatus(ContractEnum):
    """Contract ``Product.Models.SkuStatus``."""

    Active = 1
    Coming = 2
    Expiring = 3
    Hidden = 4
    Inactive = 5
    NotActivated = 6


class SkuStructureItemField(ContractEnum):
    """Contract ``Product.Fields.SkuStructureItemField``."""

    SortOrder = 0
    StandardStructureItemPrice = 1
    AdditionalInfo = 2


class SkuType(ContractEnum):
    """Contract ``Product.Models.SkuType``."""

    ErpStandard = 1
    ErpRefurbished = 2
    Freight = 3
    Insurance = 4
    Download = 7
    Structure = 8
    Invoice = 9
    Service = 11
    Standard = 14
    ErpExtended = 15
    ErpStandardNoStock = 16
    ErpPackage = 17
    Donations = 18
    ErpTempOutOfStock = 19
    EnvironmentalFee = 20
    PackingFee = 21
    Configuration = 22
    ErpPackageWithCalc = 24
    DisplayOnly = 25
    ErpDownload = 26
    ErpDownloadNoStock = 27
    ErpDownloadTempNoStock = 28
    ErpStandard2 = 29
    Standard2 = 30
    ErpStandardNoStock2 = 31
    ErpTempOutOfStock2 = 32
    License = 33
    CentRounding = 34
    SalesTax = 35
    FreightStructure = 36
    ManagedStructure = 37
    ManagedErpPackage = 38
    ManagedErpPackageWithCalc = 39
    Virtual = 40
    PspGiftCard = 41
    PayLater = 42
    GiftCardPaymentPlaceHolder = 43
    Compensation = 44


class SupplierOnHandField(ContractEnum):
    """Contract ``Supplier.Fields.SupplierOnHandField``."""

    Value = 0
    IncomingValue = 1
    NextDeliveryDate = 2
    StoppedDate = 3
    IsReturnable = 4
    LeadTimeDayCount = 5
    ExternalStockValue = 6
    PackageValue = 7
    MinimumOrderValue = 8
    IsActive = 9


class SupplierPriceField(ContractEnum):
    """Contract ``Supplier.Fields.SupplierPriceField``."""

    CostPurchase = 0
    CostPurchaseValidTo = 1
    PriceRecommended = 2
    PriceMax = 3
    PriceDealer = 4
    IsPromotion = 5
    IsFocus = 6
    PriceRanking = 7
    FreightCost = 8
    CostFee = 9
    DiscountPct = 10
    IsActive = 11
    PriceCatalog = 12


class SupplierProductField(ContractEnum):
    """Contract ``Supplier.Fields.SupplierProductField``."""

    SupplierPartNo = 0
    ProductName = 1
    CategoryCode = 2
    ProductType = 3
    Manufacturer = 4
    ManufacturerPartNo = 5
    EanCode = 6
    CommodityCode = 7
    GrossWeight = 8
    NetWeight = 9
    UnitOfMeasurementCode = 10
    UnitOfMeasurementCount = 11
    VatCode = 12
    LogisticWidth = 13
    LogisticHeight = 14
    LogisticDepth = 15


class SupplierProductInfoField(ContractEnum):
    """Contract ``Supplier.Fields.SupplierProductInfoField``."""

    Value = 0


class UnitMeasurementType(ContractEnum):
    """Contract ``Product.Models.UnitMeasurementType``."""

    Pieces = 1
    Hour = 2
    Kilogram = 3
    Litre = 4
    Pair = 5
    SquareMeter = 6
    Meter = 7
    Boxes = 8
    Rolls = 9


class UnitOfMeasurementType(ContractEnum):
    """Contract ``UnitOfMeasurementType``."""

    Unknown = 0
    Pieces = 1
    Hours = 2
    Kilograms = 3
    Litres = 4


class VariantCultureField(ContractEnum):
    """Contract ``Product.Fields.VariantCultureField``."""

    CultureCode = 0
    Name = 1
    NameCreateOnly = 2
    NameLimitedUpdate = 3
    UniqueUrlName = 4
    IsUniqueUrlNameManuallyMaintained = 5
    UniqueUrlNameCreateOnly = 6
    SubHeader = 7
    SubDescription = 8
    DescriptionHeader = 9
    Description = 10
    DescriptionCreateOnly = 11
    Synonyms = 12
    Title = 13
    Tags = 14
    MetaTags = 15
    MetaDescription = 16


class VariantField(ContractEnum):
    """Contract ``Product.Fields.VariantField``."""

    ManufacturerPartNo = 0
    SortOrderValue = 1
    StockDisplayBreakPoint = 2
    IsDangerousGoods = 3
    Cultures = 4
    Skus = 5
    MainImage = 6
    AdditionalImages = 7
    VariantParametrics = 8
    VariantParametricsCreateOnly = 9
    NonParametricVariantDefinitions = 10
    NonParametricVariantDefinitionsCreateOnly = 11
    DeliveryMethods = 12
    DeliveryMethodsCreateOnly = 13
    AdditionalImagesCleanup = 14
    ParametricsCleanup = 15
    TranslationRequested = 16
    ImagesAndFilesCleanup = 17


class WarehouseField(ContractEnum):
    """Contract ``Product.Fields.WarehouseField``."""

    Type = 0
    Name = 1
    LeadTimeDayCount = 2


class WarehouseLocationField(ContractEnum):
    """Contract ``Product.Fields.WarehouseLocationField``."""

    Name = 0
    LeadTimeDayCount = 1
    IsIncludedInStockCalculation = 2


class WarehouseType(ContractEnum):
    """Contract ``Product.Models.WarehouseType``."""

    Warehouse = 1
    Store = 2
    Transport = 3
    Other = 4


CONTRACT_ENUM_NAMES: dict[str, type[ContractEnum]] = {
    "Common.OrderTypes": OrderTypes,
    "Common.ParametricType": ParametricType,
    "Customer.Fields.AccountField": AccountField,
    "Customer.Fields.CompanyField": CompanyField,
    "Customer.Fields.CustomerField": CustomerField,
    "Customer.Models.AccountStatus": AccountStatus,
    "Customer.Models.CustomerType": CustomerType,
    "Customer.Models.DiscountType": DiscountType,
    "ExternalContent.Fields.ExternalContentCategoryField": ExternalContentCategoryField,
    "ExternalContent.Fields.ExternalContentParametricField": ExternalContentParametricField,
    "Order.OrderStatus": OrderStatus,
    "Product.Fields.CompetitorSkuField": CompetitorSkuField,
    "Product.Fields.ImageCultureField": ImageCultureField,
    "Product.Fields.PriceListField": PriceListField,
    "Product.Fields.PriceListPriceRuleField": PriceListPriceRuleField,
    "Product.Fields.ProductCultureField": ProductCultureField,
    "Product.Fields.ProductField": ProductField,
    "Product.Fields.RelationCultureField": RelationCultureField,
    "Product.Fields.RelationField": RelationField,
    "Product.Fields.SkuCultureField": SkuCultureField,
    "Product.Fields.SkuField": SkuField,
    "Product.Fields.SkuOnhandField": SkuOnhandField,
    "Product.Fields.SkuPriceListField": SkuPriceListField,
    "Product.Fields.SkuStructureItemField": SkuStructureItemField,
    "Product.Fields.VariantCultureField": VariantCultureField,
    "Product.Fields.VariantField": VariantField,
    "Product.Fields.WarehouseField": WarehouseField,
    "Product.Fields.WarehouseLocationField": WarehouseLocationField,
    "Product.Models.InheritStructureCalculationRule": InheritStructureCalculationRule,
    "Product.Models.PopulationRulesType": PopulationRulesType,
    "Product.Models.PriceListPopulationAllCategoriesRuleType": PriceListPopulationAllCategoriesRuleType,
    "Product.Models.PriceListPopulationCategoryRuleType": PriceListPopulationCategoryRuleType,
    "Product.Models.PriceListPopulationType": PriceListPopulationType,
    "Product.Models.PriceListPriceRuleType": PriceListPriceRuleType,
    "Product.Models.PriceRule": PriceRule,
    "Product.Models.SalesArea": SalesArea,
    "Product.Models.SkuStatus": SkuStatus,
    "Product.Models.SkuType": SkuType,
    "Product.Models.UnitMeasurementType": UnitMeasurementType,
    "Product.Models.WarehouseType": WarehouseType,
    "SerializationType": SerializationType,
    "Supplier.Fields.SupplierOnHandField": SupplierOnHandField,
    "Supplier.Fields.SupplierPriceField": SupplierPriceField,
    "Supplier.Fields.SupplierProductField": SupplierProductField,
    "Supplier.Fields.SupplierProductInfoField": SupplierProductInfoField,
    "UnitOfMeasurementType": UnitOfMeasurementType,
}
"""Contract enum full name (as in the official contracts) -> Python enum."""
