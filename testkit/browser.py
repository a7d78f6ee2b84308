"""How the browser tests start Chromium: Debian's (Playwright cannot download one here),
headless, with nothing that reaches out to the internet."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
