"""Grants to an audience: PUT starts one (its item, then the first page's message), the worker runs it
page by page through the work queue, GET reports it, cancel stops the pages not yet run.

A page is the members of one Query of the audience index (PAGE ids; PAGE + 1 index items read, so at
most 1.01 a member). Its first run claims it with the ids it read (a page item): every later run of
the page (a redelivery, a second worker, a retry after a crash) grants those same members, so a
member is granted by the audience it was in when its page was read. Each member's share is one member
write through `pipeline.once`, its reference `grant/{grant_id}#{member_id}`: granted exactly once,
and a replay answers the share it recorded. The page's outcome is recorded once, in one transaction
with the grant's totals (store/grants.record_page), so the counts stay exact under redelivery.
The adapters send the messages these functions return (use cases touch no queue).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context as copy
from datetime import datetime
from typing import Any, Literal

from .. import Model, caller, clock
from ..errors import Conflict, IdempotencyConflict, LoyaltyError, NotFound, ValidationFailed
from ..member import Profile
from ..program import Program
from ..rules import grants
from ..rules.posting import Change
from ..schemas import GrantAccepted, GrantBody, GrantReport
from ..store import MemberWrite, Store
from ..store.keys import grant_ref_id
from . import programs
from .pipeline import Attempt, Built, RefKey, existing, once, request_hash

PAGE = 100  # members a page (one BatchGetItem of their profiles)
PARALLEL = 8  # member writes at once within a page: transactions on distinct partitions
TOTALS = ("members_read", "members_matched", "members_granted", "skipped_blocked", "skipped_erased")
GIVEN = ("points", "coupons", "wallet")


class GrantWork(Model):
    """A work-queue message: one page of a grant's fan-out (the worker runs it with `page`)."""

    kind: Literal["grant"] = "grant"
    program_id: str
    grant_id: str
    page: int = 0


class GrantShare(Model):
    """One member's share as its reference keeps it: what it gave (a replay counts it from here)."""

    points: int
    coupons: int
    wallet: int


