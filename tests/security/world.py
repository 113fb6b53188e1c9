"""One small but complete department for the security tests (R3, R4, D12).

Users: one per role, an inactive manager, and a colleague (a manager) whose clients the others look at.
Companies, one per *ownership kind* as the actor sees it:

- ``own``: a client the actor curates (one for each role that may curate; finance curates nothing);
- ``colleague``: a client of the colleague, with no grant to anyone;
- ``granted``: another client of the colleague, with a live AccessGrant (company-wide) for every test user.

Each company carries one of every related record (person, bank account, deal, activity, task, inquiry,
contract, obligation, order, credit approval, invoice, payment and its allocation, collection entry,
conflict, financial statement, document and version, access request, audit event). Confidential records hold
a *marker* (the statement's revenue, the document's name) that must never reach the body of a response to an
actor who may not see them.

The world is written once per test module inside a transaction that is rolled back when the module ends
(like ``TestCase.setUpTestData``); each test, and each request of the matrix, runs in a savepoint inside it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from kurator.accounts.models import Role, User
from kurator.companies.models import Company, ContactSource, ProductCategory
from tests.factories import UserFactory, bank_account_factory, company_factory, contact_factory

# Roles of the matrix, as the tests name them. "anonymous" and "inactive" are outsiders.
ROLES = ("anonymous", "manager", "senior", "head", "finance", "admin", "inactive")
INSIDERS = ("manager", "senior", "head", "finance", "admin")
ROLE_OF = {
    "manager": Role.MANAGER,
    "senior": Role.SENIOR_MANAGER,
    "head": Role.HEAD_OF_SALES,
    "finance": Role.FINANCE,
    "admin": Role.ADMIN,
    "inactive": Role.MANAGER,
}
# Roles that may curate a client (R2) have an "own" company.
CURATING = ("manager", "senior", "head", "admin")
KINDS = ("own", "colleague", "granted")

# The confidential figures: revenue of each company's financial statement, unique per company, and the
# regular expression that finds them however a page or the API formats the number.
# The colleague's private calendar feed (shaped like secrets.token_urlsafe(32)).
FEED_TOKEN = "sectestsFeedToken0123456789abcdefghijklmnop"
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def marker_revenue(index: int) -> Decimal:
    # 9 digits, none of them shared with ordinary amounts (1000.00, 150000 …) in the world.
    return Decimal(f"9{index}7531{index}86")


def marker_pattern(value: Decimal) -> str:
    """A regex matching ``value``'s digits with any thousands separator (space, nbsp, comma, &nbsp;)."""
    digits = str(int(value))
    groups = []
    head = len(digits) % 3 or 3
    groups.append(digits[:head])
    groups.extend(digits[i : i + 3] for i in range(head, len(digits), 3))
    return r"(?:\D{0,6})".join(groups)


@dataclass
class World:
    users: dict[str, User]
    colleague: User
    # own companies by role; "colleague" and "granted" companies are shared by every actor.
    own: dict[str, Company]
    colleague_company: Company
    granted_company: Company
    # records by company id: {"company": …, "contact": …, "deal": …}
    records: dict[int, dict[str, Any]] = field(default_factory=dict)
    # records that belong to no client (dictionaries, pipelines, products, bank statements …)
    shared: dict[str, Any] = field(default_factory=dict)
    # personal records (notifications, access requests, grants) by username
    personal: dict[str, dict[str, Any]] = field(default_factory=dict)
    # confidential markers: company id -> (document name, revenue regex)
    markers: dict[int, tuple[str, str]] = field(default_factory=dict)
    # API token keys by username (issued while every user was active)
    api_keys: dict[str, str] = field(default_factory=dict)

    def company(self, role: str, kind: str) -> Company | None:
        if kind == "own":
            return self.own.get(role)
        return self.colleague_company if kind == "colleague" else self.granted_company

    def objects(self, role: str, kind: str) -> dict[str, Any] | None:
        """Every object an URL of this ownership kind may point at, for ``role``; None when the kind does
        not exist for the role (finance curates nobody)."""
        company = self.company(role, kind)
        if company is None:
            return None
        found: dict[str, Any] = dict(self.shared)
        found.update(self.records[company.pk])
        user = self.users.get(role)
        owner = user if kind == "own" and user is not None else self.colleague
        found.update(self.personal.get(owner.username, {}))
        if kind == "granted" and user is not None:
            found["access_grant"] = self.personal[user.username]["access_grant"]
        return found

    def hidden_markers(self, role: str) -> list[tuple[str, str]]:
        """The confidential markers ``role`` must never read: those of the colleague's client without a
        grant, for anyone who is neither its curator nor the head of sales, finance or the administrator."""
        if role in ("head", "finance", "admin"):
            return []
        return [self.markers[self.colleague_company.pk]]


