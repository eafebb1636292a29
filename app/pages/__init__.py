"""One module per app page."""
