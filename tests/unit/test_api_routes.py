"""The API keeps every route: the (method, path) pairs of its OpenAPI document, and each one's success
status, are frozen here as they were before core/api was split into a router a feature (issue 8), with the
routes added since (issue 9: users, tokens, the audit log, one internal number; issue 10: webhooks, the
outbox, the event log, missed calls,
statistics)."""

from fastapi import FastAPI

from core.api import create_app
from core.config import Settings
from core.events import EventBus
from core.services import Services

# Taken from main's app.openapi() before the split, and the routes added since: method, path, success status.
ROUTES = """
DELETE /api/blacklist/{number} 204
DELETE /api/calls/{call_id} 204
DELETE /api/calls/{call_id}/recording 204
DELETE /api/extensions/{number} 204
DELETE /api/extensions/{number}/forwarding/{condition} 204
DELETE /api/groups/{name} 204
DELETE /api/ivrs/{name} 204
DELETE /api/ivrs/{name}/options/{key} 204
DELETE /api/queues/{name} 204
DELETE /api/queues/{name}/agents/{number} 204
DELETE /api/routes/{did} 204
DELETE /api/security/bans/{address} 204
DELETE /api/tokens/{user}/{name} 204
DELETE /api/trunks/{name} 204
DELETE /api/users/{name} 204
DELETE /api/whitelist/{number} 204
GET /api/audit 200
GET /api/blacklist 200
GET /api/calls 200
GET /api/calls/live 200
GET /api/extensions 200
GET /api/extensions/{number} 200
GET /api/forwarding 200
GET /api/groups 200
GET /api/health 200
GET /api/ivrs 200
GET /api/ivrs/{name} 200
GET /api/policy/anonymous 200
GET /api/queues 200
GET /api/queues/live 200
GET /api/queues/{name} 200
GET /api/recordings 200
GET /api/routes 200
GET /api/schedules 200
GET /api/security/bans 200
GET /api/tokens 200
GET /api/trunks 200
GET /api/users 200
GET /api/users/{name} 200
GET /api/voicemail 200
GET /api/whitelist 200
PATCH /api/extensions/{number} 200
PATCH /api/users/{name} 200
POST /api/blacklist 201
POST /api/calls 202
POST /api/calls/{call_id}/hold 200
POST /api/calls/{call_id}/listen 202
POST /api/calls/{call_id}/recording 201
POST /api/calls/{call_id}/redirect 202
POST /api/calls/{call_id}/resume 200
POST /api/calls/{call_id}/transfer 202
POST /api/calls/{call_id}/transfer/cancel 200
POST /api/calls/{call_id}/transfer/complete 200
POST /api/extensions 201
POST /api/queues/{name}/agents/{number} 201
POST /api/queues/{name}/agents/{number}/login 200
POST /api/queues/{name}/agents/{number}/logout 200
POST /api/queues/{name}/agents/{number}/pause 200
POST /api/queues/{name}/agents/{number}/resume 200
POST /api/schedules/{name}/holidays 201
POST /api/tokens 201
POST /api/trunks 201
POST /api/users 201
PUT /api/extensions/{number}/forwarding/{condition} 200
PUT /api/groups/{name} 200
PUT /api/groups/{name}/members 200
PUT /api/ivrs/{name} 200
PUT /api/ivrs/{name}/options/{key} 200
PUT /api/ivrs/{name}/prompt 200
PUT /api/policy/anonymous 200
PUT /api/queues/{name} 200
PUT /api/recording-policy 200
PUT /api/routes/{did} 200
PUT /api/schedules/{name} 200
PUT /api/schedules/{name}/hours 200
PUT /api/schedules/{name}/override 200
PUT /api/whitelist/{number} 200
GET /api/webhooks 200
GET /api/webhooks/events 200
POST /api/webhooks 201
GET /api/webhooks/{webhook} 200
DELETE /api/webhooks/{webhook} 204
POST /api/webhooks/{webhook}/test 202
POST /api/webhooks/{webhook}/rotate 200
GET /api/webhooks/{webhook}/log 200
GET /api/outbox 200
POST /api/outbox/retry 200
GET /api/events 200
GET /api/missed 200
POST /api/missed/{missed_id}/handle 200
GET /api/stats/queues 200
GET /api/stats/numbers 200
GET /api/stats/groups 200
GET /api/recordings/{name}/audio 200
"""
FROZEN = {
    (method, path): int(status) for method, path, status in (row.split() for row in ROUTES.split("\n") if row)
}


def app(tmp_path) -> FastAPI:
    services = Services.build(Settings(data_dir=tmp_path), EventBus())
    return create_app(services, EventBus(), None)  # type: ignore[arg-type]  # the document needs no daemon


def test_the_openapi_document_has_every_method_and_path_of_before(tmp_path):
    paths = app(tmp_path).openapi()["paths"]
    assert {(method.upper(), path) for path, item in paths.items() for method in item} == set(FROZEN)


def test_each_route_answers_with_the_success_status_of_before(tmp_path):
    paths = app(tmp_path).openapi()["paths"]
    statuses = {
        (method.upper(), path): [int(code) for code in op["responses"] if code.startswith("2")]
        for path, item in paths.items()
        for method, op in item.items()
    }
    assert statuses == {pair: [status] for pair, status in FROZEN.items()}


def test_the_event_stream_is_still_a_websocket_at_api_events_beside_the_event_log(tmp_path):
    api = app(tmp_path)
    assert api.url_path_for("events") == "/api/events"  # the websocket
    assert list(api.openapi()["paths"]["/api/events"]) == ["get"]  # GET pages through the log
