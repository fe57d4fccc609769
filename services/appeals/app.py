"""Appeals HTTP API: the FastAPI ``app`` (mounted by the local stack) and its Lambda ``handler``."""

from __future__ import annotations

from services.appeals.views import router
from shared.web import create_app, lambda_handler

app = create_app(service="appeals", title="Gospubliki Hub - Appeals", description="Citizen appeals from VK pages")
app.include_router(router)

handler = lambda_handler(app, service="appeals")
