"""Data access: the only package that knows the table's keys and item shapes. It stores what it is
given and runs no rule: a member write arrives finished (usecases/pipeline.commit).

  keys.py      the layout table and every key          codec.py   item <-> attributes, stream records, cursors
  table.py     the client, shared calls, refusals      reads.py   a member's items
  writes.py    the member write, one builder per item kind, and `commit`
  programs.py  program documents                       due.py     the due index (gsi1)
  stats.py     health counters                     erasure.py an erasure (the one write leaving a partition)
  imports.py   import batches (their members are ordinary member writes)
  runs.py      the planners' last runs (the console's scheduled work page)
  guests.py    guest orders and guest customers (no member partition)
  audience.py  the audience index (gsi1): a page of an audience's members, their profiles
  grants.py    grants to an audience: the grant, its pages (its members' shares are member writes)
  referral.py  referral codes (code -> member)
"""

from __future__ import annotations

from .audience import Audiences
from .codec import decode_change, decode_cursor, encode_cursor
from .due import Due, DueIndex
from .erasure import Erasure, Erasures
from .grants import Grants
from .guests import Guests
from .imports import Imports
from .keys import DUE_SHARDS, coupon_use_id, due_keys, due_shard
from .programs import MAX_PROGRAM_BYTES, Programs, document_text
from .referral import Referrals
from .runs import Runs
from .stats import Stats
from .table import THROTTLED, RefExists, Stale, TooLarge
from .writes import CouponRestore, CouponRevoke, CouponUse, MemberWrite, Ref, RefUpdate, StockReturn, StockTake, Writes


class Store(Writes, Erasures, Imports, Programs, DueIndex, Stats, Runs, Guests, Audiences, Grants, Referrals):
    """The table: a member's reads and its one write (Writes builds on Reads), erasures, programs,
    import batches, the due index, health counters, the planners' last runs, guest orders, the audience
    index and grants."""


__all__ = [
    "DUE_SHARDS",
    "MAX_PROGRAM_BYTES",
    "THROTTLED",
    "CouponRestore",
    "CouponRevoke",
    "CouponUse",
    "Due",
    "Erasure",
    "MemberWrite",
    "Ref",
    "RefExists",
    "RefUpdate",
    "Stale",
    "StockReturn",
    "StockTake",
    "Store",
    "TooLarge",
    "coupon_use_id",
    "decode_change",
    "decode_cursor",
    "document_text",
    "due_keys",
    "due_shard",
    "encode_cursor",
]
