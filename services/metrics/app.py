"""Metrics API function: ``app`` for the local stack, ``handler`` for Lambda."""

from __future__ import annotations

from shared.web import create_app, lambda_handler

from .views import router

app = create_app(service="metrics", title="Gospubliki Hub - metrics", description="Page and region activity")
app.include_router(router)
handler = lambda_handler(app, service="metrics")
