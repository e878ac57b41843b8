"""The JSON API under /api/v1 (API.md). Each module holds one resource's controller."""

from litestar import Router

API_ROUTES: list = []

api_router = Router(path="/api/v1", route_handlers=API_ROUTES)
