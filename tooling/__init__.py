"""Developer tooling: the embedded local stack, fake VK, demo, CLI and the build. Never shipped in a function."""
