"""The ``leadvault`` command, run as a newcomer would run it."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from schema import build_schema

KEY = {"LEADVAULT_MASTER_KEY": "1:" + base64.b64encode(bytes(range(32))).decode()}
"""A production master key: account commands seal TOTP secrets and sign audit checkpoints."""


def _leadvault(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEADVAULT_")}
    environment.update({"LEADVAULT_DATA_DIR": str(tmp_path / "data"), **env})
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_migrate_then_seed_creates_demo_data_in_the_default_sqlite_file(tmp_path: Path) -> None:
    assert _leadvault(["migrate"], tmp_path).returncode == 0
    assert _leadvault(["migrate"], tmp_path).returncode == 0  # idempotent

    seeded = _leadvault(
        ["seed", "--leads", "50", "--as-of", "2026-06-01"], tmp_path, LEADVAULT_ENV="dev"
    )

    assert seeded.returncode == 0, seeded.stderr
    assert "seeded 50 leads" in seeded.stdout
    assert "created a development master key file" in seeded.stdout
    key_file = tmp_path / "data" / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with sqlite3.connect(tmp_path / "data" / "leadvault.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM lead").fetchone() == (50,)


def test_production_refuses_to_run_without_a_master_key(tmp_path: Path) -> None:
    assert _leadvault(["migrate"], tmp_path).returncode == 0
    result = _leadvault(["seed", "--leads", "1"], tmp_path)
    assert result.returncode == 2
    assert "no master key" in result.stderr
    assert not (tmp_path / "data" / "master.key").exists()


def test_a_wrong_master_key_stops_the_command_with_a_clear_message(tmp_path: Path) -> None:
    right, wrong = base64.b64encode(b"r" * 32).decode(), base64.b64encode(b"w" * 32).decode()
    assert _leadvault(["migrate"], tmp_path).returncode == 0
    first = _leadvault(["seed", "--leads", "3"], tmp_path, LEADVAULT_MASTER_KEY=right)
    assert first.returncode == 0, first.stderr

    result = _leadvault(["seed", "--leads", "3"], tmp_path, LEADVAULT_MASTER_KEY=wrong)

    assert result.returncode == 2
    assert "master key version 1 is not the key this key store was created with" in result.stderr
    assert wrong not in result.stderr


def test_an_invalid_setting_stops_the_command_naming_it(tmp_path: Path) -> None:
    result = _leadvault(["migrate"], tmp_path, LEADVAULT_PORT="http")
    assert result.returncode == 2
    assert "LEADVAULT_PORT" in result.stderr


def test_demo_refuses_to_run_in_production(tmp_path: Path) -> None:
    result = _leadvault(["demo"], tmp_path, LEADVAULT_ENV="prod")
    assert result.returncode == 2
    assert "LEADVAULT_ENV=dev" in result.stderr


@pytest.mark.parametrize("to_file", [False, True])
def test_schema_export_writes_the_sdl(tmp_path: Path, to_file: bool) -> None:
    target = tmp_path / "out.graphql"
    result = _leadvault(["schema", "export", *(["-o", str(target)] if to_file else [])], tmp_path)
    assert result.returncode == 0
    written = target.read_text() if to_file else result.stdout
    assert written == build_schema(production=False).as_str() + "\n"


def test_keys_rotate_adds_a_version_and_retire_removes_the_old_one(tmp_path: Path) -> None:
    dev = {"LEADVAULT_ENV": "dev"}
    assert _leadvault(["migrate"], tmp_path, **dev).returncode == 0
    assert _leadvault(["seed", "--leads", "20"], tmp_path, **dev).returncode == 0

    refused = _leadvault(["keys", "retire", "--version", "1"], tmp_path, **dev)
    rotated = _leadvault(["keys", "rotate", "--batch-size", "7"], tmp_path, **dev)
    retired = _leadvault(["keys", "retire", "--version", "1"], tmp_path, **dev)
    status = _leadvault(["keys", "status"], tmp_path, **dev)

    assert refused.returncode == 2
    assert rotated.returncode == 0, rotated.stderr
    assert "added master key version 2" in rotated.stdout
    assert retired.returncode == 0, retired.stderr
    assert "version 2: 20 subject keys" in status.stdout
    assert "version 1" not in status.stdout.split("configured")[1]
    assert "leads still to re-index: 0" in status.stdout
    verified = _leadvault(["audit", "verify"], tmp_path, **dev)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "audit chain OK" in verified.stdout


def test_keys_signing_rotate_and_list(tmp_path: Path) -> None:
    assert _leadvault(["migrate"], tmp_path, **KEY).returncode == 0

    rotated = _leadvault(["keys", "signing", "rotate"], tmp_path, **KEY)
    listed = _leadvault(["keys", "signing", "list"], tmp_path, **KEY)

    assert rotated.returncode == 0, rotated.stderr
    assert "audit-checkpoint-ed25519: now signing with version 2" in rotated.stdout
    assert "dsr-certificate-ed25519: now signing with version 2" in rotated.stdout
    keys = json.loads(listed.stdout)
    assert [(k["purpose"], k["version"]) for k in keys] == [
        ("audit-checkpoint-ed25519", 1),
        ("audit-checkpoint-ed25519", 2),
        ("dsr-certificate-ed25519", 1),
        ("dsr-certificate-ed25519", 2),
    ]
    assert all(k["vouched_for_by_its_seal"] for k in keys)
    assert all(set(k) >= {"public_key", "created_at", "algorithm"} for k in keys)
    assert KEY["LEADVAULT_MASTER_KEY"].split(":")[1] not in listed.stdout


def test_users_commands_create_list_disable_reset_and_unlock(tmp_path: Path) -> None:
    assert _leadvault(["migrate"], tmp_path, **KEY).returncode == 0

    created = _leadvault(
        ["users", "create", "--email", "Ada@Staff.Example", "--role", "admin", "--name", "Ada L"],
        tmp_path,
        **KEY,
    )
    assert created.returncode == 0, created.stderr
    assert "created ada@staff.example (admin)" in created.stdout
    code = created.stdout.split("shown only now):\n", 1)[1].split()[0]
    assert code.startswith("lve_")
    with sqlite3.connect(tmp_path / "data" / "leadvault.sqlite3") as db:
        stored = db.execute("SELECT enrolment_code_hash FROM staff_user").fetchone()[0]
    assert code not in stored

    duplicate = _leadvault(
        ["users", "create", "--email", "ada@staff.example", "--role", "analyst"], tmp_path, **KEY
    )
    assert duplicate.returncode == 2
    assert "already used" in duplicate.stderr

    listed = _leadvault(["users", "list"], tmp_path, **KEY)
    assert "ada@staff.example\tadmin\tactive,no-mfa" in listed.stdout

    last_admin = _leadvault(["users", "disable", "--email", "ada@staff.example"], tmp_path, **KEY)
    assert last_admin.returncode == 2
    assert "last active administrator" in last_admin.stderr

    reset = _leadvault(["users", "reset-mfa", "--email", "ada@staff.example"], tmp_path, **KEY)
    assert reset.returncode == 0
    assert "lve_" in reset.stdout
    unknown = _leadvault(["users", "unlock", "--email", "nobody@staff.example"], tmp_path, **KEY)
    assert unknown.returncode == 2
    assert "not found" in unknown.stderr


def test_api_keys_commands_create_list_and_revoke(tmp_path: Path) -> None:
    assert _leadvault(["migrate"], tmp_path, **KEY).returncode == 0

    created = _leadvault(
        ["api-keys", "create", "--name", "Website form", "--scope", "leads:capture"],
        tmp_path,
        **KEY,
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.split("shown only now):\n", 1)[1].split()[0]
    prefix = token.split("_")[1]

    listed = _leadvault(["api-keys", "list"], tmp_path, **KEY)
    assert f"{prefix}\tWebsite form\tleads:capture\tactive\tnever used" in listed.stdout
    assert token not in listed.stdout

    revoked = _leadvault(["api-keys", "revoke", "--prefix", prefix], tmp_path, **KEY)
    assert revoked.returncode == 0
    assert "\trevoked\t" in _leadvault(["api-keys", "list"], tmp_path, **KEY).stdout


def test_audit_verify_export_and_retention(tmp_path: Path) -> None:
    assert _leadvault(["migrate"], tmp_path, **KEY).returncode == 0
    for n in range(3):
        created = _leadvault(
            ["users", "create", "--email", f"user{n}@staff.example", "--role", "analyst"],
            tmp_path,
            **KEY,
        )
        assert created.returncode == 0, created.stderr

    healthy = _leadvault(["audit", "verify"], tmp_path, **KEY)
    exported = _leadvault(["audit", "export", "--format", "jsonl"], tmp_path, **KEY)
    as_csv = _leadvault(["audit", "export", "--format", "csv"], tmp_path, **KEY)
    retention = _leadvault(["audit", "retention", "--dry-run"], tmp_path, **KEY)
    with sqlite3.connect(tmp_path / "data" / "leadvault.sqlite3") as db:
        db.execute("UPDATE audit_event SET actor_role = 'admin' WHERE seq = 2")
    broken = _leadvault(["audit", "verify"], tmp_path, **KEY)

    assert healthy.returncode == 0, healthy.stderr
    assert "audit chain OK: 3 events" in healthy.stdout
    lines = exported.stdout.strip().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3]
    assert as_csv.stdout.splitlines()[0].startswith("seq,occurred_at,action")
    assert "0 events older than" in retention.stdout
    assert broken.returncode == 1
    assert "BROKEN at seq 2" in broken.stderr


def test_import_reports_bad_lines_then_imports_and_exports_only_consenting_leads(
    tmp_path: Path,
) -> None:
    assert _leadvault(["migrate"], tmp_path, **KEY).returncode == 0
    csv_file = tmp_path / "leads.csv"
    csv_file.write_text(
        "email,first_name,consent_email_marketing\n"
        "yes@example.com,Yes,yes\n"
        "no@example.com,No,no\n"
        "broken,Broken,yes\n"
    )

    refused = _leadvault(["leads", "import", str(csv_file)], tmp_path, **KEY)
    partial = _leadvault(["leads", "import", "--partial", str(csv_file)], tmp_path, **KEY)
    export = _leadvault(["marketing", "export"], tmp_path, **KEY)
    job = _leadvault(["jobs", "consent", "--dry-run"], tmp_path, **KEY)

    assert refused.returncode == 1
    assert "line 4: email:" in refused.stderr
    assert "broken" not in refused.stderr
    assert partial.returncode == 0, partial.stderr
    assert "imported 2 new leads from 3 rows" in partial.stdout
    assert export.returncode == 0, export.stderr
    assert "yes@example.com" in export.stdout
    assert "no@example.com" not in export.stdout
    assert job.returncode == 0
    assert "lapsed grants to expire: 0" in job.stdout


def test_scoring_commands_draft_dry_run_publish_and_rescore(tmp_path: Path) -> None:
    dev = {"LEADVAULT_ENV": "dev"}
    assert _leadvault(["migrate"], tmp_path, **dev).returncode == 0
    seeded = _leadvault(["seed", "--leads", "40", "--as-of", "2026-06-01"], tmp_path, **dev)
    assert seeded.returncode == 0, seeded.stderr
    shown = _leadvault(["scoring", "show", "1"], tmp_path, **dev)
    definition = json.loads(shown.stdout)
    definition["sql_threshold"] = 45
    draft_file = tmp_path / "draft.json"
    draft_file.write_text(json.dumps(definition))
    bad_file = tmp_path / "bad.json"
    bad_file.write_text(json.dumps({**definition, "mql_threshold": 99}))

    bad = _leadvault(["scoring", "draft", str(bad_file)], tmp_path, **dev)
    drafted = _leadvault(["scoring", "draft", str(draft_file), "--note", "lower"], tmp_path, **dev)
    dry = _leadvault(["scoring", "dry-run", "2"], tmp_path, **dev)
    published = _leadvault(["scoring", "publish", "2"], tmp_path, **dev)
    listed = _leadvault(["scoring", "list"], tmp_path, **dev)
    job = _leadvault(["jobs", "scoring"], tmp_path, **dev)
    again = _leadvault(["jobs", "scoring"], tmp_path, **dev)
    cold_plan = _leadvault(["jobs", "cold", "--dry-run"], tmp_path, **dev)
    cold = _leadvault(["jobs", "cold"], tmp_path, **dev)

    assert "leads scored" in seeded.stdout
    assert bad.returncode == 1
    assert "definition.mql_threshold" in bad.stderr
    assert drafted.stdout.strip() == "draft v2 created"
    assert dry.returncode == 0, dry.stderr
    assert "v2 against published v1: 40 leads evaluated" in dry.stdout
    assert published.returncode == 0, published.stderr
    assert "run " in published.stdout
    assert "40 leads" in published.stdout
    assert "v2    published" in listed.stdout
    assert "v1    retired" in listed.stdout
    assert "(decay): 40 leads" in job.stdout
    assert "nothing to do" in again.stdout
    planned = int(cold_plan.stdout.split(": ")[-1])
    assert f"marked {planned} leads cold" in cold.stdout
    with sqlite3.connect(tmp_path / "data" / "leadvault.sqlite3") as db:
        versions = {row[0] for row in db.execute("SELECT score_model_version FROM lead")}
    assert versions <= {2, None}
    assert 2 in versions


def test_an_erasure_request_end_to_end_from_the_shell(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    env = {**KEY, "LEADVAULT_OUTBOX_DIR": str(outbox)}
    assert _leadvault(["migrate"], tmp_path, **env).returncode == 0
    csv_file = tmp_path / "leads.csv"
    csv_file.write_text("email,first_name,consent_email_marketing\nada@example.com,Ada,yes\n")
    assert _leadvault(["leads", "import", str(csv_file)], tmp_path, **env).returncode == 0

    created = _leadvault(
        [
            "dsr",
            "create",
            "--kind",
            "erasure",
            "--jurisdiction",
            "gdpr",
            "--email",
            "ada@example.com",
        ],
        tmp_path,
        **env,
    )
    assert created.returncode == 0, created.stderr
    request_id = created.stdout.split()[0]
    assert _leadvault(["dsr", "send-code", request_id], tmp_path, **env).returncode == 0
    assert _leadvault(["outbox", "deliver"], tmp_path, **env).returncode == 0
    body = json.loads(next(outbox.glob("*.json")).read_text())["body"]
    code = next(word.rstrip(".") for word in body.split() if word.rstrip(".").isdigit())
    wrong = _leadvault(
        ["dsr", "verify", request_id, "000000" if code != "000000" else "1"], tmp_path, **env
    )
    verified = _leadvault(["dsr", "verify", request_id, code], tmp_path, **env)
    submitted = _leadvault(["dsr", "submit", request_id], tmp_path, **env)
    approved = _leadvault(["dsr", "approve", request_id], tmp_path, **env)
    executed = _leadvault(["jobs", "erasure"], tmp_path, **env)
    certificate = tmp_path / "certificate.json"
    written = _leadvault(
        ["dsr", "certificate", request_id, "-o", str(certificate)], tmp_path, **env
    )
    checked = _leadvault(["dsr", "verify-certificate", str(certificate)], tmp_path)
    document = json.loads(certificate.read_text())
    document["subjects"][0]["outcome"] = "held"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    refused = _leadvault(["dsr", "verify-certificate", str(tampered)], tmp_path)
    retention = _leadvault(["jobs", "retention", "--dry-run"], tmp_path, **env)
    ropa = _leadvault(["ropa", "export", "--format", "csv"], tmp_path, **env)
    csv_file.write_text("email,first_name,consent_email_marketing\nada@example.com,Ada,no\n")
    reimport = _leadvault(["leads", "import", str(csv_file)], tmp_path, **env)

    assert wrong.returncode == 1
    assert "wrong_code" in wrong.stderr
    assert verified.returncode == 0, verified.stderr
    assert "verified" in verified.stdout
    assert submitted.returncode == 0, submitted.stderr
    assert approved.returncode == 0, approved.stderr
    assert executed.returncode == 0, executed.stderr
    assert "1 subject(s) erased, 0 held (completed)" in executed.stdout
    assert written.returncode == 0
    assert checked.returncode == 0, checked.stderr
    assert "certificate OK" in checked.stdout
    assert refused.returncode == 1
    assert "does not match" in refused.stderr
    assert retention.returncode == 0, retention.stderr
    assert "would go" in retention.stdout
    assert ropa.returncode == 0, ropa.stderr
    assert ropa.stdout.startswith("controller,purpose,")
    assert reimport.returncode == 1
    assert "erased contact" in reimport.stderr
    for path in (tmp_path / "data").glob("*.sqlite3*"):
        assert b"ada@example.com" not in path.read_bytes()


@pytest.mark.parametrize("command", ["demo", "serve"])
def test_a_taken_port_stops_before_anything_else_with_a_hint(tmp_path: Path, command: str) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _leadvault([command, "--port", str(port)], tmp_path, LEADVAULT_ENV="dev")

    assert result.returncode == 2
    assert f"127.0.0.1:{port}" in result.stderr
    assert "--port N" in result.stderr
    assert "LEADVAULT_PORT=N" in result.stderr
    assert "password" not in result.stdout  # no sign-ins printed
    assert not (tmp_path / "data" / "leadvault.sqlite3").exists()  # nothing migrated


def test_ctrl_c_stops_the_demo_quietly(tmp_path: Path) -> None:
    import signal
    import time

    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEADVAULT_")}
    environment.update({"LEADVAULT_DATA_DIR": str(tmp_path / "data"), "LEADVAULT_ENV": "dev"})
    demo = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "demo", "--leads", "200000", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        # as in a terminal: a runner started in the background (``cmd &`` in a script)
        # passes SIGINT on as ignored, and Ctrl+C would then never reach the demo
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        database = tmp_path / "data" / "leadvault.sqlite3"
        deadline = time.monotonic() + 60
        while not database.exists() and time.monotonic() < deadline and demo.poll() is None:
            time.sleep(0.1)  # bounded: until the demo has migrated and is seeding
        demo.send_signal(signal.SIGINT)
        _, stderr = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.communicate()

    assert demo.returncode == 130
    assert "Traceback" not in stderr
    assert "leadvault: stopped" in stderr


def test_dev_py_demo_becomes_the_server_so_signals_reach_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dev

    became: list[list[str]] = []
    monkeypatch.setattr(dev, "_ensure_environment", lambda extras: None)
    monkeypatch.setattr(dev.os, "execv", lambda path, argv: became.append([path, *argv]))
    monkeypatch.setattr(dev.os, "chdir", lambda path: None)
    monkeypatch.setenv("LEADVAULT_ENV", "dev")

    dev.main(["demo", "--port", "8123"])

    leadvault = str(dev.BIN / "leadvault")
    assert became == [[leadvault, leadvault, "demo", "--port", "8123"]]


def test_dev_py_token_becomes_the_dev_token_command_in_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dev

    became: list[list[str]] = []
    monkeypatch.setattr(dev, "_ensure_environment", lambda extras: None)
    monkeypatch.setattr(dev.os, "execv", lambda path, argv: became.append([path, *argv]))
    monkeypatch.setattr(dev.os, "chdir", lambda path: None)
    environment: dict[str, str] = {}
    monkeypatch.setattr(dev.os, "environ", environment)

    dev.main(["token", "auditor", "--port", "8123"])

    leadvault = str(dev.BIN / "leadvault")
    assert became == [[leadvault, leadvault, "dev", "token", "auditor", "--port", "8123"]]
    assert environment["LEADVAULT_ENV"] == "dev"


def test_dev_py_installs_the_locked_versions_once_per_change(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import dev

    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("orjson==3.10.0\n")
    commands: list[list[str]] = []
    monkeypatch.setattr(dev, "VENV", venv)
    monkeypatch.setattr(dev, "BIN", venv / "bin")
    monkeypatch.setattr(dev, "CONSTRAINTS", constraints)
    monkeypatch.setattr(dev.subprocess, "run", lambda command, **_: commands.append(command))

    dev._ensure_environment("dev")
    dev._ensure_environment("dev")  # nothing changed: nothing installed
    installs = len(commands)
    constraints.write_text("orjson==3.10.1\n")
    dev._ensure_environment("dev")  # the lock changed: installed again

    assert installs == 2
    assert len(commands) == 4
    for command in commands:
        assert command[command.index("-c") + 1] == str(constraints)
    assert commands[1][-2:] == ["-e", ".[dev]"]


def test_ctrl_c_does_not_wait_for_a_thread_the_interrupt_left_behind() -> None:
    """An interrupt that lands while a database connection's thread is alive (SQLite gives
    each connection a non-daemon thread) must still end the command."""
    program = (
        "import queue, threading\n"
        "threading.Thread(target=queue.Queue().get).start()  # never ends by itself\n"
        "import server.cli as cli\n"
        "def interrupted(argv):\n"
        "    raise KeyboardInterrupt\n"
        "cli._main = interrupted\n"
        "cli.main([])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 130
    assert "leadvault: stopped" in done.stderr