def _records(world: World, company: Company, curator: User, finance: User, index: int) -> None:
    from kurator.access.models import AuditEvent
    from kurator.activities.models import Activity, Task
    from kurator.documents.models import Document, DocumentVersion
    from kurator.finance.models import Allocation, CollectionAction, CreditApproval
    from kurator.finance.tests.factories_contracts import (
        conflict_factory,
        contract_factory,
        obligation_factory,
    )
    from kurator.finance.tests.factories_orders import line, order_factory
    from kurator.finance.tests.factories_receivables import invoice_factory, payment_factory
    from kurator.finance.tests.factories_solvency import statement
    from kurator.inquiries.models import Inquiry
    from kurator.sales.services import deal_create

    now = timezone.now()
    contact = contact_factory(actor=curator, company=company, full_name=f"Сидоров Пётр {index}")
    account = bank_account_factory(actor=curator, company=company)
    deal = deal_create(actor=curator, company=company, title=f"Поставка {index}")
    activity = Activity.objects.create(
        company=company, deal=deal, kind="call", occurred_at=now, author=curator, subject=f"Звонок {index}"
    )
    task = Task.objects.create(
        title=f"Перезвонить {index}",
        assignee=curator,
        created_by=curator,
        due_at=now + timedelta(days=1),
        company=company,
        deal=deal,
    )
    inquiry = Inquiry.objects.create(
        channel="phone",
        company=company,
        curator=curator,
        company_name=company.full_name,
        phone="+74951234567",
        text=f"Нужна поставка {index}",
        received_at=now,
        created_by=curator,
    )
    contract = contract_factory(actor=curator, company=company, number=f"Д-{index}")
    obligation = obligation_factory(actor=curator, contract=contract)
    conflict = conflict_factory(actor=curator, company=company, title=f"Сорвана поставка {index}")
    product = world.shared["product"]
    order = order_factory(company=company, actor=curator, lines=[line(product, 1)])
    approval = CreditApproval.objects.create(order=order, reasons=[], requested_by=curator)
    invoice = invoice_factory(actor=finance, company=company, amount=Decimal("1000.00"))
    payment = payment_factory(
        actor=finance, company=company, amount=Decimal("400.00"), allocations=[(invoice, Decimal("400.00"))]
    )
    allocation = Allocation.objects.get(payment=payment)
    collection = CollectionAction.objects.create(
        company=company, invoice=invoice, kind="call", happened_on=date(2025, 3, 1), author=curator
    )
    revenue = marker_revenue(index)
    financial_statement = statement(
        company, 2024, revenue=revenue, net_profit=1000, total_assets=5000, equity=3000, liabilities=2000
    )
    doc_name = f"SECRETDOC{index}x Договор №{index}.pdf"
    document = Document.objects.create(
        company=company, section="contracts", name=doc_name, contract=contract, created_by=curator
    )
    version = DocumentVersion(
        document=document,
        number=1,
        original_name=doc_name,
        content_type="application/pdf",
        size=len(PDF_BYTES),
        sha256=hashlib.sha256(PDF_BYTES).hexdigest(),
        uploaded_by=curator,
    )
    version.file.save("upload.pdf", ContentFile(PDF_BYTES), save=False)
    version.save()
    audit = AuditEvent.objects.create(
        user=curator,
        username=curator.username,
        action="view_solvency",
        object_type="company",
        object_id=company.pk,
        company=company,
        ip="127.0.0.1",
        allowed=True,
        rule="curator",
    )
    world.records[company.pk] = {
        "company": company,
        "contact": contact,
        "bank_account": account,
        "deal": deal,
        "activity": activity,
        "task": task,
        "inquiry": inquiry,
        "contract": contract,
        "obligation": obligation,
        "conflict": conflict,
        "order": order,
        "credit_approval": approval,
        "invoice": invoice,
        "payment": payment,
        "allocation": allocation,
        "collection_action": collection,
        "financial_statement": financial_statement,
        "document": document,
        "document_version": version,
        "document_version_number": version.number,
        "audit_event": audit,
    }
    world.markers[company.pk] = (f"SECRETDOC{index}x", marker_pattern(revenue))


def _shared(world: World, head: User, colleague: User) -> None:
    from kurator.activities.models import CalendarFeed
    from kurator.finance.models import BankStatement
    from kurator.finance.tests.factories_orders import product_factory
    from kurator.inquiries.models import DistributionRule, PublicMailDomain
    from kurator.sales.models import ChecklistItem, Pipeline, Stage

    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.create(name="Основная")
    stage = Stage.objects.filter(pipeline=pipeline).order_by("order").first()
    category = ProductCategory.objects.create(name="Трубы безопасности")
    source = ContactSource.objects.filter(parent__isnull=True).first() or ContactSource.objects.create(
        name="Интернет"
    )
    statement = BankStatement.objects.create(file_name="выписка.txt", sha256="0" * 64, uploaded_by=head)
    world.shared.update(
        {
            "pipeline": pipeline,
            "stage": stage,
            "checklist_item": ChecklistItem.objects.create(stage=stage, text="Уточнить объём"),
            "product_category": category,
            "product": product_factory(actor=head, category=category, name="Труба 57×3,5"),
            "contact_source": source,
            "dictionary_kind": "sources",
            "distribution_rule": DistributionRule.objects.create(name="Москва", kind="city", value="Москва"),
            "public_mail_domain": PublicMailDomain.objects.get_or_create(domain="mail.example")[0],
            "import_batch": _import_batch(head, colleague),
            "bank_statement": statement,
            "calendar_token": CalendarFeed.objects.create(user=colleague, token=FEED_TOKEN).token,
            "user": colleague,
        }
    )


