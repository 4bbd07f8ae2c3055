"""Programme profiles (项目规则文件): load them from programmes/ and mirror them into SQL.

The YAML files are the source; the ``programme`` table holds a copy (name, tier, documents and
the file's SHA-256) so calls can reference a programme and an audit can tell which version of
the rules was in force. Parsed profiles are cached by file hash: editing a file is picked up on
the next call, an unchanged file is not parsed again.
"""

from __future__ import annotations

import hashlib
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


_cache: dict[Path, LoadedProfile] = {}


def load_file(path: Path) -> LoadedProfile:
    """Parse one profile file (cached by content hash); its id must equal the file name."""
    source, path = str(path), path.resolve()
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    cached = _cache.get(path)
    if cached and cached.sha256 == digest:
        return cached
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProfileError(f"{source}: 文件应为 UTF-8 编码") from None
    profile = parse_profile(text, source)
    if profile.id != path.stem:
        raise ProfileError(f"{source}: 字段 id: 应与文件名一致（{path.stem}），实际为 {profile.id!r}")
    loaded = LoadedProfile(profile, path, digest)
    _cache[path] = loaded
    return loaded


def load_all_files(directory: Optional[Path] = None) -> dict[str, LoadedProfile]:
    directory = directory or settings().programmes_dir
    if not directory.is_dir():
        raise NotFound(f"项目规则目录不存在：{directory}（可用 SRDI_PROGRAMMES_DIR 指定）")
    return {loaded.profile.id: loaded for loaded in map(load_file, profile_paths(directory))}


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
