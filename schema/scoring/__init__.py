"""Scoring models, rescoring runs and score explanations over GraphQL."""
