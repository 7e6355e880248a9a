"""Query limits: cost, directives, and the per-principal request budget."""
