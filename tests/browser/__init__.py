"""Real-browser tests: Streamlit served on loopback, Debian chromium driven by Playwright."""
