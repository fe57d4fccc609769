"""Training and honest evaluation of the triage analyser (``services.appeals.triage``); dev tooling, never shipped."""
