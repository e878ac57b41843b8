"""JSON API controllers: see API.md. (Filled in by the issue that owns it.)"""

ROUTES: list = []
