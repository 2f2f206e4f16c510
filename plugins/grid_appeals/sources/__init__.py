"""Source systems: contracts (YAML, as data) and connectors that extract one data interval."""
