"""SpiffWorkflow 3.2 plays the round of bench/pipeline.py --compare: one BPMN workflow per application.

bench/spiff/round.bpmn: the four review levels as user tasks, an exclusive gateway after each (reject → end;
a county return → the applicant's resubmission → the county again), then 公示 (a user task completed when the
notice closes) and 认定. Each level's ready tasks are completed with the plan's decisions (bench/plan.py); a
desk's undecided ones are completed at the level's deadline as escalated. The provincial quota (2,000, ≤ 100 of
category c) is not something BPMN expresses: it is applied between the levels by ranking in Python
(bench/plan.py ``apply_quota``, srdi's ranking), and the cut ones' provincial task is completed with
``quota_cut``. After intake and after every level, every workflow is serialised with Spiff's serializer
(BpmnWorkflowSerializer, JSON) and written to SQLite in one transaction; the workflows stay in memory in between.

Needs the ``bench`` extra: pip install -c requirements.lock -e '.[bench]'   (SpiffWorkflow==3.2.0)
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from bench.plan import LEVELS, QUOTA_LEVEL, SCORED, Round, apply_quota, quota_rank_key

BPMN = Path(__file__).resolve().parent / "spiff" / "round.bpmn"
ENDS = ("recognised", "rejected", "quota_cut")


def available() -> bool:
    try:
        import SpiffWorkflow  # noqa: F401
    except ImportError:
        return False
    return True


def _engine():
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(BPMN))
    return parser.get_spec("srdi_round"), BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


def _ready(workflow):
    from SpiffWorkflow.util.task import TaskState

    return workflow.get_tasks(state=TaskState.READY, manual=True)


def _complete(workflow, task, **data) -> None:
    task.data.update(data)
    task.run()
    workflow.do_engine_steps()


def _persist(con: sqlite3.Connection, serializer, workflows: list) -> None:
    con.execute("BEGIN")
    con.executemany("INSERT OR REPLACE INTO workflow (id, state) VALUES (?, ?)",
                    ((n, serializer.serialize_json(wf)) for n, wf in enumerate(workflows, start=1)))
    con.execute("COMMIT")


def _waiting_at(workflows: list, level: str) -> list[tuple[int, object, object]]:
    """(n, workflow, its ready task) of every workflow waiting for ``level``'s review."""
    waiting = []
    for n, wf in enumerate(workflows, start=1):
        ready = _ready(wf)
        if ready and ready[0].task_spec.bpmn_id == level:
            waiting.append((n, wf, ready[0]))
    return waiting


def _review(plan: Round, workflows: list, level: str) -> None:
    decisions, scores = plan.decisions[level], plan.scores[level]
    waiting = _waiting_at(workflows, level)
    cut = set()
    if level == QUOTA_LEVEL:                        # 择优 between the levels, by srdi's ranking
        by_desk: dict[str, list] = {}
        for n, _, _ in waiting:
            if decisions[n - 1] in ("recommend", "undecided"):
                escalated = decisions[n - 1] == "undecided"
                score = None if escalated else scores[n - 1]
                by_desk.setdefault(plan.desks[plan.homes[n - 1]][level], []).append(
                    (quota_rank_key(escalated, score, n), plan.categories[n - 1], n))
        for candidates in by_desk.values():
            cut |= apply_quota(candidates)
    later = []
    for n, wf, task in waiting:                     # the desks' decisions
        decision = decisions[n - 1]
        if decision == "undecided":
            later.append((n, wf, task))
            continue
        score = scores[n - 1] if level in SCORED and decision == "recommend" else None
        _complete(wf, task, decision="quota_cut" if n in cut else decision, score=score, desk=plan.desks[plan.homes[n - 1]][level])
        if decision == "return":                    # 退回修改 → 重新提交 → the county recommends
            (resubmit,) = _ready(wf)
            _complete(wf, resubmit, resubmitted=True)
            (again,) = _ready(wf)
            _complete(wf, again, decision="recommend")
    for n, wf, task in later:                       # the deadline: the undecided go up (逾期报送上级)
        _complete(wf, task, decision="quota_cut" if n in cut else "escalate", score=None)


def final_status(workflow) -> str:
    from SpiffWorkflow.util.task import TaskState

    ended = [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id in ENDS]
    return ended[0] if ended else _ready(workflow)[0].task_spec.bpmn_id


def run_spiff(plan: Round, path: Path) -> dict:
    """Play ``plan`` with one Spiff workflow per application, persisted at ``path``: {"wall", "final", "json_bytes"}."""
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

    spec, serializer = _engine()
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    con.executescript("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                      "CREATE TABLE workflow (id INTEGER PRIMARY KEY, state TEXT NOT NULL);")
    start = time.perf_counter()
    workflows = []
    for n in range(1, plan.size + 1):
        wf = BpmnWorkflow(spec)
        wf.data.update(n=n, home=plan.homes[n - 1], category=plan.categories[n - 1])
        wf.do_engine_steps()
        workflows.append(wf)
    _persist(con, serializer, workflows)
    for level in LEVELS:
        _review(plan, workflows, level)
        _persist(con, serializer, workflows)
    for _, wf, task in _waiting_at(workflows, "notice"):    # 公示期满无异议 → 认定
        _complete(wf, task, objection=False)
    _persist(con, serializer, workflows)
    wall = time.perf_counter() - start
    final: dict[str, int] = {}
    for wf in workflows:
        status = final_status(wf)
        final[status] = final.get(status, 0) + 1
    json_bytes = con.execute("SELECT sum(length(state)) FROM workflow").fetchone()[0]
    con.close()
    return {"wall": wall, "final": final, "json_bytes": json_bytes}
