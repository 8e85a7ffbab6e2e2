"""High availability: several daemons on one PostgreSQL state store (see the README)."""
