#!/usr/bin/env python3
"""One entry point for a fresh machine with only python3.

    python3 dev.py demo    install into ./.venv, then migrate, seed and serve the demo
    python3 dev.py token ROLE
                           sign the demo's ROLE account in (the demo must be running) and
                           print a bearer token, e.g. TOKEN=$(python3 dev.py token manager)
    python3 dev.py code ROLE
                           print a TOTP code the demo's ROLE account can use now, to sign
                           in to the console at /console/
    python3 dev.py test    install into ./.venv with test extras, then run the whole suite
    python3 dev.py lock    resolve the newest versions pyproject.toml allows and write them to
                           constraints.txt (what every install here uses); review, test, commit
    python3 dev.py docs    build the documentation site (mkdocs, strict: a broken link fails)
    python3 dev.py lint    ruff (lint and format check), mypy and the import-layer contracts
    python3 dev.py mutate MODULE
                           mutation-test one security-core module (e.g. audit.chain) with
                           mutmut, then list the mutants that survived

Extra arguments after the command go to the underlying tool (``leadvault demo`` or pytest).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


CONSTRAINTS = ROOT / "constraints.txt"
"""The exact version of every package the project installs (all extras), so that every
machine and CI install the same. ``python3 dev.py lock`` writes it afresh."""

LOCKED_EXTRAS = "mutation,docs"
"""The extras that together pull in every optional package (mutation includes dev, dev
includes test, test includes tracing)."""


def _ensure_environment(extras: str) -> None:
    """Create the virtual environment and install the project, at the locked versions, once
    per change of pyproject.toml or constraints.txt."""
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + CONSTRAINTS.read_bytes()
    ).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not (BIN / "python").exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    target = f".[{extras}]" if extras else "."
    print(f"installing leadvault{f'[{extras}]' if extras else ''} into .venv …", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    locked = ["-c", str(CONSTRAINTS)]
    subprocess.run([*pip, "install", *locked, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", *locked, "-e", target], check=True, cwd=ROOT)
    stamp.write_text(digest)


def _lock() -> int:
    """Resolve every dependency afresh (newest versions pyproject allows) in a scratch
    environment and write their exact versions to constraints.txt."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="leadvault-lock-") as scratch:
        print("resolving the newest versions pyproject.toml allows …", flush=True)
        venv.EnvBuilder(with_pip=True).create(scratch)
        python = str(Path(scratch) / ("Scripts" if os.name == "nt" else "bin") / "python")
        pip = [python, "-m", "pip", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "install", f".[{LOCKED_EXTRAS}]"], check=True, cwd=ROOT)
        frozen = subprocess.run(
            [*pip, "freeze", "--all", "--exclude", "leadvault"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    version = ".".join(map(str, sys.version_info[:2]))
    CONSTRAINTS.write_text(
        "# Exact versions of every package LeadVault installs, with all extras.\n"
        "# dev.py and CI install with these; python3 dev.py lock resolves them afresh.\n"
        f"# Resolved on Python {version}, {sys.platform}.\n" + frozen
    )
    print(f"wrote {CONSTRAINTS.name}: {len(frozen.splitlines())} packages")
    return 0


def _run(command: list[str]) -> int:
    return subprocess.run(command, cwd=ROOT).returncode


def _replace_with(command: list[str]) -> int:
    """Become ``command`` (on POSIX), so a signal meant for this process (SIGTERM from a
    supervisor, Ctrl+C) reaches the server itself and nothing is left serving."""
    if os.name != "posix":
        return _run(command)
    os.chdir(ROOT)
    os.execv(command[0], command)
    return 0  # not reached: execv does not return


def _mutate(modules: list[str]) -> int:
    """mutmut over the named modules (as configured in pyproject's [tool.mutmut]); its
    score is killed ÷ (killed + survived), timeouts counting as killed."""
    if not modules:
        print("name a module, e.g. python3 dev.py mutate audit.chain", file=sys.stderr)
        return 2
    patterns = [f"{module}.*" for module in modules]
    status = _run([str(BIN / "mutmut"), "run", *patterns])
    results = subprocess.run(
        [str(BIN / "mutmut"), "results", "--all", "true"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    counts: dict[str, int] = {}
    for line in results.stdout.splitlines():
        name, _, outcome = line.strip().rpartition(": ")
        if any(name.startswith(f"{module}.") for module in modules):
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome == "survived":
                print(f"survived: {name}  (mutmut show {name})")
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    survived = counts.get("survived", 0)
    total = killed + survived
    score = f"{100 * killed / total:.1f}%" if total else "n/a"
    print(f"{' '.join(modules)}: {killed} killed, {survived} survived, score {score}; {counts}")
    return status


def main(argv: list[str]) -> int:
    commands = ("demo", "token", "code", "test", "lint", "lock", "docs", "mutate")
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "lock":
        return _lock()
    if command == "docs":
        _ensure_environment("docs")
        os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
        return _run([str(BIN / "mkdocs"), "build", "--strict", *rest])
    if command == "mutate":
        _ensure_environment("mutation")
        return _mutate(rest)
    if command == "demo":
        _ensure_environment("")
        os.environ.setdefault("LEADVAULT_ENV", "dev")
        return _replace_with([str(BIN / "leadvault"), "demo", *rest])
    if command in ("token", "code"):
        _ensure_environment("")
        os.environ.setdefault("LEADVAULT_ENV", "dev")
        return _replace_with([str(BIN / "leadvault"), "dev", command, *rest])
    _ensure_environment("dev")
    if command == "test":
        return _run([str(BIN / "python"), "-m", "pytest", *rest])
    status = _run([str(BIN / "ruff"), "check", "."])
    status |= _run([str(BIN / "ruff"), "format", "--check", "."])
    status |= _run([str(BIN / "mypy")])
    status |= _run([str(BIN / "lint-imports")])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
