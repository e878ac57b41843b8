"""The HTML pages of the web app. Each module holds one area's controller."""

PAGE_ROUTES: list = []
