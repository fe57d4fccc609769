"""Registry service: institutions, their official pages, compliance, bulk import/export, coverage.

Access matrix: ``services.registry.access``; DynamoDB layout: ``services.registry.repository``; wiring:
``services.registry.bootstrap``; events: ``services.registry.publishing``; spreadsheet columns:
``services.registry.spreadsheet``.
"""
