"""The program as one member sees it (GET .../me/program and its server twin): a read, never a write."""

from __future__ import annotations

from datetime import datetime

from .. import clock
from ..rules import member_program
from ..rules.posting import Change
from ..schemas import MemberProgram
from ..store import Store
from . import programs
from .pipeline import missing


def view(store: Store, program_id: str, member_id: str, now: datetime) -> MemberProgram:
    """The program from the cache; the profile with the stock shards of the stocked rewards and the
    rewards' grant budgets in one BatchGetItem (a GetItem when no reward keeps either). Each reward
    is judged by the redemption's own check on a Change started at `now` (expired points gone,
    pending points due credited, open checkouts' holds counted), which is then dropped."""
    program = programs.load(store, program_id)
    budgets = member_program.reward_budgets(program, clock.local_date(now, program.zone))
    profile, stock, taken = store.get_member_and_stock(
        program_id, member_id, member_program.stock_shards(program), list(budgets)
    )
    if profile is None:
        raise missing(member_id)
    change = Change.start(program, profile, now, member_program.spent(budgets, taken))
    return MemberProgram.model_validate(member_program.view(program, change, stock))
