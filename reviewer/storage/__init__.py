"""The library: database (SQLAlchemy Core), content-addressed objects and the audit chain."""
