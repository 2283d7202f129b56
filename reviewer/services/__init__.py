"""Commands: each one transaction that writes its audit entry with it."""
