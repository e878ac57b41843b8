"""Delivery: Litestar controllers, Jinja2 templates and the JSON API. No business rule lives here."""
