"""The OpenAPI document describes every endpoint of the API."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import Api

ENDPOINTS = {
    ("post", "/auth/token"),
    ("delete", "/auth/token"),
    ("post", "/me/password"),
    ("post", "/communities"),
    ("post", "/communities/{slug}/grids"),
    ("post", "/communities/{slug}/budget/grants"),
    ("get", "/communities/{slug}/budget"),
    ("post", "/users"),
    ("post", "/communities/{slug}/residents"),
    ("get", "/communities/{slug}/residents"),
    ("get", "/residents/{resident_id}"),
    ("post", "/residents/{resident_id}/activation"),
    ("post", "/activate"),
    ("post", "/residents/{resident_id}/card"),
    ("get", "/me"),
    ("get", "/me/pay-code"),
    ("get", "/me/passbook"),
    ("get", "/residents/{resident_id}/passbook"),
    ("get", "/communities/{slug}/audit"),
    ("get", "/ledger/verify"),
}


#: API.md's "Earning" and "Catalog, stock and the counter": a contract for integrators
EARNING_AND_COUNTER = {
    ("post", "/communities/{slug}/rules"),
    ("post", "/awards"),
    ("post", "/awards/{award_id}/approve"),
    ("post", "/communities/{slug}/activities"),
    ("post", "/activities/{activity_id}/signup"),
    ("get", "/activities/{activity_id}/checkin-code"),
    ("post", "/activities/{activity_id}/checkin"),
    ("post", "/activities/{activity_id}/settle"),
    ("post", "/me/submissions"),
    ("post", "/submissions/{submission_id}/decision"),
    ("post", "/communities/{slug}/outlets"),
    ("post", "/communities/{slug}/items"),
    ("post", "/outlets/{outlet_id}/stock"),
    ("get", "/outlets/{outlet_id}/stock"),
    ("post", "/outlets/{outlet_id}/lookup"),
    ("post", "/outlets/{outlet_id}/orders"),
    ("get", "/orders/{order_id}"),
    ("post", "/orders/{order_id}/refund"),
}


def operations(api: Api) -> dict[tuple[str, str], dict[str, Any]]:
    document = api.client.get("/schema/openapi.json").json()
    return {
        (method, path.removeprefix("/api/v1")): operation
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
    }


def test_openapi_lists_the_organisation_and_people_endpoints(api: Api) -> None:
    assert set(operations(api)) >= ENDPOINTS


def test_openapi_lists_the_earning_and_counter_endpoints(api: Api) -> None:
    assert EARNING_AND_COUNTER - set(operations(api)) == set()


def test_every_api_operation_has_a_summary_description_and_tag(api: Api) -> None:
    undocumented = [
        key
        for key, operation in operations(api).items()
        if not (operation.get("summary") and operation.get("description") and operation.get("tags"))
    ]
    assert undocumented == []


def test_the_grant_documents_its_idempotency_key(api: Api) -> None:
    grant = operations(api)[("post", "/communities/{slug}/budget/grants")]
    headers = [p for p in grant["parameters"] if p["in"] == "header"]
    assert [(h["name"].lower(), h["required"]) for h in headers] == [("idempotency-key", True)]


def test_only_the_public_endpoints_are_marked_as_needing_no_token(api: Api) -> None:
    document = api.client.get("/schema/openapi.json").json()
    assert document["security"] == [{"BearerToken": []}]
    public = {key for key, op in operations(api).items() if op.get("security") == [{}]}
    assert public == {("post", "/auth/token"), ("post", "/activate")}


def test_every_request_that_moves_points_or_stock_documents_its_idempotency_key(api: Api) -> None:
    ops = operations(api)
    moving = [
        ("post", "/awards"),
        ("post", "/outlets/{outlet_id}/stock"),
        ("post", "/outlets/{outlet_id}/orders"),
        ("post", "/orders/{order_id}/refund"),
    ]
    for key in moving:
        headers = [p for p in ops[key].get("parameters", []) if p["in"] == "header"]
        assert ("idempotency-key", True) in [(h["name"].lower(), h["required"]) for h in headers], (
            key
        )
