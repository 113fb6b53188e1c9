"""The finance api, one module per area (see kurator/finance/__init__.py)."""
