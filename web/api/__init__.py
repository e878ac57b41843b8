"""The JSON API under /api/v1 (API.md). Each module holds one resource's controller."""

from litestar import Router
from litestar.types import ControllerRouterHandler

from web.api import (
    activities,
    activity_changes,
    awards,
    catalog,
    checkins,
    counter,
    exports,
    inbox,
    notice,
    openings,
    policy,
    recognition,
    reservations,
    roster,
    stats,
)
from web.api.activation import ActivationController
from web.api.anomalies import AnomalyController
from web.api.audit import AuditController
from web.api.auth import AuthController
from web.api.cards import CardController
from web.api.communities import CommunityController
from web.api.households import BuildingHeadController, HouseholdController, ProxyController
from web.api.me import MeController
from web.api.resident_records import ResidentRecordController
from web.api.residents import ResidentController
from web.api.users import UserController

API_ROUTES: list[ControllerRouterHandler] = [
    AuthController,
    CommunityController,
    UserController,
    ResidentController,
    ResidentRecordController,
    CardController,
    ActivationController,
    MeController,
    HouseholdController,
    ProxyController,
    BuildingHeadController,
    AuditController,
    AnomalyController,
    *awards.ROUTES,
    *activities.ROUTES,
    *checkins.ROUTES,
    *activity_changes.ROUTES,
    *catalog.ROUTES,
    *counter.ROUTES,
    *reservations.ROUTES,
    *policy.ROUTES,
    *notice.ROUTES,
    *stats.ROUTES,
    *exports.ROUTES,
    *roster.ROUTES,
    *openings.ROUTES,
    *inbox.ROUTES,
    *recognition.ROUTES,
]

api_router = Router(path="/api/v1", route_handlers=API_ROUTES)
