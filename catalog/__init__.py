"""Catalog and stock (商品与库存): outlets, items, donors and append-only stock movements."""
