"""Finance pages, mounted at /finance/; each area's view module lists its own patterns."""

from kurator.finance.views import bank, conflicts, contracts, orders, receivables, solvency

app_name = "finance"

urlpatterns = [
    *receivables.urlpatterns,
    *contracts.urlpatterns,
    *conflicts.urlpatterns,
    *orders.urlpatterns,
    *bank.urlpatterns,
    *solvency.urlpatterns,
]
