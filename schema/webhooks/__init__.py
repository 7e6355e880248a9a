"""Webhook endpoints, their deliveries and attempts (administrators only)."""
