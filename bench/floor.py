"""The set-based floor of bench/pipeline.py --compare: the same round in stdlib sqlite3, nothing else.

Its own database file; the same four levels (区县 → 市 → 省, with the quota of 2,000 and ≤ 100 of category c
ranked by score, → 部), 公示 and 认定 (recognition rows); the same decisions (bench/plan.py). One transaction
per step, every step a few set-based statements: an executemany of the reviewers' decisions, INSERT … SELECT
for the transition log, one UPDATE … FROM per step, window functions for the quota. No validation, no
rules engine, no audit chain, no Prefect: the least a database can do to play the round.

    from bench.floor import run_floor; run_floor(plan, Path("floor.db"))   # → wall, final counts, transitions
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from bench.plan import LEVELS, QUOTA_LEVEL, QUOTA_MAX, SCORED, SUB_CAP_CATEGORY, SUB_CAP_MAX, Round

SCHEMA = """
CREATE TABLE route (home TEXT NOT NULL, level TEXT NOT NULL, desk TEXT NOT NULL, PRIMARY KEY (home, level)) WITHOUT ROWID;
CREATE TABLE application (id INTEGER PRIMARY KEY, ref TEXT NOT NULL UNIQUE, uscc TEXT NOT NULL, home TEXT NOT NULL,
    category TEXT, level TEXT NOT NULL, desk TEXT NOT NULL, status TEXT NOT NULL, score INTEGER, version INTEGER NOT NULL);
CREATE INDEX application_queue ON application (level, status, desk);
CREATE TABLE decision (app_id INTEGER PRIMARY KEY, decision TEXT NOT NULL, score INTEGER);
CREATE TABLE transition (id INTEGER PRIMARY KEY, app_id INTEGER NOT NULL, level TEXT NOT NULL, from_status TEXT,
    to_status TEXT NOT NULL, action TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT, at TEXT NOT NULL);
CREATE TABLE level_window (level TEXT NOT NULL, desk TEXT NOT NULL, closed_at TEXT NOT NULL, candidates INTEGER NOT NULL,
    PRIMARY KEY (level, desk));
CREATE TABLE notice (id INTEGER PRIMARY KEY, opened_at TEXT NOT NULL, closes_at TEXT NOT NULL);
CREATE TABLE recognition (app_id INTEGER PRIMARY KEY, notice_id INTEGER NOT NULL, certificate TEXT NOT NULL UNIQUE,
    valid_from TEXT NOT NULL, valid_to TEXT NOT NULL);
"""
DECIDED = "CASE d.decision WHEN 'return' THEN 'returned' WHEN 'reject' THEN 'rejected' ELSE 'recommended' END"
LOG = "INSERT INTO transition (app_id, level, from_status, to_status, action, actor, reason, at) "
OPEN = "('recommended', 'pending', 'returned')"
AT = {"intake": "2026-03-02T09:00", "county": "2026-03-21T09:00", "municipal": "2026-04-11T09:00",
      "provincial": "2026-05-01T09:00", "ministry": "2026-05-06T09:00", "公示": "2026-05-14T09:00"}


def _intake(con: sqlite3.Connection, plan: Round) -> None:
    rows = ((n, f"SQ2026-FLOOR-{n:06d}", f"91{home}MA{n:07d}", home, plan.categories[n - 1], plan.desks[home]["county"])
            for n, home in enumerate(plan.homes, start=1))
    con.executemany("INSERT INTO application VALUES (?, ?, ?, ?, ?, 'county', ?, 'pending', NULL, 1)", rows)
    con.execute(LOG + "SELECT id, 'county', NULL, 'pending', 'submit', 'system', NULL, ? FROM application", (AT["intake"],))


def _decide(con: sqlite3.Connection, plan: Round, level: str) -> int:
    """Every desk's batch (批量审核) at once: the decisions in, their log rows, one UPDATE."""
    decisions, scores = plan.decisions[level], plan.scores[level]
    scored = level in SCORED
    pending = con.execute("SELECT id FROM application WHERE level = ? AND status = 'pending'", (level,)).fetchall()
    con.executemany("INSERT INTO decision VALUES (?, ?, ?)",
                    [(n, decisions[n - 1], scores[n - 1] if scored else None) for (n,) in pending if decisions[n - 1] != "undecided"])
    con.execute(LOG + f"SELECT a.id, a.level, a.status, {DECIDED}, d.decision, 'r' || a.desk, "
                "CASE d.decision WHEN 'return' THEN '请补充审计报告' WHEN 'reject' THEN '不符合条件' END, ? "
                "FROM decision d JOIN application a ON a.id = d.app_id", (AT[level],))
    return con.execute(f"UPDATE application SET status = {DECIDED}, score = d.score, version = version + 1 "
                       "FROM decision d WHERE d.app_id = application.id AND application.level = ? AND application.status = 'pending'",
                       (level,)).rowcount


