"""Lead scoring: versioned rule models, the engine, rescoring and score history."""
