"""Browser tests' helpers (issue 16 item 8): Debian's Chromium driven by Playwright, axe-core from the npm registry."""
