"""Accounts: registration, login, tokens and sessions, 2FA, roles."""
