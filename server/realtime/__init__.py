"""The realtime layer's wiring into the app: authorization table, outbox relay, publish API, websocket route."""
