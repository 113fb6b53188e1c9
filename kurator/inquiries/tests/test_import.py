"""S1: the import's verdict on every row (new / duplicate with reasons / refused with field and reason), the
dry run that writes nothing, the apply that writes in one transaction, and the XLSX result."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation

from kurator.companies import services
from kurator.companies.models import BankAccount, Company, Contact, ContactSource, LegalForm
from kurator.core.errors import AccessDenied
from kurator.inquiries import importing
from kurator.inquiries.importing import (
    DUPLICATE,
    NEW,
    REFUSED,
    export_xlsx,
    import_apply,
    import_dry_run,
    import_prepare,
    reason_text,
)
from kurator.inquiries.models import ImportBatch, ImportStatus
from tests.factories import SBERBANK_BIK, SBERBANK_CORR, company_factory, contact_factory

pytestmark = pytest.mark.django_db

FILES = Path(__file__).parent / "files"
CP1251 = (FILES / "clients_cp1251.csv").read_bytes()
ACCOUNT = "40702810938000000001"  # a valid settlement account at Sberbank's BIK 044525225


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def old_client(manager):
    """The base already holds row 8 of the fixture file, by INN/KPP and phone."""
    return company_factory(
        actor=manager,
        full_name="ЗАО «Старый клиент»",
        inn="6486579752",
        kpp="648601001",
        phones=["+7 343 222-33-44"],
    )


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8") -> bytes:
    return "\r\n".join(";".join(row) for row in rows).encode(encoding)


def counts() -> tuple[int, int, int, int, int, int]:
    return (
        Company.objects.count(),
        Contact.objects.count(),
        BankAccount.objects.count(),
        Company.history.count(),
        Contact.history.count(),
        BankAccount.history.count(),
    )


def by_row(report: list[dict]) -> dict[int, dict]:
    return {entry["row"]: entry for entry in report}


def test_dry_run_of_a_windows_1251_list_sorts_every_row_and_writes_nothing(head, old_client):
    """S1: new rows, duplicates of the base and of an earlier row (with the matcher's reasons and the
    company), refused rows (each field with the services' message); the dry run writes nothing at all."""
    before = counts()
    analysis = import_dry_run(actor=head, data=CP1251, filename="clients.csv")
    rows = {r.row: r for r in analysis.rows}
    assert analysis.totals == {NEW: 5, DUPLICATE: 2, REFUSED: 2}
    assert [rows[n].status for n in range(2, 11)] == [
        NEW,
        NEW,
        NEW,
        DUPLICATE,
        REFUSED,
        REFUSED,
        DUPLICATE,
        NEW,
        NEW,
    ]

    # Row 5 repeats row 2 of the same file by INN and KPP.
    assert rows[5].duplicate_of_row == 2 and rows[5].company is None
    assert rows[5].reasons[0]["code"] == "inn"
    assert rows[5].reasons[0]["text"] == "Same INN 4226018159 and KPP 422643001 as row 2 of this file"

    # Row 8 is the old client: certain by INN/KPP, and its phone too; the reasons are the matcher's.
    assert rows[8].company == old_client.pk
    assert [r["code"] for r in rows[8].reasons] == ["inn", "phone", "name"]
    assert rows[8].reasons[0]["text"] == "Same INN 6486579752 and KPP 648601001"
    assert rows[8].reasons[1]["text"] == "The phone +73432223344 is the company's"
    assert all(r["company"] == old_client.pk for r in rows[8].reasons)

    # Refused rows name every bad field with the services' message.
    assert [(r["field"], r["code"]) for r in rows[6].reasons] == [("inn", "inn_checksum")]
    assert rows[6].reasons[0]["column"] == "ИНН"
    assert rows[6].reasons[0]["text"] == "INN checksum does not match: check the digits."
    assert {(r["field"], r["code"]) for r in rows[7].reasons} == {
        ("phones", "phone_invalid"),
        ("emails", "email_invalid"),
    }
    assert "“не-почта” is not a valid e-mail address." in [r["text"] for r in rows[7].reasons]

    # An unknown source is not a refusal: the batch's source is used, and the row says so.
    assert rows[10].status == NEW
    assert rows[10].reasons[0]["code"] == "source_unknown"
    assert "Реклама на заборе" in rows[10].reasons[0]["text"]

    assert counts() == before
    assert not ImportBatch.objects.exists()


def test_requisites_with_spaces_phones_in_any_spelling_and_legal_forms_in_front_or_behind(head):
    """S1: «4226 018 159» is an INN, «8 (495) 123-45-67» a phone in E.164, «ООО "Ромашка"» and «Василёк», ООО
    both an LLC, «ИП Сидоров» a sole trader with a 12-digit INN."""
    analysis = import_dry_run(actor=head, data=CP1251)
    rows = {r.row: r for r in analysis.rows}
    romashka, vasilek, sidorov = rows[2].company_fields, rows[3].company_fields, rows[4].company_fields
    assert romashka is not None and vasilek is not None and sidorov is not None
    assert romashka["inn"] == "4226018159"
    assert romashka["phones"] == ["+74951234567"]
    assert romashka["legal_form"] == LegalForm.OOO
    assert vasilek["legal_form"] == LegalForm.OOO
    assert vasilek["full_name"] == "«Василёк», ООО"
    assert sidorov["legal_form"] == LegalForm.IP
    assert sidorov["inn"] == "865075291780"
    assert rows[2].contact_fields == {
        "full_name": "Иванов Иван Иванович",
        "phones": [],
        "emails": [],
        "position": "Директор",
    }


def test_apply_writes_the_new_rows_in_one_go_and_a_second_run_creates_nothing(head, manager, old_client):
    """S1: the preview is kept as a batch and writes nothing to the dossier; applying creates the new
    companies (curator, source, contact person, history); the same file again finds only duplicates."""
    fair = ContactSource.objects.get(name="Выставки")
    internet = ContactSource.objects.get(name="Интернет")
    default = ContactSource.objects.get(name="Периодические издания")
    before = counts()
    batch = import_prepare(
        actor=head, data=CP1251, filename="clients.csv", curator=manager.pk, source=default.pk
    )
    assert batch.status == ImportStatus.PREVIEW
    assert (batch.encoding, batch.delimiter) == ("cp1251", ";")
    assert batch.totals == {NEW: 5, DUPLICATE: 2, REFUSED: 2}
    assert counts() == before  # the preview writes nothing to the dossier

    batch = import_apply(actor=head, batch=batch)
    assert batch.status == ImportStatus.APPLIED and batch.applied_at is not None
    report = by_row(batch.report)
    created = Company.objects.filter(pk__in=[e["company"] for e in batch.report if e["status"] == NEW])
    assert created.count() == 5
    assert Company.objects.count() == before[0] + 5
    assert set(created.values_list("curator", flat=True)) == {manager.pk}
    assert set(created.values_list("created_by", flat=True)) == {head.pk}

    romashka = Company.objects.get(pk=report[2]["company"])
    assert romashka.source == fair  # «выставки» in the file, folded
    assert Company.objects.get(pk=report[3]["company"]).source == internet
    assert Company.objects.get(pk=report[10]["company"]).source == default  # unknown in the file
    assert Company.objects.get(pk=report[4]["company"]).source == default  # empty in the file
    person = romashka.contacts.get()
    assert (person.full_name, person.position) == ("Иванов Иван Иванович", "Директор")
    record = Company.history.get(id=romashka.pk)
    assert record.history_type == "+" and record.history_user == head
    assert record.history_change_reason == "Imported from the file “clients.csv”"
    assert Contact.history.get(id=person.pk).history_user == head
    # The in-file duplicate now points at the company its first occurrence created.
    assert report[5]["company"] == romashka.pk
    assert report[8]["company"] == old_client.pk

    after_first = counts()
    again = import_apply(
        actor=head, batch=import_prepare(actor=head, data=CP1251, filename="x.csv", curator=manager)
    )
    assert again.totals == {NEW: 0, DUPLICATE: 7, REFUSED: 2}
    assert counts() == after_first
    assert by_row(again.report)[2]["company"] == romashka.pk


def test_an_applied_batch_is_not_applied_twice(head, manager):
    """S1: applying the same batch again is refused, and writes nothing."""
    batch = import_apply(
        actor=head, batch=import_prepare(actor=head, data=CP1251, filename="a.csv", curator=manager)
    )
    before = counts()
    with pytest.raises(ValidationError) as caught:
        import_apply(actor=head, batch=batch)
    assert caught.value.code == "applied"
    assert counts() == before
    batch.refresh_from_db()
    assert batch.status == ImportStatus.APPLIED


def test_a_failure_mid_way_leaves_the_base_as_it_was(head, manager, monkeypatch):
    """S1: the companies are inserted, then writing the people fails: nothing of the batch stays."""
    real = importing._insert

    def failing(model, objs, **kwargs):
        if model is Contact:
            raise RuntimeError("disk full")
        return real(model, objs, **kwargs)

    monkeypatch.setattr(importing, "_insert", failing)
    batch = import_prepare(actor=head, data=CP1251, filename="a.csv", curator=manager)
    before = counts()
    with pytest.raises(RuntimeError):
        import_apply(actor=head, batch=batch)
    assert counts() == before
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED

    # Once the cause is gone, the failed batch can be applied.
    monkeypatch.setattr(importing, "_insert", real)
    assert import_apply(actor=head, batch=batch).status == ImportStatus.APPLIED
    assert Company.objects.count() == before[0] + 6  # row 8 is new too: the base is empty here


def test_a_failure_while_the_rows_are_still_being_read_leaves_the_base_as_it_was(head, manager, monkeypatch):
    """S1: on PostgreSQL the companies stream into the database while later rows are still checked; a failure
    at row 8 (after new rows were written) abandons the stream and leaves nothing."""
    real = importing._Analyser.match

    def failing(self, checked):
        if checked.row == 8:
            raise RuntimeError("the server went away")
        return real(self, checked)

    batch = import_prepare(actor=head, data=CP1251, filename="a.csv", curator=manager)
    monkeypatch.setattr(importing._Analyser, "match", failing)
    before = counts()
    with pytest.raises(RuntimeError):
        import_apply(actor=head, batch=batch)
    assert counts() == before
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED


def test_apply_reuses_the_preview_checks_and_matches_the_base_as_it_is_now(head, manager, monkeypatch):
    """S1: the apply does not check the rows again (the preview's checks are kept with the batch) but matches
    them against the base as it is at that moment: a client entered since the preview makes its row a
    duplicate."""
    batch = import_prepare(actor=head, data=CP1251, filename="a.csv", curator=manager)
    assert batch.totals == {NEW: 6, DUPLICATE: 1, REFUSED: 2}
    since = company_factory(actor=manager, full_name="ООО «Ромашка»", inn="4226018159", kpp="422643001")

    def no_checks(self, number, cells):
        raise AssertionError("the apply checked a row again")

    monkeypatch.setattr(importing._Analyser, "check", no_checks)
    batch = import_apply(actor=head, batch=batch)
    report = by_row(batch.report)
    assert batch.totals == {NEW: 5, DUPLICATE: 2, REFUSED: 2}
    assert (report[2]["status"], report[2]["company"]) == (DUPLICATE, since.pk)
    assert report[6]["status"] == REFUSED
    assert report[6]["reasons"][0]["text"] == "INN checksum does not match: check the digits."


def test_apply_checks_the_rows_again_when_what_they_were_checked_with_changed(head, manager):
    """S1: a contact source renamed since the preview: the apply checks every row itself."""
    batch = import_prepare(actor=head, data=CP1251, filename="a.csv", curator=manager)
    ContactSource.objects.filter(name="Выставки").update(name="Выставка")
    batch = import_apply(actor=head, batch=batch)
    romashka = Company.objects.get(pk=by_row(batch.report)[2]["company"])
    assert romashka.source is None  # «выставки» no longer names a source
    assert by_row(batch.report)[2]["reasons"][0]["code"] == "source_unknown"


def test_a_damaged_copy_of_the_checks_is_not_trusted(head, manager):
    """S1: the apply checks the rows itself when the kept checks cannot be read."""
    batch = import_prepare(actor=head, data=CP1251, filename="a.csv", curator=manager)
    with batch.file.storage.open(importing._checked_name(batch), "wb") as handle:
        handle.write(b"not gzip at all")
    assert import_apply(actor=head, batch=batch).totals == {NEW: 6, DUPLICATE: 1, REFUSED: 2}


def test_an_imported_company_is_exactly_what_the_services_make(head, manager):
    """S1, D11: the bulk import computes the derived columns, stamps and history as company_create,
    contact_create and bank_account_create do."""
    fields = {
        "full_name": "ООО «Ромашка»",
        "inn": "4226018159",
        "kpp": "422643001",
        "ogrn": "1182801661316",
        "phones": ["8 (495) 123-45-67"],
        "emails": ["info@romashka-test.ru"],
        "legal_address": "г. Москва, ул. Ленина, д. 1",
        "city": "Москва",
        "website": "romashka-test.ru",
    }
    person = {"full_name": "Иванов Иван Иванович", "position": "Директор", "phones": ["8 916 123 45 67"]}
    account = {"bik": SBERBANK_BIK, "settlement_account": ACCOUNT, "correspondent_account": SBERBANK_CORR}
    compared = (
        "full_name",
        "short_name",
        "legal_form",
        "inn",
        "kpp",
        "ogrn",
        "phones",
        "emails",
        "legal_address",
        "city",
        "website",
        "status",
        "curator_id",
        "source_id",
        "created_by_id",
        "completeness",
        "search_text",
        "sort_name",
        "version",
    )

    def snapshot(company: Company) -> dict:
        company.refresh_from_db()
        values = {f: getattr(company, f) for f in compared}
        values["stamps"] = [
            getattr(company, s) is not None
            for s in (
                "general_updated_at",
                "requisites_updated_at",
                "people_updated_at",
                "profile_updated_at",
            )
        ]
        values["history"] = list(
            Company.history.filter(id=company.pk).values_list("history_type", "history_user")
        )
        values["people"] = list(company.contacts.values_list("full_name", "position", "phones", "emails"))
        values["people_history"] = list(
            Contact.history.filter(company_id=company.pk).values_list("history_type", "history_user")
        )
        values["accounts"] = list(
            company.bank_accounts.values_list(
                "bik", "settlement_account", "correspondent_account", "is_primary"
            )
        )
        values["accounts_history"] = BankAccount.history.filter(company_id=company.pk).count()
        return values

    savepoint = transaction.savepoint()
    made = services.company_create(actor=head, curator=manager, **fields)
    services.contact_create(actor=head, company=made, **person)
    services.bank_account_create(actor=head, company=made, **account)
    expected = snapshot(made)
    transaction.savepoint_rollback(savepoint)
    assert not Company.objects.filter(inn=fields["inn"]).exists()

    headings = ["Наименование", "ИНН", "КПП", "ОГРН", "Телефон", "E-mail", "Юридический адрес", "Город"]
    headings += ["Сайт", "Контактное лицо", "Должность", "Телефон контактного лица", "БИК", "Р/с", "К/с"]
    values: list[Any] = [
        fields["full_name"],
        "4226 018 159",
        fields["kpp"],
        fields["ogrn"],
        "8 (495) 123-45-67",
    ]
    values += ["info@romashka-test.ru", fields["legal_address"], "Москва", "romashka-test.ru"]
    values += [person["full_name"], "Директор", "8 916 123 45 67", SBERBANK_BIK, ACCOUNT, SBERBANK_CORR]
    rows = [headings, [str(v) for v in values]]
    batch = import_apply(
        actor=head,
        batch=import_prepare(actor=head, data=csv_bytes(rows), filename="one.csv", curator=manager),
    )
    assert batch.totals[NEW] == 1, batch.report
    imported = Company.objects.get(pk=batch.report[0]["company"])
    assert snapshot(imported) == expected
    assert expected["stamps"] == [True, True, True, False]
    assert expected["completeness"] > 0


def test_an_xlsx_list_with_numbers_that_lost_their_leading_zeros(head, manager):
    """S1: an XLSX whose INN and KPP were typed as numbers (0990748337 shown as 990748337) is imported with
    the zeros back; the first sheet is read."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Компания", "ИНН", "КПП", "Телефон"])
    sheet.append(["ООО Нулевой", 990748337, 99045002, 84951234567])
    workbook.create_sheet("Другое").append(["Не то", "совсем"])
    out = io.BytesIO()
    workbook.save(out)
    batch = import_apply(
        actor=head,
        batch=import_prepare(actor=head, data=out.getvalue(), filename="list.xlsx", curator=manager),
    )
    assert batch.totals == {NEW: 1, DUPLICATE: 0, REFUSED: 0}, batch.report
    company = Company.objects.get(pk=batch.report[0]["company"])
    assert (company.inn, company.kpp, company.phones) == ("0990748337", "099045002", ["+74951234567"])


def test_duplicates_within_the_file_by_phone_e_mail_domain_and_name(head):
    """S1: a second occurrence of the same phone, e-mail, corporate domain or normalised name in the file is a
    duplicate of the first row; a public mail domain is not."""
    rows = [
        ["Название", "Телефон", "Email"],
        ["ООО «Альфа»", "8 (495) 111-22-33", "a@alfa-test.ru"],
        ["Бета", "+7 495 111-22-33", ""],  # same phone as row 2
        ["Гамма", "", "A@Alfa-Test.ru"],  # same e-mail, other case
        ["Дельта", "", "sales@alfa-test.ru"],  # same corporate domain
        ["Альфа, ООО", "", ""],  # same name once the legal form and quotes are gone
        ["Эпсилон", "", "ivan@mail.ru"],
        ["Зета", "", "petr@mail.ru"],  # a public domain says nothing
    ]
    rows_by_number = {r.row: r for r in import_dry_run(actor=head, data=csv_bytes(rows)).rows}
    assert [rows_by_number[n].status for n in range(2, 9)] == [
        NEW,
        DUPLICATE,
        DUPLICATE,
        DUPLICATE,
        DUPLICATE,
        NEW,
        NEW,
    ]
    assert {rows_by_number[n].duplicate_of_row for n in (3, 4, 5, 6)} == {2}
    assert [rows_by_number[n].reasons[0]["code"] for n in (3, 4, 5, 6)] == [
        "phone",
        "email",
        "domain",
        "name",
    ]
    assert rows_by_number[3].reasons[0]["text"] == "Same phone +74951112233 as row 2 of this file"
    assert rows_by_number[6].reasons[0]["text"] == "Same name “ООО «Альфа»” as row 2 of this file"


def test_duplicates_of_the_base_by_a_person_s_phone_a_domain_and_the_name(head, manager):
    """S1, R2: the phone of a person of an existing client, the domain of its website, its name: the reasons
    name what matched, in the matcher's words, with the company."""
    client = company_factory(actor=manager, full_name="ООО «Вектор»", website="https://www.vector-test.ru")
    contact_factory(actor=manager, company=client, full_name="Смирнов Олег", phones=["+7 916 555-44-33"])
    rows = [
        ["Наименование", "Телефон", "E-mail"],
        ["Совсем другое имя", "8 916 555-44-33", ""],
        ["Ещё одно имя", "", "boss@vector-test.ru"],
        ["Вектор", "", ""],
    ]
    result = {r.row: r for r in import_dry_run(actor=head, data=csv_bytes(rows)).rows}
    assert all(result[n].status == DUPLICATE and result[n].company == client.pk for n in (2, 3, 4))
    assert result[2].reasons[0]["text"] == "The phone +79165554433 belongs to Смирнов Олег of this company"
    assert result[3].reasons[0]["text"] == (
        "The e-mail domain vector-test.ru is the company's website (vector-test.ru)"
    )
    assert result[4].reasons[0]["text"] == "Same name: “ООО «Вектор»”"
    assert result[4].reasons[0]["score"] == 100.0


def test_the_bulk_finder_gives_the_matcher_s_verdict_and_reasons(head, manager):
    """S1, R2: for rows like those of a client list, the import's bulk duplicate finder names the company and
    the reasons (keys, codes, sentences) match_company gives for the same values."""
    from kurator.inquiries.matching import match_company

    vector = company_factory(
        actor=manager,
        full_name="ООО «Вектор»",
        inn="4226018159",
        kpp="422643001",
        phones=["+7 495 111-22-33"],
        emails=["info@vector-test.ru"],
        website="https://www.vector-test.ru",
    )
    contact_factory(actor=manager, company=vector, full_name="Смирнов Олег", phones=["+7 916 555-44-33"])
    company_factory(actor=manager, full_name="ЗАО «Без ИНН»", inn="", kpp="", ogrn="")
    cases: list[dict[str, Any]] = [
        {"name": "Вектор", "inn": "4226018159", "kpp": "422643001"},
        {"name": "Вектор", "inn": "4226018159", "kpp": "422601002"},
        {"name": "Что-то", "phones": ["8 (495) 111-22-33"]},
        {"name": "Что-то", "phones": ["8 916 555 44 33"]},
        {"name": "Что-то", "emails": ["INFO@vector-test.ru"]},
        {"name": "Что-то", "emails": ["boss@vector-test.ru"]},
        {"name": "Что-то", "emails": ["boss@mail.vector-test.ru"]},
        {"name": "Без ИНН, ЗАО"},
    ]
    headings = ["Наименование", "ИНН", "КПП", "Телефон", "E-mail"]
    rows = [headings] + [
        [
            c["name"],
            c.get("inn", ""),
            c.get("kpp", ""),
            ", ".join(c.get("phones", [])),
            ", ".join(c.get("emails", [])),
        ]
        for c in cases
    ]
    analysed = import_dry_run(actor=head, data=csv_bytes(rows)).rows
    for case, row in zip(cases, analysed, strict=True):
        expected = match_company(
            inn=case.get("inn", ""),
            kpp=case.get("kpp", ""),
            phones=case.get("phones", ()),
            emails=case.get("emails", ()),
            name=case["name"],
        )
        assert row.status == DUPLICATE, (case, row.reasons)
        assert expected.company is not None, case
        assert row.company == expected.company.pk, case
        keys = lambda reasons: [(r["key"], r["code"], r["text"], r["company"]) for r in reasons]  # noqa: E731
        assert keys(row.reasons) == keys(expected.reasons), case


def test_a_shared_phone_with_another_inn_is_another_legal_entity(head, manager):
    """S1, R2: as the matcher does, a company with another INN is not the same client, whatever they share;
    the row is new and says what it shares."""
    client = company_factory(actor=manager, full_name="ООО «Холдинг»", phones=["+7 495 222-33-44"])
    rows = [["Наименование", "ИНН", "Телефон"], ["ООО «Дочка»", "4226018159", "8 (495) 222-33-44"]]
    (row,) = import_dry_run(actor=head, data=csv_bytes(rows)).rows
    assert row.status == NEW
    assert [r["code"] for r in row.reasons] == ["other_entity", "phone"]
    assert row.reasons[1]["company"] == client.pk


def test_a_merged_duplicate_s_inn_resolves_to_its_survivor(head, manager):
    """S1, R2: the INN of a merged duplicate (its row stays) points at the company it was merged into."""
    survivor = company_factory(actor=manager, full_name="ООО «Выживший»")
    merged = company_factory(actor=manager, full_name="ООО «Дубль»", inn="4226018159", kpp="422643001")
    Company.objects.filter(pk=merged.pk).update(merged_into=survivor)
    rows = [["Наименование", "ИНН", "КПП"], ["Дубль", "4226018159", "422643001"]]
    (row,) = import_dry_run(actor=head, data=csv_bytes(rows)).rows
    assert (row.status, row.company) == (DUPLICATE, survivor.pk)


def test_bank_account_rows_are_checked_like_the_service_checks_them(head, manager):
    """S1, D1: a bank account in the row needs a valid BIK and an account matching it; otherwise the row is
    refused naming the field."""
    rows = [
        ["Наименование", "БИК", "Р/с", "К/с", "Банк"],
        ["ООО Один", SBERBANK_BIK, ACCOUNT, SBERBANK_CORR, "ПАО Сбербанк"],
        ["ООО Два", SBERBANK_BIK, "40702810938000000002", "", ""],
        ["ООО Три", "", "", "", "ПАО Сбербанк"],
    ]
    result = {r.row: r for r in import_dry_run(actor=head, data=csv_bytes(rows)).rows}
    assert result[2].status == NEW
    assert result[2].bank_fields == {
        "bank_name": "ПАО Сбербанк",
        "bik": SBERBANK_BIK,
        "settlement_account": ACCOUNT,
        "correspondent_account": SBERBANK_CORR,
        "is_primary": True,
    }
    assert [(r["field"], r["code"]) for r in result[3].reasons] == [("settlement_account", "account_key")]
    assert {(r["field"], r["code"]) for r in result[4].reasons} == {
        ("bik", "required"),
        ("settlement_account", "required"),
    }


def test_a_sole_trader_with_a_ten_digit_inn_is_refused(head):
    """S1: «ИП …» with an organisation's INN is refused as company_create refuses it."""
    rows = [["Наименование", "ИНН"], ["ИП Петров П.П.", "4226018159"]]
    (row,) = import_dry_run(actor=head, data=csv_bytes(rows)).rows
    assert row.status == REFUSED
    assert [(r["field"], r["code"]) for r in row.reasons] == [("inn", "inn_kind_mismatch")]


def test_a_file_without_a_name_column_asks_for_the_mapping(head, manager):
    """S1: no column is the company name: the preview says so and rows wait for the mapping; applying is
    refused and writes nothing; with the corrected mapping the rows are read."""
    rows = [["Кто такие", "ИНН"], ["ООО Ромашка", "4226018159"]]
    analysis = import_dry_run(actor=head, data=csv_bytes(rows))
    assert analysis.rows == []
    assert analysis.problems == [
        "No column is recognised as the company name: choose it in the column mapping."
    ]
    batch = import_prepare(actor=head, data=csv_bytes(rows), filename="a.csv", curator=manager)
    before = counts()
    with pytest.raises(ValidationError):
        import_apply(actor=head, batch=batch)
    assert counts() == before
    batch = importing.import_remap(actor=head, batch=batch, mapping={"0": "full_name"})
    assert batch.totals == {NEW: 1, DUPLICATE: 0, REFUSED: 0}
    assert import_apply(actor=head, batch=batch).status == ImportStatus.APPLIED


def test_only_the_head_of_sales_imports_and_the_curator_must_be_a_seller(head, manager, finance):
    """S1, R4: a manager may not import; the curator of the new companies is an active sales employee."""
    with pytest.raises(AccessDenied):
        import_dry_run(actor=manager, data=CP1251)
    with pytest.raises(AccessDenied):
        import_prepare(actor=manager, data=CP1251, filename="a.csv", curator=manager)
    with pytest.raises(ValidationError) as caught:
        import_prepare(actor=head, data=CP1251, filename="a.csv", curator=finance)
    assert "curator" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        import_prepare(actor=head, data=CP1251, filename="a.csv", curator=None)
    assert "curator" in caught.value.message_dict
    assert not ImportBatch.objects.exists()


def test_the_xlsx_result_has_the_original_columns_a_status_and_escaped_formulas(head, manager, old_client):
    """S1: the downloadable result: the file's columns plus status, company id and reasons; a cell that a
    spreadsheet would run as a formula is written as text."""
    batch = import_apply(
        actor=head, batch=import_prepare(actor=head, data=CP1251, filename="a.csv", curator=manager)
    )
    out = io.BytesIO()
    export_xlsx(batch, out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-3:] == ("Import status", "Company id", "Reasons")
    assert rows[0][1] == "Наименование"
    assert len(rows) == 10
    report = by_row(batch.report)
    assert rows[1][-3] == "New" and rows[1][-2] == report[2]["company"]
    assert rows[7][-3] == "Duplicate" and rows[7][-2] == old_client.pk
    assert rows[7][-1].startswith("Same INN 6486579752 and KPP 648601001; The phone")
    assert rows[5][-3] == "Refused" and rows[5][-1] == "ИНН: INN checksum does not match: check the digits."
    assert rows[8][1] == '\'=HYPERLINK("http://evil.example";"Жми")'
    assert rows[2][5] == "'+7 812 555-00-11"
    assert rows[1][5] == "8 (495) 123-45-67"
    for row in rows:
        for value in row:
            assert not (isinstance(value, str) and value[:1] in "=+-@"), value


def test_reasons_are_shown_again_in_the_reader_s_language(head, old_client):
    """S1: a stored reason is rendered in the language of whoever reads it."""
    analysis = import_dry_run(actor=head, data=CP1251)
    rows = {r.row: r for r in analysis.rows}
    assert reason_text(rows[5].reasons[0]) == rows[5].reasons[0]["text"]
    assert reason_text(rows[8].reasons[0]) == rows[8].reasons[0]["text"]
