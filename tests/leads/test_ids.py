"""Lead ids are RFC 9562 version 7: creation time first, then randomness."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from core.ids import new_id
from identity.principal import Principal
from identity.roles import Role
from leads import service
from leads.enums import Source
from leads.models import StageChange

DEV = Principal(role=Role.MARKETER)

MOMENT = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)
MOMENT_NS = int(MOMENT.timestamp()) * 1_000_000_000 + MOMENT.microsecond * 1_000


def test_an_id_is_version_7_with_the_rfc_variant() -> None:
    made = new_id(MOMENT_NS)

    assert made.version == 7
    assert made.variant == uuid.RFC_4122


def test_an_id_starts_with_its_creation_time_in_milliseconds() -> None:
    made = new_id(MOMENT_NS)

    millis = made.int >> 80
    assert millis == MOMENT_NS // 1_000_000
    assert made.hex[:12] == f"{MOMENT_NS // 1_000_000:012x}"


def test_ids_sort_by_creation_time_even_within_one_millisecond() -> None:
    # 100 microseconds apart, inside the same millisecond, then a day later
    moments = [MOMENT_NS, MOMENT_NS + 100_000, MOMENT_NS + 86_400 * 10**9]

    made = [new_id(m) for m in moments]

    assert made == sorted(made)
    assert made[0].int >> 80 == made[1].int >> 80  # same millisecond


def test_ids_made_at_the_same_instant_differ_in_their_random_part() -> None:
    made = {new_id(MOMENT_NS) for _ in range(1000)}

    assert len(made) == 1000
    assert len({m.int >> 62 for m in made}) == 1  # only the 62 random bits differ


def test_ids_made_one_after_another_are_in_order() -> None:
    made = [new_id() for _ in range(2000)]

    assert made == sorted(made)


async def test_a_new_lead_and_its_first_stage_change_get_time_ordered_ids() -> None:
    first = await service.create_lead(DEV, {"email": "ada@example.com", "source": Source.API})
    second = await service.create_lead(DEV, {"email": "bob@example.com", "source": Source.API})

    change = await StageChange.get(lead_id=first.id)
    assert (first.id.version, change.id.version) == (7, 7)
    assert first.id < second.id