def _import_batch(head: User, colleague: User) -> Any:
    from kurator.inquiries.models import ImportBatch

    batch = ImportBatch(original_name="клиенты.csv", checksum="0" * 64, created_by=head, curator=colleague)
    batch.file.save(
        "clients.csv", ContentFile("Наименование;ИНН\nООО «Ромашка»;7707083893\n".encode()), save=False
    )
    batch.save()
    return batch


def _personal(world: World, user: User, head: User) -> None:
    from kurator.access.models import AccessGrant, AccessRequest
    from kurator.activities.models import Notification

    notification = Notification.objects.create(
        recipient=user, kind="task", text=f"Личное уведомление {user.username}", url="/my-day/"
    )
    request = AccessRequest.objects.create(
        requester=user,
        company=world.granted_company,
        reason="Нужны документы",
        status="approved",
        decided_by=head,
        decided_at=timezone.now(),
        expires_on=timezone.localdate() + timedelta(days=7),
    )
    grant = AccessGrant.objects.create(
        user=user,
        company=world.granted_company,
        request=request,
        granted_by=head,
        expires_on=timezone.localdate() + timedelta(days=7),
    )
    pending = AccessRequest.objects.create(
        requester=user,
        company=world.colleague_company,
        reason=f"Проверить платёжеспособность ({user.username})",
    )
    world.personal[user.username] = {
        "notification": notification,
        "access_request": pending,
        "approved_access_request": request,
        "access_grant": grant,
    }
    issued = _api_token(user)
    if issued is not None:
        world.personal[user.username]["api_token"] = issued[0]
        world.api_keys[user.username] = issued[1]


def _api_token(user: User) -> tuple[Any, str] | None:
    """The user's revocable API token and its key (kurator/accounts/tokens.py), when that module exists."""
    try:
        from kurator.accounts.tokens import api_token_create
    except ImportError:
        return None
    return api_token_create(actor=user, name=f"Интеграция {user.username}")


def build_world() -> World:
    """Write the world (see the module docstring); call inside a transaction that will be rolled back."""
    from kurator.finance.models import Payment

    users = {
        role: UserFactory(
            username=f"sec-{role}", role=ROLE_OF[role], first_name=role.title(), last_name="Тестов"
        )
        for role in ("manager", "senior", "head", "finance", "admin", "inactive")
    }
    colleague = UserFactory(
        username="sec-colleague", role=Role.MANAGER, first_name="Коллега", last_name="Тестов"
    )
    head = users["head"]
    own = {
        role: company_factory(actor=head, curator=users[role], full_name=f"ООО «Свой {role}»")
        for role in CURATING
    }
    colleague_company = company_factory(actor=head, curator=colleague, full_name="ООО «Клиент коллеги»")
    granted_company = company_factory(actor=head, curator=colleague, full_name="ООО «Открытый клиент»")
    world = World(
        users=users,
        colleague=colleague,
        own=own,
        colleague_company=colleague_company,
        granted_company=granted_company,
    )
    _shared(world, head, colleague)
    companies = [(own[role], users[role]) for role in CURATING]
    companies += [(colleague_company, colleague), (granted_company, colleague)]
    for index, (company, curator) in enumerate(companies, start=1):
        _records(world, company, curator, users["finance"], index)
    # A duplicate of the colleague's client (for the merge pages) and a bank payment waiting for review.
    world.shared["duplicate_company"] = company_factory(
        actor=head, curator=colleague, full_name="ООО «Клиент коллеги» (дубль)"
    )
    world.shared["bank_payment"] = Payment.objects.create(
        company=None,
        paid_on=date(2025, 2, 1),
        amount=Decimal("27300.00"),
        source="bank",
        statement=world.shared["bank_statement"],
        bank_key="sectests-1",
        review_status="pending",
        payer_name="ООО «Гамма Логистик»",
        created_by=users["finance"],
    )
    for user in [*users.values(), colleague]:
        _personal(world, user, head)
    # Outsiders: the inactive user's account is switched off after its records were written.
    users["inactive"].is_active = False
    users["inactive"].save(update_fields=["is_active"])
    return world
