"""Settings, the database (SQLAlchemy + Alembic migrations), the KB store, bookings, masking."""
