"""Reads of contracts and obligations (D5)."""

from __future__ import annotations

from typing import Any

from kurator.finance.models import SIGNED_STATUSES, Contract


def deal_has_signed_contract(*, deal: Any) -> bool:
    """The signed-contract stage standard (R1): a contract tied to the deal is signed (or further along)."""
    return Contract.objects.filter(deal=deal, status__in=SIGNED_STATUSES).exists()
