"""The table's layout and its keys (a sort key written in one place only, a ledger entry's or a
notice's, is spelled there with the prefix this table gives).

Layout (one table, generic key names, type prefixes; `#` never occurs in an id):
  PROGRAMS                 PROGRAM#{pid}           registry: every program (operators list them)
  PROGRAM#{pid}            CONFIG                  current program document and version, the program's member_key,
                                                   the shadow run if any (its draft's document: read with the program)
  PROGRAM#{pid}            CONFIG#v{000001}        immutable history, one item per version (who saved, who published)
  PROGRAM#{pid}            DRAFT#{draft_id}        a draft: a valid document, not live; its base version, its
                                                   revision and the version its last publish made
  MEMBER#{pid}#{mid}       PROFILE                 the member aggregate (buckets, tier, counters)
  MEMBER#{pid}#{mid}       LEDGER#{seq:012d}       one immutable item per change of points
  MEMBER#{pid}#{mid}       COUPON#{coupon_id}      one item per coupon
  MEMBER#{pid}#{mid}       CHECKOUT#{checkout_id}  a checkout as last priced (its holds are on the profile)
  MEMBER#{pid}#{mid}       NOTICE#t{at}#{id}       notices (domain events), by time (notice_sk); those written before
                                                   are NOTICE#{id}, listed after every timed one
  MEMBER#{pid}#{mid}       TIER#{at}#{version}#{n} tier history (version: the write's, so no two collide)
  MEMBER#{pid}#{mid}       DUE#{kind}              when a scheduled kind is next due (in gsi1, below)
  MEMBER#{pid}#{mid}       AUDIT#{at}#{version}    one per request's write: what, the client id, who (newest last)
  MEMBER#{pid}#{mid}       IN#{attr}#{value}       in an audience (attr: tier, tag, segment, stage; in gsi1)
  REF#{pid}#{kind}#{id}    REF                     idempotency reference (order, refund, activity...); a
                                                   coupon's use: id {mid}:{coupon_id} (coupon_use_id)
  REF#{pid}#{kind}#ME#{mid}#{id}  REF              a member's own write (a member route): its id is the member's
  REF#{pid}#till_coupons#ME#{mid}#{order_id}  REF  the coupons used at a till on an order (TILL_COUPONS): a full
                                                   refund of the order reads them with its reference
  STOCK#{pid}#{reward}#{n} STOCK                   a reward's stock, in shards
  BUDGET#{pid}#{site}:{m}  BUDGET                  what a budgeted grant site has given in month m
  STATS#{pid}              D#{day}, M#{month}, T   health counters: per day, per month, running totals
  STATS#{pid}              C#{campaign_id}         a campaign's figures (applications, members, points, coupons)
  STATS#{pid}              CD#{day}#{campaign_id}  a campaign's figures of one program-local day (the campaigns
                                                   report: one Query reads every campaign's days of a range)
  STATS#{pid}              X#{campaign_id}#{arm}   an experiment arm's sums: members exposed, orders, spend and its
                                                   squares per member, repurchasers, cost (rules/experiments)
  STATS#{pid}              RD#{day}, RR#{day}#{mid} the referral figures of a day; the referees a referrer converted
                                                   that day (GET .../referrals sums a range of each: 2 Queries)
  STATS#{pid}              SH#{draft_id}#{cid}     a shadow run's figures, draft and live side by side (rules/shadow;
                                                   cid "*": the total, with the events counted)
  SEEN#{event id}          SEEN                    a stream record already counted (expires by TTL)
  GUEST#{pid}#{customer_ref} GUEST                 a guest customer: when its first guest order was recorded, its
                                                   orders and GMV, and `converted_at` once an enrolment named it
                                                   (store/guests.py; a guest order's reference is an order's: `guest`)
  RUNS                     RUN#{kinds}             a planner's last scheduled run (time, items planned, members settled)
  IMPORT#{pid}#{import_id} BATCH#{n:06d}           one import batch: its content hash, then its result
  GRANT#{pid}#{grant_id}   GRANT                   a grant to an audience: its body, status and running totals
  GRANT#{pid}#{grant_id}   PAGE#{n:06d}            a page of its fan-out: its members, then what it gave (once)
  REF#{pid}#grant#{grant_id}#{mid}  REF            one member's share of a grant (pipeline.once): granted exactly once
  ERASED#{pid}#{mid}       ERASED                  the member's last erasure: its pseudonym, and `pending` while
                                                   its items are still being moved (no enrolment until done)
  FORMER#{pid}#{hmac}      FORMER                  a member id erased once, as a keyed hash (former_key): its
                                                   next enrolment is a returning member's (no welcome again)
  REFCODE#{pid}#{code}     REFCODE                 a referral code -> its member (written conditionally at the
                                                   member's first GET .../referral: a code no one read is unknown)
  BUDGET#{pid}#fingerprint:{hash}:all  BUDGET      referees rewarded with that fingerprint hash, ever (the budgets'
                                                   conditional take: never past referral.max_per_fingerprint)

An erased member's items live on under MEMBER#{pid}#{pseudonym}, each marked `erased_at`, with no
personal data: the stream consumers skip the marked copies (store/erasure.py).

The sparse, key-only index gsi1 holds only DUE and IN items. DUE: gsi1pk DUE#{kind}#{shard}, gsi1sk
{instant}#{pid}#{mid}, where the instant (UTC, to the minute) is when the program-local due day
begins. "Who is due for a kind at T, however late" is then one range Query per shard for the whole
table: a run reads only the members due, whatever the number of programs or of days overdue.
IN (the audience index): gsi1pk AUD#{pid}#{attr}#{value}, gsi1sk {mid}: "the members of a program
with tier gold", in member id order, is one Query a page. The items move inside the member's own write
(the profile's `audiences` says which it holds), so a list is never behind a write that has answered.

Everything about one member shares a partition, so a member read is one Query or GetItem and a member
write is one TransactWriteItems. References live in their own partitions so an order id is unique in
the whole program, not just per member, at no extra round trip (they join the same transaction).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

REGISTRY_PK = "PROGRAMS"  # its items' sort keys: the programs' partition keys
CONFIG_SK = "CONFIG"
PROFILE_SK = "PROFILE"

# What a member partition's items are, by sort key (a ledger item's `type` is the entry's type).
KINDS_BY_SK = {
    "PROFILE": "member",
    "LEDGER#": "ledger",
    "COUPON#": "coupon",
    "CHECKOUT#": "checkout",
    "NOTICE#": "notice",
    "TIER#": "tier_change",
    "DUE#": "due",
}


def key(pk: str, sk: str) -> dict[str, Any]:
    """A key in DynamoDB's attribute form: keys are strings, no serializer needed."""
    return {"pk": {"S": pk}, "sk": {"S": sk}}


