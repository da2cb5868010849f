"""The real-time layer: protocol, channel names, brokers and the websocket gateway.

It never imports ``server``; the app injects what it needs (who a token belongs to, who may subscribe).
"""
