"""The supermarket's shelves (积分超市): outlets, goods and services, donors, stock receipts and
stocktakes (``items``, ``stock``), and item pictures (``pictures``). Staff manage them here; the ``catalog``
core keeps the books.

Builds on ``mall.access`` and ``mall.org``; independent of earning and the counter.
"""

__all__ = ["items", "outlets", "pictures", "stock", "values"]
