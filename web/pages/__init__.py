"""The HTML pages of the web app. Each module holds one area's controller."""

from litestar.types import ControllerRouterHandler

from web.pages import (
    activities,
    activity_changes,
    community,
    counter,
    earning,
    imports,
    inbox,
    my_activities,
    objections,
    openings,
    shop,
    stats,
    stats_workbook,
)
from web.pages.account import AccountController
from web.pages.admin import AdminController
from web.pages.admin_users import AdminUsersController
from web.pages.anomalies import AnomalyController
from web.pages.donors import DonorController
from web.pages.exports import ExportPages
from web.pages.my_orders import MyOrdersController
from web.pages.notice import NoticeController
from web.pages.passbook_filters import PassbookFilterController
from web.pages.passbook_print import PassbookPrintController
from web.pages.prints import PrintController
from web.pages.ranking import RankingController
from web.pages.resident import ResidentController
from web.pages.resident_records import ResidentRecordPages
from web.pages.staff import StaffController
from web.pages.users import StaffUserPages
from web.pages.volunteers import VolunteerController

PAGE_ROUTES: list[ControllerRouterHandler] = [
    AccountController,
    AdminController,
    AdminUsersController,
    *imports.ROUTES,
    *openings.ROUTES,
    StaffController,
    ResidentRecordPages,
    VolunteerController,
    StaffUserPages,
    PrintController,
    PassbookPrintController,
    PassbookFilterController,
    AnomalyController,
    ResidentController,
    MyOrdersController,
    NoticeController,
    ExportPages,
    DonorController,
    RankingController,
    *objections.ROUTES,
    *earning.ROUTES,
    *activities.ROUTES,
    *activity_changes.ROUTES,
    *my_activities.ROUTES,
    *shop.ROUTES,
    *counter.ROUTES,
    *community.ROUTES,
    *stats.ROUTES,
    *stats_workbook.ROUTES,
    *inbox.ROUTES,
]