# ---- programs ---------------------------------------------------------------------------------------


def program_pk(pid: str) -> str:
    return f"PROGRAM#{pid}"


def config_version_sk(version: int) -> str:
    return f"CONFIG#v{version:06d}"


def draft_sk(draft_id: str) -> str:
    return f"DRAFT#{draft_id}"


# ---- a member's partition ---------------------------------------------------------------------------


def member_pk(pid: str, mid: str) -> str:
    return f"MEMBER#{pid}#{mid}"


def coupon_sk(coupon_id: str) -> str:
    return f"COUPON#{coupon_id}"


def checkout_sk(checkout_id: str) -> str:
    return f"CHECKOUT#{checkout_id}"


def notice_sk(at: datetime, notice_id: str) -> str:
    """UTC, fixed width, after a `t`: one newest-first Query lists notices by time. Notices written
    before this key (NOTICE#{id}: every id starts with a letter before `t`) sort after all of these."""
    return f"NOTICE#t{at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{notice_id}"


def tier_sk(at: datetime, version: int, n: int) -> str:
    """The member's new version in the key: two writes may carry the same instant (a purchase and its
    refund in one second, a review at a client's `at` and a scheduled run at that hour)."""
    return f"TIER#{at.isoformat()}#{version:09d}#{n}"


def audit_sk(at: datetime, version: int) -> str:
    """UTC, fixed width, then the version the write committed: the key order is the order of writes."""
    return f"AUDIT#{at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{version:09d}"


def due_sk(kind: str) -> str:
    return f"DUE#{kind}"


# ---- references, stock, budgets ---------------------------------------------------------------------


def ref_key(pid: str, kind: str, ref_id: str, member: str | None = None) -> dict[str, str]:
    """The program's (the server routes') id space, or with `member` that member's own: a member's
    `x` is then neither the server's `x` nor another member's (`#` never occurs in an id)."""
    if member is not None:
        return {"pk": f"REF#{pid}#{kind}#ME#{member}#{ref_id}", "sk": "REF"}
    return {"pk": f"REF#{pid}#{kind}#{ref_id}", "sk": "REF"}


TILL_COUPONS = "till_coupons"  # ref kind: the coupons used at a till on an order (ref_key(pid, it, order, mid))


def coupon_use_id(mid: str, coupon_id: str) -> str:
    """A coupon use's reference id: the member's, since a coupon id is only unique within a member
    (README: coupon ids). `:`-separated, as erasure expects of an id naming the member (erasure._scrub);
    unambiguous because a coupon id has no `:` (usecases/spending refuses one). Uses made before
    this form are under the coupon id alone, and are still read (usecases/spending.use_coupon)."""
    return f"{mid}:{coupon_id}"


def stock_key(pid: str, reward_id: str, shard: int) -> dict[str, str]:
    """Stock is split over shards so that a popular reward is not one hot item (README)."""
    return {"pk": f"STOCK#{pid}#{reward_id}#{shard}", "sk": "STOCK"}


def budget_key(pid: str, site_month: str) -> dict[str, str]:
    return {"pk": f"BUDGET#{pid}#{site_month}", "sk": "BUDGET"}


