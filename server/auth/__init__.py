"""Import paths that landed migrations use. Staff identity lives in ``identity``."""
