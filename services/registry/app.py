"""Registry API: FastAPI app (mounted by the local stack) and its Lambda handler."""

from __future__ import annotations

from services.registry.views import router
from shared.web import create_app, lambda_handler

app = create_app(
    service="registry",
    title="Gospubliki Hub - registry",
    description="Institutions, their official pages, compliance, bulk import/export and coverage.",
)
app.include_router(router)


@app.get("/health", tags=["health"])
def health() -> dict[str, str]:
    """Liveness (no auth)."""
    return {"status": "ok", "service": "registry"}


handler = lambda_handler(app, service="registry")