def _resubmit(con: sqlite3.Connection, level: str) -> None:
    """The returned ones come back (重新提交) and their desk recommends them."""
    con.execute(LOG + "SELECT id, level, 'returned', 'pending', 'resubmit', 'a' || id, NULL, ? "
                "FROM application WHERE level = ? AND status = 'returned'", (AT[level], level))
    con.execute("UPDATE application SET status = 'pending', version = version + 1 WHERE level = ? AND status = 'returned'", (level,))
    con.execute(LOG + "SELECT a.id, a.level, 'pending', 'recommended', 'recommend', 'r' || a.desk, NULL, ? "
                "FROM decision d JOIN application a ON a.id = d.app_id WHERE d.decision = 'return'", (AT[level],))
    con.execute("UPDATE application SET status = 'recommended', version = version + 1 "
                "WHERE id IN (SELECT app_id FROM decision WHERE decision = 'return') AND status = 'pending'")


def _apply_quota(con: sqlite3.Connection, level: str) -> None:
    """择优: rank each province's candidates (recommended before escalated, score high to low, then the reference);
    a class-c candidate beyond the sub-cap is out; the first QUOTA_MAX of the rest are taken, the others cut."""
    con.execute("CREATE TEMP TABLE taken (id INTEGER PRIMARY KEY)")
    con.execute(f"""
        WITH ranked AS (
            SELECT id, desk, category, status = 'pending' AS escalated, score, ref,
                   ROW_NUMBER() OVER (PARTITION BY desk, category IS '{SUB_CAP_CATEGORY}'
                                      ORDER BY status = 'pending', score IS NULL, score DESC, ref) AS in_category
            FROM application WHERE level = ? AND status IN ('recommended', 'pending')),
        allowed AS (
            SELECT id, ROW_NUMBER() OVER (PARTITION BY desk ORDER BY escalated, score IS NULL, score DESC, ref) AS position
            FROM ranked WHERE category IS NOT '{SUB_CAP_CATEGORY}' OR in_category <= {SUB_CAP_MAX})
        INSERT INTO taken SELECT id FROM allowed WHERE position <= {QUOTA_MAX}""", (level,))
    cut = "level = ? AND status IN ('recommended', 'pending') AND id NOT IN (SELECT id FROM taken)"
    con.execute(LOG + f"SELECT id, level, status, 'quota_cut', 'quota_cut', 'system', '超出名额', ? FROM application WHERE {cut}",
                (AT[level], level))
    con.execute(f"UPDATE application SET status = 'quota_cut', version = version + 1 WHERE {cut}", (level,))
    con.execute("DROP TABLE taken")


