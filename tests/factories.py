"""Test factories. Domain records are made through the services, so derived fields stay true."""

from __future__ import annotations

import random
from typing import Any

import factory

from kurator.accounts.models import Role, User
from kurator.companies import services
from kurator.companies.models import BankAccount, Company, Contact
from kurator.core.requisites import (
    generate_inn,
    generate_kpp,
    generate_ogrn,
    generate_settlement_account,
)

_rng = random.Random(20261127)

SBERBANK_BIK = "044525225"
SBERBANK_CORR = "30101810400000000225"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Iterator(["Иван", "Мария", "Олег", "Анна", "Сергей"])
    last_name = factory.Iterator(["Петров", "Смирнова", "Кузнецов", "Иванова", "Соколов"])
    role = Role.MANAGER
    password = factory.django.Password("kurator-test-pass")


def company_factory(*, actor: User, **fields: Any) -> Company:
    inn = fields.pop("inn", None) or generate_inn(_rng, "legal")
    defaults: dict[str, Any] = {
        "full_name": f"ООО «Тестовая компания {inn[-5:]}»",
        "inn": inn,
        "kpp": generate_kpp(_rng, inn) if len(inn) == 10 else "",
        "ogrn": generate_ogrn(_rng, "legal" if len(inn) == 10 else "person"),
        "city": "Москва",
    }
    defaults.update(fields)
    return services.company_create(actor=actor, **defaults)


def contact_factory(*, actor: User, company: Company, **fields: Any) -> Contact:
    defaults: dict[str, Any] = {"full_name": "Сидоров Пётр Ильич", "position": "Директор"}
    defaults.update(fields)
    return services.contact_create(actor=actor, company=company, **defaults)


def bank_account_factory(*, actor: User, company: Company, **fields: Any) -> BankAccount:
    defaults: dict[str, Any] = {
        "bik": SBERBANK_BIK,
        "settlement_account": generate_settlement_account(_rng, SBERBANK_BIK),
        "correspondent_account": SBERBANK_CORR,
        "bank_name": "ПАО Сбербанк",
    }
    defaults.update(fields)
    return services.bank_account_create(actor=actor, company=company, **defaults)
