"""Registry service: institutions, their official pages, compliance, bulk import/export, coverage.

Access matrix: see ``services.registry.service``; DynamoDB layout: ``services.registry.repository``; events:
``services.registry.publishing``; spreadsheet columns: ``services.registry.spreadsheet``.
"""