def _close(con: sqlite3.Connection, level: str) -> None:
    """层级办结: quota, lapse the returned never resubmitted, forward the recommended and escalate the undecided."""
    con.execute(f"INSERT INTO level_window SELECT level, desk, ?, count(*) FROM application WHERE level = ? AND status IN {OPEN} "
                "GROUP BY desk", (AT[level], level))
    if level == QUOTA_LEVEL:
        _apply_quota(con, level)
    con.execute(LOG + "SELECT id, level, 'returned', 'lapsed', 'lapse', 'system', '退回修改后逾期未重新提交', ? "
                "FROM application WHERE level = ? AND status = 'returned'", (AT[level], level))
    con.execute("UPDATE application SET status = 'lapsed', version = version + 1 WHERE level = ? AND status = 'returned'", (level,))
    after = LEVELS.index(level) + 1
    if after == len(LEVELS):
        return                                              # the final level's recommended go to 公示
    con.execute(LOG + "SELECT id, level, status, 'pending', CASE status WHEN 'pending' THEN 'escalate' ELSE 'forward' END, "
                "'system', CASE status WHEN 'pending' THEN '逾期未审核，按规定报送上级' END, ? "
                "FROM application WHERE level = ? AND status IN ('recommended', 'pending')", (AT[level], level))
    con.execute("UPDATE application SET level = r.level, desk = r.desk, status = 'pending', score = NULL, version = version + 1 "
                "FROM route r WHERE r.home = application.home AND r.level = ? "
                "AND application.level = ? AND application.status IN ('recommended', 'pending')", (LEVELS[after], level))


def _open_notice(con: sqlite3.Connection) -> None:
    notice = con.execute("INSERT INTO notice (opened_at, closes_at) VALUES (?, '2026-05-13T17:30')", (AT["ministry"],)).lastrowid
    con.execute(LOG + "SELECT id, level, 'recommended', 'on_notice', 'publish', 'system', ?, ? "
                "FROM application WHERE level = 'ministry' AND status = 'recommended'", (f"公示 {notice}", AT["ministry"]))
    con.execute("UPDATE application SET status = 'on_notice', version = version + 1 WHERE level = 'ministry' AND status = 'recommended'")


def _recognise(con: sqlite3.Connection) -> None:
    """公示期满无异议 → 认定: a recognition row each (certificate number, three years' validity)."""
    con.execute("INSERT INTO recognition SELECT id, (SELECT max(id) FROM notice), 'ZJTX-2026-' || printf('%06d', id), "
                "'2026-05-14', '2029-05-13' FROM application WHERE status = 'on_notice'")
    con.execute(LOG + "SELECT id, level, 'on_notice', 'recognised', 'recognise', 'system', NULL, ? "
                "FROM application WHERE status = 'on_notice'", (AT["公示"],))
    con.execute("UPDATE application SET status = 'recognised', version = version + 1 WHERE status = 'on_notice'")


def run_floor(plan: Round, path: Path) -> dict:
    """Play ``plan`` on a fresh database at ``path``: {"wall", "final" (status → count), "transitions", "recognitions"}."""
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    con.executescript("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;" + SCHEMA)
    con.executemany("INSERT INTO route VALUES (?, ?, ?)",
                    [(home, level, desk) for home, by_level in plan.desks.items() for level, desk in by_level.items()])

    def step(work, *args) -> None:
        con.execute("BEGIN")
        work(con, *args)
        con.execute("COMMIT")

    start = time.perf_counter()
    step(_intake, plan)
    for level in LEVELS:
        step(_decide, plan, level)
        if level == "county":
            step(_resubmit, level)
        step(lambda c, lv: c.execute("DELETE FROM decision"), level)
        step(_close, level)
    step(lambda c: _open_notice(c))
    step(lambda c: _recognise(c))
    wall = time.perf_counter() - start
    final = dict(con.execute("SELECT status, count(*) FROM application GROUP BY status").fetchall())
    transitions = con.execute("SELECT count(*) FROM transition").fetchone()[0]
    recognitions = con.execute("SELECT count(*) FROM recognition").fetchone()[0]
    con.close()
    return {"wall": wall, "final": final, "transitions": transitions, "recognitions": recognitions}
