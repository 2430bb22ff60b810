"""End-to-end tests: a real Chromium against the real stack (see docs/development.md)."""
