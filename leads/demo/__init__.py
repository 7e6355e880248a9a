"""Deterministic, realistic demo data: teams, staff, campaigns, leads, 18 months of
activities and stage histories with plausible conversion rates.

Every person is fictional; the same seed and ``as_of`` day give the same data. Rows are
written in batches through the models, so personal fields go through the same field type
as any other write.
"""

from leads.demo.seeder import DemoSeeder, SeedReport

__all__ = ["DemoSeeder", "SeedReport"]
