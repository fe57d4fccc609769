"""The embedded local stack: moto server, template-driven provisioning, SQS dispatcher, schedules, one ASGI app."""
