"""Account data: a user's export of everything they stored, and deletion of their account."""
