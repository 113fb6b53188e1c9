"""The finance forms, one module per area (see kurator/finance/__init__.py)."""
