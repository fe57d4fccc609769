"""Registry API: FastAPI app (mounted by the local stack) and its Lambda handler."""

from __future__ import annotations

from services.registry.models import Health
from services.registry.views import router
from shared.web import create_app, lambda_handler

app = create_app(
    service="registry",
    title="Gospubliki Hub - registry",
    description="Institutions, their official pages, compliance, bulk import/export and coverage.",
)
app.include_router(router)


@app.get("/health", tags=["health"], response_model=Health)
def health() -> Health:
    """Liveness (no auth)."""
    return Health(status="ok", service="registry")


handler = lambda_handler(app, service="registry")
