"""The demo (`mall demo`): a street, two communities, their people, earning history, shelves and
orders, made through the real services (``load.load_demo``)."""

__all__ = ["load"]
