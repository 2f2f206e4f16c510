"""Warehouse access: the embedded server, connections, and the schema/role bootstrap."""
