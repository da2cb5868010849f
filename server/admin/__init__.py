"""Administration: roles, suspension, the audit log."""
