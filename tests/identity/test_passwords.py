from __future__ import annotations

from argon2 import PasswordHasher

from identity import passwords


def _codes(password: str, email: str = "ada.lovelace@example.com", name: str = "Ada Lovelace"):
    return [p.code for p in passwords.password_problems(password, email=email, display_name=name)]


def test_a_long_unrelated_password_is_accepted() -> None:
    assert _codes("correct horse battery staple") == []


def test_passwords_shorter_than_twelve_characters_are_refused() -> None:
    assert _codes("Tr0ub4dor&3") == ["too_short"]
    assert _codes("Tr0ub4dor&3x") == []


def test_passwords_longer_than_1024_characters_are_refused() -> None:
    assert _codes("abcd" * 256) == []
    assert _codes("abcd" * 256 + "e") == ["too_long"]


def test_passwords_of_fewer_than_four_distinct_characters_are_refused() -> None:
    assert _codes("abcabcabcabc") == ["too_simple"]


def test_the_accounts_own_email_or_name_is_refused() -> None:
    assert _codes("ada.lovelace@example.com") == ["contains_account_name"]
    assert _codes("my name is LOVELACE 1815") == ["contains_account_name"]
    assert _codes("Ada-Lovelace-Ada-Lovelace") == ["contains_account_name"]


def test_problems_name_the_field_and_never_echo_the_password() -> None:
    problems = passwords.password_problems(
        "lovelace-lovelace", email="ada.lovelace@example.com", display_name="Ada", field="new"
    )
    assert problems[0].field == "new"
    assert "lovelace" not in problems[0].message


async def test_a_hash_verifies_its_password_and_nothing_else() -> None:
    stored = await passwords.hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert await passwords.verify_password(stored, "correct horse battery staple")
    assert not await passwords.verify_password(stored, "correct horse battery stapler")


async def test_hashes_use_at_least_the_rfc_9106_low_memory_profile() -> None:
    params = passwords.PARAMETERS
    assert (params.time_cost, params.memory_cost, params.parallelism) >= (3, 65536, 4)
    stored = await passwords.hash_password("correct horse battery staple")
    assert "m=65536,t=3,p=4" in stored
    assert not passwords.needs_rehash(stored)


def test_a_hash_made_with_weaker_parameters_needs_rehashing() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("whatever password")
    assert passwords.needs_rehash(weak)


async def test_no_stored_hash_checks_the_dummy_hash_and_fails() -> None:
    assert not await passwords.verify_password(None, "anything at all here")
    assert passwords.dummy_hash().startswith("$argon2id$v=19$m=65536,t=3,p=4$")
