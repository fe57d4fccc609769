"""Common package of Gospubliki Hub: config, AWS clients, auth, logging, event contracts, local runtime."""
