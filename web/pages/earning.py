"""HTML pages. (Filled in by the issue that owns it.)"""

ROUTES: list = []
