"""`pxs scan` as a user and a commit hook run it: the real console script."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from platxa_secrets.core import leaks, token_format
from tests.harness import Cli

CANARY = b"CANARY-c41d-planted-in-a-file"
REPO_ROOT = Path(__file__).resolve().parents[2]


def _forms(value: bytes) -> list[str]:
    return [
        value.decode(),
        base64.b64encode(value).decode()[:-4],
        base64.urlsafe_b64encode(value).decode()[:-4],
        value.hex(),
    ]


def _assert_not_shown(cli: Cli, *values: bytes) -> None:
    for result in cli.calls:
        for value in values:
            for form in _forms(value):
                assert form not in result.stdout
                assert form not in result.stderr


def _git(repo: Path, *args: str) -> str:
    completed = subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        capture_output=True,
        check=True,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(repo.parent),
            "GIT_CONFIG_NOSYSTEM": "1",
        },
    )
    return completed.stdout.decode().strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    _git(path, "init", "-q", "-b", "main")
    (path / "README.md").write_text("# a project\n")
    _git(path, "add", "README.md")
    _git(path, "commit", "-q", "-m", "start")
    return path


def _commit(repo: Path, name: str, content: str, message: str) -> str:
    (repo / name).write_text(content)
    _git(repo, "add", name)
    _git(repo, "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


def test_a_stored_value_is_found_raw_and_in_a_manifest_and_never_shown(
    store: Cli, tmp_path: Path
) -> None:
    store("secret", "set", "tenant-a/odoo", "DB_PASSWORD=-", stdin=CANARY)
    work = tmp_path / "work"
    work.mkdir()
    (work / "odoo.conf").write_bytes(b"[options]\ndb_password = " + CANARY + b"\n")
    encoded = base64.b64encode(CANARY).decode()
    (work / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: odoo\n"
        f"data:\n  DB_PASSWORD: {encoded}\n"
    )

    plain = store("scan", "--store", work, ok=False)
    as_json = store("scan", "--store", "-o", "json", work, ok=False)
    unaided = store("scan", work)

    assert (plain.code, as_json.code) == (1, 1)
    places = [line.split(" [")[0] for line in plain.stdout.splitlines()]
    assert places == [
        f"{work}/odoo.conf:2:15: stored-value",
        f"{work}/secret.yaml:6:16: stored-value",
    ]
    assert all(
        line.endswith("] tenant-a/odoo key DB_PASSWORD")
        for line in plain.stdout.splitlines()
    )
    document = json.loads(as_json.stdout)
    assert [f["secrets"] for f in document["findings"]] == [
        ["tenant-a/odoo key DB_PASSWORD"]
    ] * 2
    assert document["summary"]["store"]["fingerprinted"] == 1
    assert unaided.stdout == ""
    assert "pass --store" in unaided.stderr
    _assert_not_shown(store, CANARY)


def test_a_store_scan_is_audited_once_with_counts(store: Cli, tmp_path: Path) -> None:
    store("secret", "set", "tenant-a/odoo", "DB_PASSWORD=-", stdin=CANARY)
    (tmp_path / "leak.env").write_bytes(b"DB_PASSWORD=" + CANARY + b"\n")

    store("scan", "--store", tmp_path / "leak.env", ok=False)
    events = json.loads(store("audit", "list", "-o", "json").stdout)

    scans = [e for e in events if e["action"] == "scan"]
    assert len(scans) == 1
    assert "1 values fingerprinted" in scans[0]["detail"]
    assert not [e for e in events if e["action"] == "secret.read"]
    _assert_not_shown(store, CANARY)


def test_the_kubernetes_examples_hold_the_values_imported_from_them(
    store: Cli, fixtures_dir: Path
) -> None:
    manifests = fixtures_dir / "kubernetes-docs"
    bootstrap = manifests / "bootstrap-token-secret-literal.yaml"
    others = sorted(set(manifests.glob("*.yaml")) - {bootstrap})
    store("import", "-n", "docs", *others)
    store("import", bootstrap)  # it names its own namespace

    result = store("scan", "--store", "-o", "json", manifests, ok=False)

    found = {
        (Path(f["path"]).name, f["line"], tuple(f["secrets"]))
        for f in json.loads(result.stdout)["findings"]
    }
    assert found == {
        ("basicauth-secret.yaml", 11, ("docs/secret-basic-auth key password",)),
        (
            "bootstrap-token-secret-literal.yaml",
            13,
            ("kube-system/bootstrap-token-5emitj key auth-extra-groups",),
        ),
        (
            "bootstrap-token-secret-literal.yaml",
            14,
            ("kube-system/bootstrap-token-5emitj key expiration",),
        ),
        (
            "bootstrap-token-secret-literal.yaml",
            17,
            ("kube-system/bootstrap-token-5emitj key token-secret",),
        ),
        ("dockercfg-secret.yaml", 10, ("docs/secret-dockercfg key .dockercfg",)),
        ("dotfile-secret.yaml", 9, ("docs/dotfile-secret key .secret-file",)),
        ("ssh-auth-secret.yaml", 11, ("docs/secret-ssh-auth key ssh-privatekey",)),
    }
    _assert_not_shown(store, b"t0p-Secret", b"kq4gihvszzgn1p0r")


def test_the_legacy_export_and_its_keys_file_are_flagged(
    cli: Cli, fixtures_dir: Path
) -> None:
    result = cli("scan", "-o", "json", fixtures_dir / "legacy-odoo", ok=False)

    findings = json.loads(result.stdout)["findings"]
    assert result.code == 1
    keys = [
        (Path(f["path"]).name, f["line"], f["column"])
        for f in findings
        if f["kind"] == "fernet-key"
    ]
    assert keys == [("legacy_keys.txt", 2, 1)]
    tokens = [f for f in findings if f["kind"] == "fernet-token"]
    assert {Path(f["path"]).name for f in tokens} == {"instance_credential.csv"}
    assert len(tokens) == 80  # two encrypted columns in each of 40 rows


def test_a_scan_needs_no_store_and_no_master_key(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    bare = Cli(
        tmp_path / "nowhere",
        {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
    )

    clean = bare("scan", fixtures_dir / "kubernetes-docs")
    refused = bare("scan", "--store", fixtures_dir / "kubernetes-docs", ok=False)

    assert "0 leaks found in 5 files" in clean.stderr
    assert refused.code == 78
    assert "master key" in refused.stderr


def test_git_history_finds_a_token_a_later_commit_deleted(cli: Cli, repo: Path) -> None:
    token, parts = token_format.new_token()
    leaked = _commit(repo, "settings.py", f'API = "x"\nTOKEN = "{token}"\n', "add")
    _commit(repo, "settings.py", 'API = "x"\n', "remove the token")

    tree = cli("scan", repo)
    history = cli("scan", "--git", repo, ok=False)

    assert "0 leaks found" in tree.stderr
    assert history.code == 1
    assert history.stdout.splitlines() == [
        f"{leaked}:settings.py:2:10: api-token [{leaks.fingerprint(token)}] "
        f"pxs_{parts.id}_…"
    ]
    assert "in 3 commits" in history.stderr
    _assert_not_shown(cli, parts.secret.encode())


def test_a_clean_history_exits_zero(cli: Cli, repo: Path) -> None:
    _commit(repo, "app.py", "print('hello')\n", "code")

    result = cli("scan", "--git", repo)

    assert result.stdout == ""
    assert "0 leaks found in 2 file changes in 2 commits" in result.stderr


def test_staged_scans_what_the_next_commit_would_add(cli: Cli, repo: Path) -> None:
    key = Fernet.generate_key().decode()
    (repo / "staged.txt").write_text(f"one\nkey: {key}\n")
    (repo / "unstaged.txt").write_text(f"{key}\n")
    _git(repo, "add", "staged.txt")

    result = cli("scan", "--staged", repo, ok=False)

    assert [line.split(" [")[0] for line in result.stdout.splitlines()] == [
        "staged.txt:2:6: fernet-key"
    ]
    _assert_not_shown(cli, key.encode())


def test_the_pre_commit_hook_runs_pxs_scan_on_the_given_files(
    cli: Cli, tmp_path: Path
) -> None:
    manifest = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in manifest if h["id"] == "pxs-scan")
    assert (hook["language"], hook["pass_filenames"]) == ("python", True)
    program, *arguments = hook["entry"].split()
    assert program == "pxs"
    leaked, clean = tmp_path / "leaked.py", tmp_path / "clean.py"
    token, parts = token_format.new_token()
    leaked.write_text(f"TOKEN = '{token}'\n")
    clean.write_text("TOKEN = None\n")

    found = cli(*arguments, leaked, clean, ok=False)
    allowed = cli(*arguments, clean)

    assert found.code == 1
    assert [line.split(" [")[0] for line in found.stdout.splitlines()] == [
        f"{leaked}:1:10: api-token"
    ]
    assert allowed.code == 0
    _assert_not_shown(cli, parts.secret.encode())


def test_a_baseline_accepts_known_leaks(cli: Cli, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "old.txt").write_text(Fernet.generate_key().decode())
    baseline = tmp_path / "baseline.json"
    baseline.write_text(cli("scan", "-o", "json", work, ok=False).stdout)

    accepted = cli("scan", "--baseline", baseline, work)
    (work / "new.txt").write_text(Fernet.generate_key().decode())
    fresh = cli("scan", "--baseline", baseline, work, ok=False)

    assert "1 leaks in the baseline not shown" in accepted.stderr
    assert [Path(line.split(":")[0]).name for line in fresh.stdout.splitlines()] == [
        "new.txt"
    ]


@pytest.mark.parametrize(
    "arguments",
    [
        ["--git", "--staged", "."],
        ["missing-file"],
        ["--git", "{tmp}"],
        ["--git", "{tmp}", "{tmp}"],
        ["--baseline", "{tmp}/bad.json", "{tmp}"],
        ["--max-size", "0", "{tmp}"],
    ],
    ids=[
        "git-and-staged",
        "missing",
        "not-a-repo",
        "two-repos",
        "bad-baseline",
        "size",
    ],
)
def test_usage_errors_exit_2_without_a_traceback(
    cli: Cli, tmp_path: Path, arguments: list[str]
) -> None:
    work = tmp_path / "plain"
    work.mkdir()
    (work / "bad.json").write_text("[]")

    result = cli("scan", *(a.format(tmp=work) for a in arguments), ok=False)

    assert result.code == 2
    assert result.stdout == ""


def test_binary_and_oversized_files_are_reported_not_read(
    cli: Cli, tmp_path: Path
) -> None:
    key = Fernet.generate_key()
    (tmp_path / "blob.bin").write_bytes(b"\x00" + key)
    (tmp_path / "huge.txt").write_bytes(key + b"\n" + b"x" * (1024 * 1024))
    shutil.copy(tmp_path / "huge.txt", tmp_path / "also-huge.txt")

    result = cli("scan", "--max-size", "1", tmp_path)
    named = cli("scan", "-o", "json", "--max-size", "1", tmp_path / "blob.bin")

    assert f"skipped {tmp_path}/blob.bin: binary" in result.stderr
    assert f"skipped {tmp_path}/huge.txt: larger than 1 MiB" in result.stderr
    assert f"skipped {tmp_path}/also-huge.txt: larger than 1 MiB" in result.stderr
    # named, a binary file is reported rather than refused: a commit hook
    # passes every staged file, images included
    assert json.loads(named.stdout)["summary"]["skipped"] == [
        {"path": f"{tmp_path}/blob.bin", "commit": None, "reason": "binary"}
    ]


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_named_path_that_is_not_a_file_exits_2_naming_it(
    cli: Cli, tmp_path: Path, kind: str
) -> None:
    named = tmp_path / "pipe" if kind == "fifo" else Path("/dev/zero")
    if kind == "fifo":
        os.mkfifo(named)

    result = cli("scan", named, ok=False)

    assert result.code == 2
    assert result.stdout == ""
    assert f"{named} is a " in result.stderr
    assert "reads regular files and folders only" in result.stderr


NAMES = ["my file.txt", "tab\there.txt", "ünï cödé.txt", "back\\slash.txt"]
SHOWN = ["back\\\\slash.txt", "my file.txt", "tab\\there.txt", "ünï cödé.txt"]


def test_git_paths_are_shown_as_named_and_baselined(
    cli: Cli, repo: Path, tmp_path: Path
) -> None:
    key = Fernet.generate_key().decode()
    for name in NAMES:
        (repo / name).write_text(f"key: {key}\n")
    (repo / "logo.png").write_bytes(b"\x89PNG\x00" + key.encode())
    _git(repo, "add", ".")
    baseline = tmp_path / "baseline.json"

    staged = cli("scan", "--staged", repo, ok=False)
    baseline.write_text(cli("scan", "--staged", "-o", "json", repo, ok=False).stdout)
    accepted = cli("scan", "--staged", "--baseline", baseline, repo)
    _git(repo, "commit", "-q", "-m", "names")
    history = cli("scan", "--git", "--baseline", baseline, repo)

    assert [line.split(":")[0] for line in staged.stdout.splitlines()] == SHOWN
    assert "skipped logo.png: binary" in staged.stderr
    assert "4 leaks in the baseline not shown" in accepted.stderr
    assert "4 leaks in the baseline not shown" in history.stderr
    assert ":logo.png: binary" in history.stderr
    _assert_not_shown(cli, key.encode())


def test_values_that_name_their_own_tenant_and_tool_caches_are_not_leaks(
    store: Cli, tmp_path: Path
) -> None:
    store("provision", "tenant-acme", "--set", "db_host=pg.internal")
    repo = tmp_path / "repo"
    (repo / ".pytest_cache").mkdir(parents=True)
    (repo / "notes.md").write_text("tenant-acme runs Odoo 17, database tenant-acme\n")
    (repo / ".pytest_cache" / "nodeids").write_text(token_format.new_token()[0] + "\n")

    result = store("scan", "--store", repo, "-o", "json")

    report = json.loads(result.stdout)
    assert report["findings"] == []
    assert report["summary"]["store"]["public"] >= 1
