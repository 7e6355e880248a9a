"""``leadvault keys``: master key status, rotation and retirement."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from server.settings import Settings

if TYPE_CHECKING:
    from leads.key_rotation import KeyStatus


def add_commands(commands: Any) -> None:
    keys = commands.add_parser("keys", help="master key status and rotation")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    keys_commands.add_parser("status", help="key versions in use")
    rotate = keys_commands.add_parser(
        "rotate",
        help="add a master key version (key file) and move everything to it; "
        "resumes an interrupted rotation",
    )
    rotate.add_argument("--batch-size", type=int, default=500)
    rotate.add_argument(
        "--resume-only",
        action="store_true",
        help="never add a version; only finish moving to the active one",
    )
    retire = keys_commands.add_parser("retire", help="remove an old master key version")
    retire.add_argument("--version", type=int, required=True)
    signing_keys = keys_commands.add_parser(
        "signing", help="the keys that sign audit checkpoints and erasure certificates"
    )
    signing_commands = signing_keys.add_subparsers(dest="signing_command", required=True)
    signing_commands.add_parser(
        "list", help="every signing key's public key, as JSON, to publish and pin"
    )
    signing_rotate = signing_commands.add_parser(
        "rotate", help="start a new signing key version (earlier versions keep checking)"
    )
    signing_rotate.add_argument(
        "--purpose",
        choices=["all", "audit-checkpoints", "erasure-certificates"],
        default="all",
    )


SIGNING_PURPOSES = {
    "audit-checkpoints": "audit-checkpoint-ed25519",  # crypto.signing.AUDIT_CHECKPOINTS
    "erasure-certificates": "dsr-certificate-ed25519",  # crypto.signing.ERASURE_CERTIFICATES
}


async def run(settings: Settings, args: argparse.Namespace) -> None:
    from crypto.keyring import FileKeySource
    from crypto.vault import current_vault
    from leads import key_rotation
    from server.cli.progress import Progress
    from server.db import close_db, init_db, key_file_of, open_vault

    await init_db(settings)
    try:
        await open_vault(settings)
        state = await key_rotation.status(current_vault())
        key_file = key_file_of(settings)
        if args.keys_command == "status":
            from identity import clock
            from rights import orphans

            _print_status(state)
            print(
                f"subject keys no record uses (older than {orphans.ORPHAN_AGE}): "
                f"{await orphans.count(clock.now())} (the retention job deletes them)"
            )
        elif args.keys_command == "signing":
            await _signing(args)
        elif args.keys_command == "rotate":
            if not state.keys_to_rewrap and not state.leads_to_reindex and not args.resume_only:
                if key_file is None:
                    print(
                        "master keys come from LEADVAULT_MASTER_KEY: add the new version "
                        "there (N:<base64 key>) and run `leadvault keys rotate` again"
                    )
                    return
                version = FileKeySource(key_file).add_version()
                print(f"added master key version {version} to {key_file}")
                await open_vault(settings)
                state = await key_rotation.status(current_vault())
            total = state.keys_to_rewrap + state.leads_to_reindex
            with Progress("rotating keys", total) as progress:
                moved = await key_rotation.rotate(
                    current_vault(), args.batch_size, progress.advance
                )
            print(f"moved {moved} rows to master key version {state.active_version}")
            _print_status(await key_rotation.status(current_vault()))
        elif args.keys_command == "retire":
            deleted = await key_rotation.retire(current_vault(), args.version)
            if key_file is not None:
                FileKeySource(key_file).remove_version(args.version)
                print(f"removed master key version {args.version} from {key_file}")
            else:
                print(f"remove version {args.version} from LEADVAULT_MASTER_KEY")
            print(f"dropped {deleted} blind-index entries of version {args.version}")
    except key_rotation.VersionInUse as error:
        print(f"leadvault: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        await close_db()


async def _signing(args: argparse.Namespace) -> None:
    import json

    from audit.events import Actor, Event, Outcome, record
    from crypto import signing
    from identity import clock

    if args.signing_command == "list":
        print(json.dumps(await signing.listing(), indent=2))
        return
    chosen = (
        list(SIGNING_PURPOSES.values())
        if args.purpose == "all"
        else [SIGNING_PURPOSES[args.purpose]]
    )
    for purpose in chosen:
        version = await signing.rotate(purpose, clock.now())
        await record(
            Event(
                "keys.signing.rotated",
                Outcome.SUCCESS,
                Actor.operator(),
                details={"purpose": purpose, "version": version},
            )
        )
        print(f"{purpose}: now signing with version {version}")


def _print_status(state: KeyStatus) -> None:
    print(
        f"active master key version: {state.active_version} "
        f"(configured: {', '.join(map(str, state.configured_versions))})"
    )
    for version in sorted(set(state.subject_keys) | set(state.index_entries)):
        print(
            f"  version {version}: {state.subject_keys.get(version, 0)} subject keys, "
            f"{state.index_entries.get(version, 0)} blind-index entries"
        )
    print(f"leads still to re-index: {state.leads_to_reindex}")
    for version, n in sorted(state.secrets.items()):
        print(f"  version {version} seals {n} secrets (TOTP seeds, signing keys)")
