"""Piccolo tables only: columns, nested enums and help text."""
