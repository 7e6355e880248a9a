"""``leadvault dev token ROLE``: a demo sign-in through the real API, development only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from identity import totp
from identity.roles import Role
from server.cli import dev
from server.demo_accounts import DemoAccount, DemoSignIn
from tests.running_demo import Demo, running_demo

ME = '{"query": "{ me { account { email role } } }"}'


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("demo") / "data") as started:
        yield started


def _me(demo: Demo, token: str) -> dict[str, Any]:
    response = httpx.post(
        demo.url,
        content=ME,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_token_recipe_works_twice_in_a_row(demo: Demo) -> None:
    first = demo.leadvault("dev", "token", "sales_manager")
    second = demo.leadvault("dev", "token", "sales_manager")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    tokens = [first.stdout.strip(), second.stdout.strip()]
    assert tokens[0] != tokens[1]
    for token in tokens:
        assert _me(demo, token)["data"]["me"]["account"]["role"] == "SALES_MANAGER"
    assert "Traceback" not in first.stderr + second.stderr


def test_another_role_and_another_port_by_flag(demo: Demo) -> None:
    result = demo.leadvault("dev", "token", "AUDITOR", "--port", str(demo.port), LEADVAULT_PORT="1")

    assert result.returncode == 0, result.stderr
    assert _me(demo, result.stdout.strip())["data"]["me"]["account"]["role"] == "AUDITOR"


def test_no_server_at_the_address_says_how_to_start_one(demo: Demo) -> None:
    from benchmarks.load_processes import free_port

    result = demo.leadvault("dev", "token", "analyst", "--port", str(free_port()))

    assert result.returncode == 1
    assert result.stdout == ""
    assert "is the demo running? Start it with python3 dev.py demo" in result.stderr


@pytest.mark.parametrize("environment", [{"LEADVAULT_ENV": "prod"}, {}])
def test_refused_outside_development(demo: Demo, environment: dict[str, str]) -> None:
    demo_env = {k: v for k, v in demo.environment.items() if k != "LEADVAULT_ENV"}
    refused = Demo(demo.port, {**demo_env, **environment}, demo.log)

    for command in ("token", "code"):
        result = refused.leadvault("dev", command, "admin")

        assert result.returncode == 2, command
        assert result.stdout == ""
        assert "only with LEADVAULT_ENV=dev" in result.stderr


def test_a_console_code_is_never_one_the_account_has_used(demo: Demo) -> None:
    first = demo.leadvault("dev", "code", "auditor")
    assert first.returncode == 0, first.stderr
    assert re.fullmatch(r"\d{6}\n", first.stdout)
    signed_in = demo.leadvault("dev", "token", "auditor")  # uses this window's code
    assert signed_in.returncode == 0, signed_in.stderr

    after = demo.leadvault("dev", "code", "auditor")

    assert after.returncode == 0, after.stderr
    assert after.stdout != first.stdout


async def test_the_demo_account_lookup_refuses_outside_development() -> None:
    from server.demo_accounts import sign_in_for
    from server.settings import Environment, Settings

    production = Settings.from_env(default_env=Environment.PROD, environ={})
    with pytest.raises(RuntimeError, match="development mode"):
        await sign_in_for(production, Role.ADMIN)


class _Api:
    """The two sign-in calls, answered as given; records what was sent."""

    def __init__(self, login: dict[str, Any], verify: dict[str, Any] | None = None) -> None:
        self.answers = {"login": login, "verifyMfa": verify}
        self.sent: list[tuple[str, dict[str, str]]] = []

    def __call__(
        self, url: str, query: str, variables: dict[str, str], bearer: str | None = None
    ) -> dict[str, Any]:
        field = "login" if "login(" in query else "verifyMfa"
        self.sent.append((field, variables))
        return {field: self.answers[field]}


SECRET = totp.new_secret()
NOW = datetime(2026, 12, 2, 12, 0, 10, tzinfo=UTC)


@pytest.fixture
def moments(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The command's clock stands at NOW; its sleeps move it on, and are recorded."""
    slept: list[float] = []
    monkeypatch.setattr(dev.time, "sleep", lambda seconds: slept.append(seconds))
    monkeypatch.setattr("identity.clock.now", lambda: NOW + timedelta(seconds=sum(slept)))
    return slept


def _known(monkeypatch: pytest.MonkeyPatch, last_step: int | None) -> None:
    account = DemoAccount(Role.ANALYST, "analyst@example.test", "demo-password", SECRET)

    async def sign_in(*_: object) -> DemoSignIn:
        return DemoSignIn(account, last_step)

    monkeypatch.setattr(dev, "_demo_sign_in", sign_in)


def test_a_used_code_waits_for_the_next_window_and_says_so(
    monkeypatch: pytest.MonkeyPatch, moments: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    step = totp.step_at(NOW)
    _known(monkeypatch, last_step=step)
    api = _Api(
        {"__typename": "MfaChallenge", "challengeToken": "c"},
        {"__typename": "SignedIn", "token": "t"},
    )
    monkeypatch.setattr(dev, "_call", api)

    assert dev.token(None, "analyst", "http://x/graphql") == "t"  # type: ignore[arg-type]

    assert moments == [20]  # NOW is 10 s into its 30-second window
    assert api.sent[1] == ("verifyMfa", {"code": totp.code_for(SECRET, step + 1)})
    assert "already used (a TOTP code works once); waiting 20 s" in capsys.readouterr().err


def test_an_unused_code_is_sent_at_once(
    monkeypatch: pytest.MonkeyPatch, moments: list[float]
) -> None:
    step = totp.step_at(NOW)
    _known(monkeypatch, last_step=step - 1)
    api = _Api(
        {"__typename": "MfaChallenge", "challengeToken": "c"},
        {"__typename": "SignedIn", "token": "t"},
    )
    monkeypatch.setattr(dev, "_call", api)

    assert dev.token(None, "analyst", "http://x/graphql") == "t"  # type: ignore[arg-type]

    assert moments == []
    assert api.sent[1] == ("verifyMfa", {"code": totp.code_for(SECRET, step)})


@pytest.mark.parametrize(
    ("login", "verify", "expected"),
    [
        (
            {"__typename": "SignInFailed", "message": "wrong email or password"},
            None,
            "login answered SignInFailed: wrong email or password",
        ),
        (
            {"__typename": "TooManyAttempts", "message": "try again in 60 s"},
            None,
            "login answered TooManyAttempts: try again in 60 s",
        ),
        (
            {"__typename": "MfaChallenge", "challengeToken": "c"},
            {"__typename": "CodeRejected", "message": "that code is not valid"},
            "verifyMfa answered CodeRejected: that code is not valid (a TOTP code works once",
        ),
    ],
)
def test_failures_name_the_answer_and_print_no_token(
    monkeypatch: pytest.MonkeyPatch,
    moments: list[float],
    login: dict[str, Any],
    verify: dict[str, Any] | None,
    expected: str,
) -> None:
    _known(monkeypatch, last_step=None)
    monkeypatch.setattr(dev, "_call", _Api(login, verify))

    with pytest.raises(dev.Failed) as failure:
        dev.token(None, "analyst", "http://x/graphql")  # type: ignore[arg-type]

    assert expected in str(failure.value)
    assert "demo-password" not in str(failure.value)
