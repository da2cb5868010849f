"""Social Flow: the Litestar application."""
