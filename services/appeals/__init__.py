"""Appeals service: VK Callback webhook, ingest and projection workers, appeals read API."""
