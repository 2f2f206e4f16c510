"""Models that run on the marts (complaint propensity)."""