# ---- the due index (gsi1) ---------------------------------------------------------------------------

DUE_SHARDS = 16  # the index partitions of one kind, for the whole table: a run's fixed cost


def due_shard(mid: str) -> int:
    return int(hashlib.sha256(mid.encode()).hexdigest()[:8], 16) % DUE_SHARDS


def due_pk(kind: str, shard: int) -> str:
    return f"DUE#{kind}#{shard}"


def instant(at: datetime) -> str:
    """Fixed width, so the index's string order is time order."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def due_keys(kind: str, due_at: datetime, pid: str, mid: str) -> dict[str, str]:
    """A DUE item's index keys. `due_at` marks the layout: items written before it had per-day keys."""
    return {
        "gsi1pk": due_pk(kind, due_shard(mid)),
        "gsi1sk": f"{instant(due_at)}#{pid}#{mid}",
        "due_at": instant(due_at),
    }


# ---- the audience index (gsi1) ----------------------------------------------------------------------


def audience_sk(entry: str) -> str:
    """An entry `attr#value` (rules/audience.entry) as the member's item: IN#{attr}#{value}."""
    return f"IN#{entry}"


def audience_pk(pid: str, attr: str, value: str) -> str:
    return f"AUD#{pid}#{attr}#{value}"


def audience_keys(pid: str, mid: str, entry: str) -> dict[str, str]:
    """An IN item's keys: the member's partition, and the audience's index partition sorted by member id."""
    attr, _, value = entry.partition("#")
    return {"pk": member_pk(pid, mid), "sk": audience_sk(entry), "gsi1pk": audience_pk(pid, attr, value), "gsi1sk": mid}


# ---- health counters --------------------------------------------------------------------------------

_PERIOD_SK = {
    "day": "D#",
    "month": "M#",
    "total": "T",
    "campaign": "C#",
    "campaign_day": "CD#",  # value "{day}#{campaign_id}": sorted by day, so a range of days is one BETWEEN
    "experiment": "X#",  # value "{campaign_id}#{arm}": an experiment's arms are one Query
    "referral_day": "RD#",  # the referral figures of a program-local day (rules/referral_report.py)
    "referrer_day": "RR#",  # value "{day}#{referrer}": the referees one referrer converted that day
    "shadow": "SH#",  # value "{draft_id}#" (the total) or "{draft_id}#{campaign_id}": a run is one Query
}  # running totals: one item, ("total", "") -> T


def stats_pk(pid: str) -> str:
    return f"STATS#{pid}"


def stats_sk(period: tuple[str, str]) -> str:
    """A health counter's sort key: ("day", "2026-11-23") -> D#2026-11-23. An unknown kind raises."""
    kind, value = period
    return f"{_PERIOD_SK[kind]}{value}"


def import_pk(pid: str, import_id: str) -> str:
    return f"IMPORT#{pid}#{import_id}"


def batch_key(pid: str, import_id: str, n: int) -> dict[str, str]:
    return {"pk": import_pk(pid, import_id), "sk": f"BATCH#{n:06d}"}


def grant_pk(pid: str, grant_id: str) -> str:
    return f"GRANT#{pid}#{grant_id}"


def grant_key(pid: str, grant_id: str) -> dict[str, str]:
    return {"pk": grant_pk(pid, grant_id), "sk": "GRANT"}


def grant_page_key(pid: str, grant_id: str, n: int) -> dict[str, str]:
    return {"pk": grant_pk(pid, grant_id), "sk": f"PAGE#{n:06d}"}


def grant_ref_id(grant_id: str, mid: str) -> str:
    """A member's share of a grant, as a reference id (`#` never occurs in an id: no two pairs collide)."""
    return f"{grant_id}#{mid}"


def erased_key(pid: str, mid: str) -> dict[str, str]:
    return {"pk": f"ERASED#{pid}#{mid}", "sk": "ERASED"}


def former_key(pid: str, mid: str, member_key: str) -> dict[str, str]:
    """HMAC-SHA256 of the member id under the program's secret `member_key` (CONFIG item): the table
    says an id was a member's once without holding the id, and no one without the key can test a
    guessed id against it."""
    digest = hmac.new(bytes.fromhex(member_key), mid.encode(), hashlib.sha256).hexdigest()
    return {"pk": f"FORMER#{pid}#{digest}", "sk": "FORMER"}


def guest_key(pid: str, customer_ref: str) -> dict[str, str]:
    """A guest customer's item: its own partition, so an enrolment reads it with one GetItem."""
    return {"pk": f"GUEST#{pid}#{customer_ref}", "sk": "GUEST"}


def refcode_key(pid: str, code: str) -> dict[str, str]:
    return {"pk": f"REFCODE#{pid}#{code}", "sk": "REFCODE"}


RUNS_PK = "RUNS"


def run_sk(kinds: list[str]) -> str:
    return "RUN#" + ",".join(kinds)


def seen_key(event_id: str) -> dict[str, str]:
    return {"pk": f"SEEN#{event_id}", "sk": "SEEN"}
