"""Every table of the platform, imported in one place for Alembic and the tests."""

from yidi.catalog.models import CatalogImport, CatalogItem
from yidi.core.audit import AuditEvent
from yidi.core.db import Base
from yidi.filing.models import Filing, FilingInstitution, FilingMaterial
from yidi.people.models import ChronicQualification, Insurance, Person
from yidi.reference.models import (
    ChronicDisease,
    DivisionRow,
    Institution,
    InstitutionDepartment,
    InstitutionService,
)
from yidi.reimbursement.models import (
    Claim,
    ClaimInvoice,
    ClaimLine,
    ClaimMaterial,
    ClaimVisit,
    PaymentBatch,
    PaymentItem,
    SettlementReview,
)
from yidi.security.models import (
    AuthSession,
    InstitutionCredential,
    LoginThrottle,
    PersonAccount,
    StaffUser,
    UsedNonce,
)
from yidi.settlement.models import (
    Accumulator,
    FeeRecord,
    InterfaceFile,
    InvoiceUse,
    MessageLog,
    OperatorSignIn,
    Settlement,
    SettlementAdjustment,
    Visit,
    VisitDiagnosis,
)

__all__ = [
    "Accumulator",
    "AuditEvent",
    "AuthSession",
    "Base",
    "CatalogImport",
    "CatalogItem",
    "ChronicDisease",
    "ChronicQualification",
    "Claim",
    "ClaimInvoice",
    "ClaimLine",
    "ClaimMaterial",
    "ClaimVisit",
    "DivisionRow",
    "FeeRecord",
    "Filing",
    "FilingInstitution",
    "FilingMaterial",
    "Institution",
    "InstitutionCredential",
    "InstitutionDepartment",
    "InstitutionService",
    "Insurance",
    "InterfaceFile",
    "InvoiceUse",
    "LoginThrottle",
    "MessageLog",
    "OperatorSignIn",
    "PaymentBatch",
    "PaymentItem",
    "Person",
    "PersonAccount",
    "Settlement",
    "SettlementAdjustment",
    "SettlementReview",
    "StaffUser",
    "UsedNonce",
    "Visit",
    "VisitDiagnosis",
]
