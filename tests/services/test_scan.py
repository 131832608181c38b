"""The scan service: stored values found by fingerprint, sources, baselines."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from dataclasses import asdict
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from platxa_secrets.api import Platxa
from platxa_secrets.errors import ValidationError
from platxa_secrets.services import _scan_git
from platxa_secrets.services.scan import (
    GIT,
    STAGED,
    ScanReport,
    ScanRequest,
    ScanService,
    Skipped,
    read_baseline,
)

CANARY = b"CANARY-3f9a-stored-value"
SPACED = b"CANARY-51c0 with spaces"
SHORT = b"CANARY7"  # 7 bytes: below the minimum, never looked for
PEM_LIKE = b"line one of CANARY-a41c\nline two of CANARY-a41c\n"


def _forms(value: bytes) -> list[str]:
    text = value.decode()
    return [text, base64.b64encode(value).decode(), value.hex()]


def _assert_silent(report: ScanReport, *values: bytes) -> None:
    shown = repr(report) + json.dumps([asdict(leak) for leak in report.leaks])
    for value in values:
        for form in _forms(value):
            assert form not in shown


@pytest.fixture
def stored(pxs: Platxa) -> Platxa:
    pxs.secrets.put(
        "tenant-a", "odoo", {"DB_PASSWORD": CANARY, "PHRASE": SPACED, "PIN": SHORT}
    )
    pxs.secrets.put("tenant-b", "tls", {"tls.key": PEM_LIKE})
    return pxs


def test_stored_values_are_found_raw_quoted_in_urls_and_base64(
    stored: Platxa, tmp_path: Path
) -> None:
    encoded = base64.b64encode(CANARY).decode()
    (tmp_path / "app.env").write_bytes(b'PHRASE="' + SPACED + b'"\n')
    (tmp_path / "dsn.txt").write_bytes(
        b"url = postgresql://odoo:" + CANARY + b"@db:5432/odoo\n"
    )
    (tmp_path / "secret.yaml").write_text(
        f"kind: Secret\ndata:\n  DB_PASSWORD: {encoded}\n"
    )
    (tmp_path / "tls.key").write_bytes(PEM_LIKE)
    (tmp_path / "short.txt").write_bytes(b"pin: " + SHORT + b"\n")

    report = ScanService(stored.runtime).scan(ScanRequest((tmp_path,)))

    places = [(Path(leak.path).name, leak.line, leak.column) for leak in report.leaks]
    assert places == [
        ("app.env", 1, 9),
        ("dsn.txt", 1, 25),
        ("secret.yaml", 3, 16),
        ("tls.key", 1, 1),
    ]
    assert {leak.kind for leak in report.leaks} == {"stored-value"}
    assert report.leaks[0].secrets == ("tenant-a/odoo key PHRASE",)
    assert report.leaks[1].secrets == ("tenant-a/odoo key DB_PASSWORD",)
    assert report.leaks[3].secrets == ("tenant-b/tls key tls.key",)
    assert report.store is not None
    assert (report.store.fingerprinted, report.store.too_short) == (3, 1)
    _assert_silent(report, CANARY, SPACED, SHORT)


def test_a_store_scan_writes_one_audit_event_with_counts_only(
    stored: Platxa, tmp_path: Path
) -> None:
    (tmp_path / "leak.txt").write_bytes(CANARY)
    before = {e.id for e in stored.audit.list(limit=1000)}

    ScanService(stored.runtime).scan(ScanRequest((tmp_path,)))

    events = [e for e in stored.audit.list(limit=1000) if e.id not in before]
    assert [(e.action, e.outcome) for e in events] == [("scan", "ok")]
    detail = events[0].detail or ""
    assert "3 values fingerprinted" in detail
    assert "1 leaks, 1 of stored values" in detail
    for form in _forms(CANARY):
        assert form not in repr(events[0])


def test_without_the_store_only_shapes_are_looked_for(
    stored: Platxa, tmp_path: Path
) -> None:
    key = Fernet.generate_key()
    (tmp_path / "leak.txt").write_bytes(CANARY + b"\n" + key + b"\n")
    before = len(stored.audit.list(limit=1000))

    report = ScanService().scan(ScanRequest((tmp_path,)))

    assert [(leak.kind, leak.line) for leak in report.leaks] == [("fernet-key", 2)]
    assert report.store is None
    assert len(stored.audit.list(limit=1000)) == before


def test_the_allow_marker_covers_stored_values(stored: Platxa, tmp_path: Path) -> None:
    (tmp_path / "example.env").write_bytes(
        b"DB_PASSWORD=" + CANARY + b"  # pxs-scan: allow\n"
    )

    report = ScanService(stored.runtime).scan(ScanRequest((tmp_path,)))

    assert report.leaks == []


def test_skipped_folders_binary_and_large_files_are_reported(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    for folder in (".git", ".venv", "node_modules", "src"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "key.txt").write_bytes(key)
    (tmp_path / "image.bin").write_bytes(b"\x89PNG\x00" + key)
    (tmp_path / "big.txt").write_bytes(key + b"\n" + b"x" * 2048)

    report = ScanService().scan(ScanRequest((tmp_path,), max_file_bytes=1024))

    assert [Path(leak.path).relative_to(tmp_path) for leak in report.leaks] == [
        Path("src/key.txt")
    ]
    assert report.tally.skipped == [
        Skipped(str(tmp_path / "big.txt"), "larger than 1024 B"),
        Skipped(str(tmp_path / "image.bin"), "binary"),
    ]


def test_a_file_named_explicitly_is_read_even_inside_a_skipped_folder(
    tmp_path: Path,
) -> None:
    (tmp_path / ".venv").mkdir()
    named = tmp_path / ".venv" / "key.txt"
    named.write_bytes(Fernet.generate_key())

    report = ScanService().scan(ScanRequest((named,)))

    assert [leak.path for leak in report.leaks] == [str(named)]


def test_a_baseline_hides_known_leaks_by_path_kind_and_fingerprint(
    tmp_path: Path,
) -> None:
    (tmp_path / "old.txt").write_bytes(Fernet.generate_key())
    (tmp_path / "new.txt").write_bytes(Fernet.generate_key())
    first = ScanService().scan(ScanRequest((tmp_path / "old.txt",)))
    baseline = json.dumps({"findings": [asdict(leak) for leak in first.leaks]})

    report = ScanService().scan(
        ScanRequest((tmp_path,), baseline=read_baseline(baseline.encode(), "b.json"))
    )

    assert [Path(leak.path).name for leak in report.leaks] == ["new.txt"]
    assert report.baselined == 1


@pytest.mark.parametrize(
    "content", [b"not json", b"[]", b'{"findings": [{"path": "x"}]}']
)
def test_a_malformed_baseline_is_refused_with_the_rule(content: bytes) -> None:
    with pytest.raises(ValidationError, match="not the JSON output") as caught:
        read_baseline(content, "b.json")

    assert caught.value.context["field"] == "baseline"
    assert caught.value.__cause__ is None


def test_bad_requests_are_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        ScanService().scan(ScanRequest((tmp_path / "missing",)))
    with pytest.raises(ValidationError, match="not a git repository"):
        ScanService().scan(ScanRequest((tmp_path,), GIT))
    with pytest.raises(ValidationError, match="one repository path"):
        ScanService().scan(ScanRequest((tmp_path, tmp_path), GIT))


def _git(repo: Path, *args: str) -> str:
    identity = ["-c", "user.name=T", "-c", "user.email=t@t.invalid"]
    completed = subprocess.run(
        ["git", "-C", str(repo), *identity, "-c", "commit.gpgsign=false", *args],
        capture_output=True,
        check=True,
        env={"PATH": os.environ.get("PATH", ""), "GIT_CONFIG_NOSYSTEM": "1"},
    )
    return completed.stdout.decode().strip()


def test_git_hunks_are_read_by_count_and_keep_multi_line_keys(
    tmp_path: Path,
) -> None:
    pem = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    _git(tmp_path, "init", "-q")
    # In the patch this line reads "+++ b/elsewhere.txt", like a file header.
    (tmp_path / "notes.txt").write_text(f"++ b/elsewhere.txt\n{pem}")
    _git(tmp_path, "add", "notes.txt")
    _git(tmp_path, "commit", "-q", "-m", "notes")
    commit = _git(tmp_path, "rev-parse", "HEAD")

    report = ScanService().scan(ScanRequest((tmp_path,), GIT))

    assert [(x.commit, x.path, x.line, x.kind) for x in report.leaks] == [
        (commit, "notes.txt", 2, "private-key")
    ]
    assert (report.tally.commits, report.tally.files) == (1, 1)


def test_what_is_not_a_regular_file_in_a_folder_is_reported_with_its_kind(
    tmp_path: Path,
) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "real.txt").write_bytes(Fernet.generate_key())
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    (tmp_path / "linked-dir").symlink_to(tmp_path)

    report = ScanService().scan(ScanRequest((tmp_path,)))

    assert [Path(leak.path).name for leak in report.leaks] == ["real.txt"]
    assert report.tally.skipped == [
        Skipped(str(tmp_path / "linked-dir"), "a symbolic link, not followed"),
        Skipped(str(tmp_path / "link.txt"), "a symbolic link, not followed"),
        Skipped(str(tmp_path / "pipe"), "not a regular file (FIFO)"),
    ]


def test_a_named_fifo_or_device_is_refused_not_reported_clean(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")

    for named, kind in [(tmp_path / "pipe", "FIFO"), (Path("/dev/zero"), "device")]:
        with pytest.raises(ValidationError, match=kind) as caught:
            ScanService().scan(ScanRequest((tmp_path, named)))
        assert str(named) in caught.value.message
        assert caught.value.context["field"] == "path"


def test_a_named_link_to_a_folder_is_walked(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "key.txt").write_bytes(Fernet.generate_key())
    (tmp_path / "link").symlink_to(tmp_path / "real")

    report = ScanService().scan(ScanRequest((tmp_path / "link",)))

    assert [leak.path for leak in report.leaks] == [str(tmp_path / "link/key.txt")]


def test_a_utf16_file_is_read(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    (tmp_path / "settings.ps1").write_bytes(f"$Key = '{key}'\r\n".encode("utf-16"))

    report = ScanService().scan(ScanRequest((tmp_path,)))

    assert [(leak.kind, leak.line, leak.column) for leak in report.leaks] == [
        ("fernet-key", 1, 9)
    ]
    assert (report.tally.files, report.tally.skipped) == (1, [])


NAMES = ["my file.txt", "tab\there.txt", "café/ünï cödé.txt", 'q"uote\\back.txt']


def test_git_paths_with_spaces_tabs_quotes_and_non_ascii_are_exact(
    tmp_path: Path,
) -> None:
    key = Fernet.generate_key().decode()
    _git(tmp_path, "init", "-q")
    for name in NAMES:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(f"one\nkey: {key}\n")
    _git(tmp_path, "add", ".")

    staged = ScanService().scan(ScanRequest((tmp_path,), STAGED))
    _git(tmp_path, "commit", "-q", "-m", "names")
    history = ScanService().scan(ScanRequest((tmp_path,), GIT))

    for report in (staged, history):
        assert sorted((x.path, x.line, x.column) for x in report.leaks) == sorted(
            (name, 2, 6) for name in NAMES
        )
        assert report.tally.files == len(NAMES)


def test_git_binary_changes_are_reported_and_utf16_ones_read(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    _git(tmp_path, "init", "-q")
    (tmp_path / "logo image.png").write_bytes(b"\x89PNG\x00\x00" + key.encode())
    (tmp_path / "big.bin").write_bytes(b"\x00" * 4096)
    (tmp_path / "run.ps1").write_bytes(f"$Key = '{key}'\r\n".encode("utf-16"))
    _git(tmp_path, "add", ".")

    staged = ScanService().scan(ScanRequest((tmp_path,), STAGED, 1024))
    _git(tmp_path, "commit", "-q", "-m", "binaries")
    commit = _git(tmp_path, "rev-parse", "HEAD")
    history = ScanService().scan(ScanRequest((tmp_path,), GIT, 1024))

    for report, at in ((staged, None), (history, commit)):
        assert [(x.path, x.line, x.column, x.commit) for x in report.leaks] == [
            ("run.ps1", 1, 9, at)
        ]
        assert report.tally.skipped == [
            Skipped("big.bin", "larger than 1024 B", at),
            Skipped("logo image.png", "binary", at),
        ]


@pytest.mark.parametrize(
    ("header", "path"),
    [
        ("b/plain.txt", "plain.txt"),
        ("b/my file.txt\t", "my file.txt"),
        ('"b/tab\\there.txt"', "tab\there.txt"),
        ('"b/sp ace\\tname.txt"\t', "sp ace\tname.txt"),
        ('"b/caf\\303\\251.txt"', "café.txt"),
        ('"b/q\\"uote\\\\back"', 'q"uote\\back'),
        ('"b/bad\\377byte"', "bad\udcffbyte"),
        ("/dev/null", None),
    ],
    ids=[
        "plain",
        "space",
        "tab",
        "space-and-tab",
        "octal",
        "quote",
        "bad-utf8",
        "null",
    ],
)
def test_git_header_paths_are_unquoted(header: str, path: str | None) -> None:
    assert _scan_git._new_path(header) == path


@pytest.mark.parametrize(
    ("names", "path"),
    [
        ("a/x.png b/x.png", "x.png"),
        ("a/my a b/c.png b/my a b/c.png", "my a b/c.png"),
        ('"a/t\\tab.png" "b/t\\tab.png"', "t\tab.png"),
        ('a/old name.png "b/new\\tname.png"', "new\tname.png"),
        ('"a/old\\tname.png" b/new name.png', "new name.png"),
        ("a/old name.png b/new name.png", None),  # a rename: `rename to` says
    ],
    ids=["plain", "spaces", "quoted", "new-quoted", "old-quoted", "rename"],
)
def test_the_new_path_of_a_diff_header_is_told_apart(
    names: str, path: str | None
) -> None:
    assert _scan_git._new_path_of_diff(names) == path
