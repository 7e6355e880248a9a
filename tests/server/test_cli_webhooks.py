"""``leadvault webhooks``: the operator registers, lists, rotates, disables and deletes
endpoints; the secret is printed once; a bad URL is refused with its reason."""

from __future__ import annotations

import re
from pathlib import Path

from tests.server.test_cli import KEY, _leadvault


def test_webhooks_commands_manage_an_endpoint(tmp_path: Path) -> None:
    assert _leadvault(["migrate"], tmp_path, **KEY).returncode == 0

    plain = _leadvault(["webhooks", "add", "http://hooks.example.com/in"], tmp_path, **KEY)
    added = _leadvault(
        ["webhooks", "add", "https://hooks.example.com/in", "--event", "lead.created",
         "--description", "CRM sync"],
        tmp_path,
        **KEY,
    )  # fmt: skip
    assert plain.returncode == 2
    assert "https://" in plain.stderr
    assert added.returncode == 0, added.stderr
    endpoint_id = re.search(r"endpoint (\S+)", added.stdout).group(1)  # type: ignore[union-attr]
    secret = re.search(r"secret (whsec_\S+)", added.stdout).group(1)  # type: ignore[union-attr]

    listed = _leadvault(["webhooks", "list"], tmp_path, **KEY)
    assert f"{endpoint_id}  enabled" in listed.stdout
    assert "lead.created" in listed.stdout
    assert secret not in listed.stdout

    rotated = _leadvault(
        ["webhooks", "rotate", endpoint_id, "--overlap-hours", "2"], tmp_path, **KEY
    )
    assert rotated.returncode == 0, rotated.stderr
    assert "whsec_" in rotated.stdout
    assert secret not in rotated.stdout

    assert _leadvault(["webhooks", "disable", endpoint_id], tmp_path, **KEY).returncode == 0
    assert "disabled (admin)" in _leadvault(["webhooks", "list"], tmp_path, **KEY).stdout
    assert _leadvault(["webhooks", "delete", endpoint_id], tmp_path, **KEY).returncode == 0
    assert endpoint_id not in _leadvault(["webhooks", "list"], tmp_path, **KEY).stdout
