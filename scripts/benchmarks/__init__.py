"""The benchmark (scripts/bench) and the load generator (scripts/load); not shipped in the wheel."""
