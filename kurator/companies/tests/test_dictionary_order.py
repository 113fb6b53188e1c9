"""Dictionary entries in the order the head of sales gives them (S2, D9): a new entry goes last; sub-sources
follow their parent in the company form, the list's filter and the dictionary page alike."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from kurator.companies import services
from kurator.companies.forms import CompanyForm
from kurator.companies.models import ApplicationSphere, ContactSource
from kurator.companies.selectors import sources_in_tree_order


def login(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def test_a_new_entry_goes_after_the_last_one(head):
    """S2, D9: an entry added without a position is placed last (not first, at 0); a sub-source last among
    its parent's sub-sources; an edit without a position keeps the entry's place."""
    client = login(head)
    spheres = reverse("companies:dictionary", args=["spheres"])
    last = max(ApplicationSphere.objects.values_list("position", flat=True))
    assert client.post(spheres, {"name": "Судостроение", "is_active": "on"}).status_code == 302
    assert ApplicationSphere.objects.get(name="Судостроение").position == last + 1

    sources = reverse("companies:dictionary", args=["sources"])
    parent = ContactSource.objects.filter(parent=None).order_by("position").first()
    assert parent is not None
    client.post(sources, {"name": "Первый", "parent": parent.pk, "is_active": "on"})
    client.post(sources, {"name": "Второй", "parent": parent.pk, "is_active": "on"})
    assert list(parent.children.order_by("position").values_list("name", "position")) == [
        ("Первый", 0),
        ("Второй", 1),
    ]

    second = ContactSource.objects.get(name="Второй")
    item = reverse("companies:dictionary_item", args=["sources", second.pk])
    client.post(item, {"name": "Второй (переименован)", "parent": parent.pk, "is_active": "on"})
    second.refresh_from_db()
    assert (second.name, second.position) == ("Второй (переименован)", 1)
    assert client.get(spheres).status_code == 200


def test_a_source_added_through_the_api_without_a_position_goes_last(head):
    """S2: the API follows the same rule as the page."""
    client = APIClient()
    client.force_authenticate(head)
    last = max(ContactSource.objects.filter(parent=None).values_list("position", flat=True))
    response = client.post("/api/v1/sources/", {"name": "Выставка «Металл-Экспо»"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["position"] == last + 1


@pytest.fixture
def source_tree(head):
    """Top-level sources out of alphabetical order, with sub-sources out of order too."""
    ContactSource.objects.all().delete()
    save = services.dictionary_item_save
    zeta = save(actor=head, kind="sources", name="Я-пресса", position=0)
    alpha = save(actor=head, kind="sources", name="А-интернет", position=5)
    save(actor=head, kind="sources", name="Журнал", position=2, parent=zeta)
    save(actor=head, kind="sources", name="Газета", position=1, parent=zeta)
    save(actor=head, kind="sources", name="Яндекс", position=0, parent=alpha)
    return ["Я-пресса", "Я-пресса → Газета", "Я-пресса → Журнал", "А-интернет", "А-интернет → Яндекс"]


def test_sources_are_ordered_as_a_tree(source_tree):
    """S2: parents by their position, each followed by its sub-sources by theirs."""
    labels = [f"{s.parent.name} → {s.name}" if s.parent else s.name for s in sources_in_tree_order()]
    assert labels == source_tree


def test_the_company_form_and_the_list_filter_list_sources_in_the_same_order(manager, source_tree):
    """S2: the source select of the company form and the list's source filter show the same order, with
    sub-sources right after their parent."""
    field: Any = CompanyForm(actor=manager).fields["source"]
    in_form = [label for value, label in field.choices if value != ""]
    assert in_form == source_tree

    page = unescape(login(manager).get(reverse("companies:list")).content.decode())
    select = re.search(r'<select name="source".*?</select>', page, re.S)
    assert select is not None
    in_filter = re.findall(r'<option value="\d+">(.*?)</option>', select.group(0))
    assert in_filter == source_tree