class Skip(LoyaltyError):
    """The member is not given its share: `why` is blocked or not_matched (its `when` is false)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def start(
    store: Store, program_id: str, grant_id: str, body: GrantBody, now: datetime
) -> tuple[bool, GrantAccepted, list[GrantWork]]:
    """(created, the answer, the messages to send). The same body again answers the same grant (and
    sends its first page again while none has run: the first message may have been lost); another
    body under the same id is 409 `conflict`. Round trips: the program (cached) + 1 PutItem."""
    program = programs.load(store, program_id)
    if found := grants.problems(program, body):
        raise ValidationFailed("; ".join(f"{p['field']}: {p['message']}" for p in found), found)
    digest = request_hash(program_id, grant_id, body)
    item: dict[str, Any] = {
        "request_hash": digest,
        "body": body.model_dump_json(),
        "status": "queued",
        "created_at": clock.iso(now),
        **dict.fromkeys(TOTALS + GIVEN + ("pages",), 0),
    }
    if (actor := caller.current()) is not None:
        item["actor"] = actor  # who the members' audit items name (the worker serves as it)
    first = [GrantWork(program_id=program_id, grant_id=grant_id)]
    old = store.create_grant(program_id, grant_id, item)
    if old is None:
        return True, GrantAccepted(grant_id=grant_id, status="queued"), first
    if old.get("request_hash") != digest:
        raise IdempotencyConflict("grant", grant_id)
    again = first if old["status"] == "queued" else []
    return False, GrantAccepted(grant_id=grant_id, status=old["status"]), again


def _found(store: Store, program_id: str, grant_id: str) -> dict[str, Any]:
    grant = store.grant(program_id, grant_id)
    if grant is None:
        raise NotFound(f"no grant {grant_id!r} in this program", [{"field": "grant_id", "message": "unknown grant"}])
    return grant


def report(store: Store, program_id: str, grant_id: str) -> GrantReport:
    """The grant as its item says: 1 GetItem."""
    grant = _found(store, program_id, grant_id)
    body = GrantBody.model_validate_json(grant["body"])
    attr, value = body.audience.filter
    audience = {attr: value} | ({"when": body.audience.when} if body.audience.when else {})
    n = {k: int(grant.get(k, 0)) for k in (*TOTALS, *GIVEN, "pages")}
    return GrantReport.model_validate(
        {
            **{k: grant.get(k) for k in ("status", "created_at", "started_at", "finished_at", "cancelled_at")},
            "program_id": program_id,
            "grant_id": grant_id,
            "audience": audience,
            "reason": body.reason,
            **{k: n[k] for k in ("members_read", "members_matched", "members_granted", "points", "coupons", "pages")},
            "members_skipped": n["skipped_blocked"] + n["skipped_erased"],
            "skipped": {"blocked": n["skipped_blocked"], "erased": n["skipped_erased"]},
            "wallet": {body.wallet.id: n["wallet"]} if body.wallet is not None else {},
        }
    )


def cancel(store: Store, program_id: str, grant_id: str, now: datetime) -> GrantReport:
    """Pages not yet run give nothing (a page running now finishes its members): status `cancelled`
    with the counts so far. Again on a cancelled grant: the same answer; on a done one: 409 `conflict`."""
    _found(store, program_id, grant_id)
    after = store.move_grant(program_id, grant_id, "cancelled", "cancelled_at", clock.iso(now))
    if after is not None and after.get("status") == "done":
        message = "the grant is done: every member has had its share"
        raise Conflict(f"grant {grant_id!r}: {message}", [{"field": "grant_id", "message": message}])
    return report(store, program_id, grant_id)


# ---- the fan-out (the worker) ----------------------------------------------------------------------


def page(store: Store, work: GrantWork, now: datetime) -> tuple[dict[str, int], list[GrantWork]]:
    """Run one page (or find it run), then move on: (what this run counted, the messages to send)."""
    pid, gid, n = work.program_id, work.grant_id, work.page
    grant = store.grant(pid, gid)
    if grant is None or grant["status"] not in ("queued", "running"):
        return {}, []  # cancelled or done: the pages not yet run give nothing
    body = GrantBody.model_validate_json(grant["body"])
    claimed = store.grant_page(pid, gid, n)
    counted: dict[str, int] = {}
    if claimed is None or "done" not in claimed:
        if grant["status"] == "queued":
            moved = store.move_grant(pid, gid, "running", "started_at", clock.iso(now))
            if moved is None or moved["status"] != "running":
                return {}, []  # cancelled meanwhile
        claimed = claimed or _claim(store, pid, gid, n, body)
        token = caller.serving(grant.get("actor") or f"grant:{gid}")  # the audit names who started it
        try:
            counted = _run(store, pid, gid, body, json.loads(claimed["ids"]), now)
        finally:
            caller.done(token)
        if not store.record_page(pid, gid, n, counted):
            counted = {}  # another run recorded the page first: its counts stand
    elif int(grant.get("pages", 0)) > n + 1:
        return {}, []  # a later page is done already: the chain went on
    if claimed.get("next_cursor"):
        return counted, [GrantWork(program_id=pid, grant_id=gid, page=n + 1)]
    store.move_grant(pid, gid, "done", "finished_at", clock.iso(now))
    return counted, []


def _claim(store: Store, pid: str, gid: str, n: int, body: GrantBody) -> dict[str, Any]:
    """The page's members as the index has them now (page n continues after page n-1's last id)."""
    cursor = None
    if n > 0:
        before = store.grant_page(pid, gid, n - 1)
        cursor = before.get("next_cursor") if before is not None else None
    attr, value = body.audience.filter
    ids, after = store.audience_page(pid, attr, value, PAGE, cursor)
    return store.claim_grant_page(pid, gid, n, json.dumps(ids), after)


def _run(store: Store, pid: str, gid: str, body: GrantBody, ids: list[str], now: datetime) -> dict[str, int]:
    """Every member of the page its share (PARALLEL at once), and the page's totals."""
    program = programs.load(store, pid)
    when = grants.condition(body.audience.when)
    profiles = {p.member_id: p for p in store.get_members(pid, ids)} if ids else {}
    # IMPORT_PARALLEL: moto's DynamoDB (the handler tests) is not safe for concurrent transactions.
    with ThreadPoolExecutor(max_workers=int(os.environ.get("IMPORT_PARALLEL", PARALLEL))) as pool:
        jobs = [
            pool.submit(copy().run, _share, store, program, (pid, gid), body, mid, profiles.get(mid), when, now)
            for mid in ids
        ]
        fates = [job.result() for job in jobs]
    totals = dict.fromkeys(TOTALS + GIVEN, 0)
    totals["members_read"] = len(ids)
    for fate, share in fates:
        if fate == "not_matched":
            continue
        totals["members_matched"] += 1
        totals[{"granted": "members_granted", "blocked": "skipped_blocked", "erased": "skipped_erased"}[fate]] += 1
        for k in GIVEN:
            totals[k] += getattr(share, k) if share is not None else 0
    return totals


def _share(
    store: Store,
    program: Program,
    at: tuple[str, str],
    body: GrantBody,
    mid: str,
    read: Profile | None,
    when: Any,
    now: datetime,
) -> tuple[str, GrantShare | None]:
    """One member (`at`: program and grant ids): granted (now, or by an earlier run: its reference's
    share), blocked, not matched or erased. The page's read of the profile serves the first attempt;
    a retry reads afresh."""
    pid, gid = at
    prefetched = [read] if read is not None else []

    def fetch() -> Profile:
        return prefetched.pop() if prefetched else existing(store, pid, mid)

    def build(profile: Profile, attempt: Attempt) -> Built[GrantShare]:
        if not grants.matches(program, profile, when, now):
            raise Skip("not_matched")
        if profile.blocked is not None:
            raise Skip("blocked")
        change = Change.start(program, profile, now, attempt.exhausted)
        share = GrantShare.model_validate(grants.give(change, body, gid))
        return Built(MemberWrite(change=change, expected_version=profile.version), share)

    try:
        ref = RefKey("grant", grant_ref_id(gid, mid), mid)
        return "granted", once(store, pid, ref, body, GrantShare, build, read=fetch).result
    except Skip as skipped:
        return skipped.why, None
    except NotFound:
        return "erased", None
