"""Contracts and obligations (D5), the catalogue and orders (D8), invoices, payments and receivables (D6),
solvency (D4) and conflicts (D7).

Each room (models, services, selectors, views, api, forms) is a package with one module per area:
``contracts`` (contracts, obligations), ``conflicts``, ``orders`` (catalogue, orders, credit control),
``receivables`` (invoices, payments, allocations, collection log), ``bank`` (1C statement import),
``solvency`` (financial statements, ratios, rating)."""
