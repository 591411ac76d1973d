"""The member lifecycle: new -> active on a purchase; idle members get the churn warning (at_risk) and
later the recall offer (recalled, or dormant when the program has no recall offer). A purchase moves
the member back to active, and the idle clock restarts from that purchase."""

from __future__ import annotations

from datetime import date, timedelta

from .. import clock
from ..errors import Forbidden
from ..member import Profile
from ..program import Grant, Program
from . import grant_notices
from .posting import Change

WARNABLE = ("new", "active")
RECALLABLE = ("new", "active", "at_risk")


def check_self_enrolment(program: Program) -> None:
    """POST .../me: only where the program takes members who enrol themselves."""
    if not program.enrolment.self_service:
        message = "this program does not take self-enrolment (enrolment.self_service is false)"
        raise Forbidden(message, [{"field": "program_id", "message": message}])


def new_to_program(profile: Profile) -> bool:
    """Whether an enrolment welcomes the member (the welcome pack and the enrolment campaigns): not one
    migrated with its original enrolment (which starts `active`), nor a returning member (an erased id)."""
    return profile.lifecycle_stage == "new" and not profile.returning


def idle_since(program: Program, profile: Profile) -> date:
    return clock.local_date(profile.last_purchase_at or profile.enrolled_at, program.zone)


def churn_day(program: Program, profile: Profile) -> date | None:
    """The day this member is next due for a churn step, or None."""
    warning, recall = program.lifecycle.churn_warning, program.lifecycle.recall
    since = idle_since(program, profile)
    if warning and profile.lifecycle_stage in WARNABLE:
        return since + timedelta(days=warning.after_days)
    if recall and profile.lifecycle_stage in RECALLABLE:
        return since + timedelta(days=recall.after_days)
    return None


def churn_step(change: Change) -> None:
    """Apply the step the member is due for today, if any. Coupon ids derive from the idle period, so
    the same period never issues twice."""
    program, p = change.program, change.profile
    warning, recall = program.lifecycle.churn_warning, program.lifecycle.recall
    since = idle_since(program, p)
    idle = (change.today - since).days
    mark = grant_notices.mark(change)
    if recall and idle >= recall.after_days and p.lifecycle_stage in RECALLABLE:
        p.lifecycle_stage = "recalled" if recall.coupons else "dormant"
        offer = Grant(coupons=recall.coupons, budget=recall.budget)
        change.grant(offer, "bonus", change.at, f"recall:{since}", budget="recall")
        grant_notices.notice(change, mark, "recall_offer", f"recall:{since}")
    elif warning and idle >= warning.after_days and p.lifecycle_stage in WARNABLE:
        p.lifecycle_stage = "at_risk"
        offer = Grant(coupons=warning.coupons, budget=warning.budget)
        change.grant(offer, "bonus", change.at, f"churn_warning:{since}", budget="churn_warning")
        if warning.multiplier_days:
            p.win_back_until = change.at + timedelta(days=warning.multiplier_days)
        # The win-back multiplier is an offer too (its budget caps only the coupons): the notice says it.
        boosted = p.win_back_until if warning.multiplier_days and warning.earn_multiplier != 1 else None
        grant_notices.notice(change, mark, "churn_offer", f"churn_warning:{since}", active_until=boosted)
