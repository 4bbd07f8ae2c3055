"""Programme profiles (项目规则文件): load them from programmes/ and mirror them into SQL.

The YAML files are the source; the ``programme`` table holds a copy (name, tier, documents and
the file's SHA-256) so calls can reference a programme and an audit can tell which version of
the rules was in force. Parsed profiles are cached by the file's (mtime_ns, size): a lookup stats
the files and reads none that is unchanged; an edited file is read and, if its content hash
changed, parsed again on the next call.
"""

from __future__ import annotations

import hashlib
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from models.clock import clock
from models.errors import NotFound
from models.profile import Profile, ProfileError, parse_profile, profile_paths
from models.programme import Programme
from models.settings import settings


@dataclass(frozen=True)
class LoadedProfile:
    profile: Profile
    path: Path
    sha256: str


# A stamp written within this many nanoseconds of its read may be followed by an edit that keeps
# both mtime (coarse filesystem clocks) and size; such an entry is re-hashed until it is older.
_RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class _Cached:
    stamp: tuple[int, int]       # (st_mtime_ns, st_size)
    read_ns: int                 # wall time the content was read
    loaded: LoadedProfile


_cache: dict[Path, _Cached] = {}


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_mtime_ns, status.st_size


def load_file(path: Path) -> LoadedProfile:
    """Parse one profile file (cached by mtime and size, then by content hash); its id must equal the file name."""
    return _load(path.resolve(), str(path))


def _load(path: Path, source: str) -> LoadedProfile:
    stamp = _stamp(path)
    cached = _cache.get(path)
    if cached and cached.stamp == stamp and stamp[0] < cached.read_ns - _RACY_NS:
        return cached.loaded
    read_ns = time.time_ns()
    data = _read(path)
    digest = hashlib.sha256(data).hexdigest()
    if cached and cached.loaded.sha256 == digest:
        _cache[path] = _Cached(stamp, read_ns, cached.loaded)
        return cached.loaded
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProfileError(f"{source}: 文件应为 UTF-8 编码") from None
    profile = parse_profile(text, source)
    if profile.id != path.stem:
        raise ProfileError(f"{source}: 字段 id: 应与文件名一致（{path.stem}），实际为 {profile.id!r}")
    loaded = LoadedProfile(profile, path, digest)
    _cache[path] = _Cached(stamp, read_ns, loaded)
    return loaded


@dataclass(frozen=True)
class _Listing:
    stamp: int                   # the directory's st_mtime_ns: adding, removing or renaming a file changes it
    read_ns: int
    files: list[tuple[Path, str]]    # (resolved path, path as named)


_listings: dict[Path, _Listing] = {}


def _files(directory: Path) -> list[tuple[Path, str]]:
    """The profile files of ``directory``, listed again only when the directory changed."""
    try:
        status = directory.stat()
    except FileNotFoundError:
        status = None
    if status is None or not stat.S_ISDIR(status.st_mode):
        raise NotFound(f"项目规则目录不存在：{directory}（可用 SRDI_PROGRAMMES_DIR 指定）")
    cached = _listings.get(directory)
    if cached and cached.stamp == status.st_mtime_ns and status.st_mtime_ns < cached.read_ns - _RACY_NS:
        return cached.files
    read_ns = time.time_ns()
    files = [(path.resolve(), str(path)) for path in profile_paths(directory)]
    _listings[directory] = _Listing(status.st_mtime_ns, read_ns, files)
    return files


def load_all_files(directory: Optional[Path] = None) -> dict[str, LoadedProfile]:
    directory = directory or settings().programmes_dir
    return {loaded.profile.id: loaded for loaded in (_load(path, source) for path, source in _files(directory))}


def load_all(directory: Optional[Path] = None) -> dict[str, Profile]:
    """Every profile in ``settings().programmes_dir`` (or ``directory``), by id. A bad file raises ProfileError."""
    return {pid: loaded.profile for pid, loaded in load_all_files(directory).items()}


def get_profile(programme_id: str, directory: Optional[Path] = None) -> Profile:
    profiles = load_all(directory)
    try:
        return profiles[programme_id]
    except KeyError:
        known = "、".join(sorted(profiles)) or "（无）"
        raise NotFound(f"未找到项目 {programme_id!r}；已有项目：{known}") from None


def programme_row(loaded: LoadedProfile) -> dict:
    profile = loaded.profile
    return {
        "id": profile.id,
        "name": profile.name,
        "tier": profile.tier,
        "documents": [doc.model_dump(exclude_none=True) for doc in profile.documents],
        "profile_sha256": loaded.sha256,
    }


def sync_programmes(connection: Connection, directory: Optional[Path] = None) -> int:
    """Upsert every profile into ``programme``; returns how many rows were inserted or changed.

    Idempotent: a profile whose file hash, name and tier are unchanged is left alone (its
    ``loaded_at`` keeps the time its current version was first loaded), so a second run writes
    nothing and returns 0. Programmes whose file was removed are kept: calls may still name them.
    """
    rows = [programme_row(loaded) for loaded in load_all_files(directory).values()]
    if not rows:
        return 0
    table = Programme.__table__
    existing = {
        r.id: r
        for r in connection.execute(
            select(table.c.id, table.c.name, table.c.tier, table.c.profile_sha256).where(table.c.id.in_([r["id"] for r in rows]))
        )
    }
    now = clock.now()
    new = [{**row, "loaded_at": now} for row in rows if row["id"] not in existing]
    changed = [
        {**{f"b_{k}": v for k, v in row.items()}, "b_loaded_at": now}
        for row in rows
        if row["id"] in existing
        and (existing[row["id"]].profile_sha256, existing[row["id"]].name, existing[row["id"]].tier)
        != (row["profile_sha256"], row["name"], row["tier"])
    ]
    if new:
        connection.execute(table.insert(), new)
    if changed:
        connection.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                name=bindparam("b_name"),
                tier=bindparam("b_tier"),
                documents=bindparam("b_documents"),
                profile_sha256=bindparam("b_profile_sha256"),
                loaded_at=bindparam("b_loaded_at"),
            ),
            changed,
        )
    return len(new) + len(changed)


__all__ = ["LoadedProfile", "get_profile", "load_all", "load_all_files", "load_file", "sync_programmes"]
