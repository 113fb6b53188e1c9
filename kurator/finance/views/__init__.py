"""The finance views, one module per area (see kurator/finance/__init__.py).

A stub until the area is built."""
