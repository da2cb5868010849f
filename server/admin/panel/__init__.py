"""piccolo-admin at ``/admin/`` for moderators and admins, signed in with their Social Flow account."""
