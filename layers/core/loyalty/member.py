"""The member aggregate as the domain sees it (storage shape lives in store/)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from . import Model

Stage = Literal["new", "active", "at_risk", "dormant", "recalled"]
EntryType = Literal["welcome", "earn", "activity", "bonus", "redeem", "reverse", "expire", "adjust", "restore"]


class CardPayment(Model):
    """One payment on a card: the span of the card's months it bought and the benefits it brought,
    kept until its refund window closes (a refund takes back exactly these)."""

    payment_id: str
    amount_minor: int
    paid_at: datetime
    offset: int  # the card's months before this payment: it bought months [offset, offset + months)
    months: int
    points: int = 0
    coupon_ids: list[str] = []
    refunded: bool = False


class Card(Model):
    """A paid card of one plan. Its end is `active_from` plus `months` on the program-local calendar,
    always counted from the start so that Jan 31 + 1 + 1 month ends on Mar 31, not Mar 28."""

    plan_id: str
    active_from: datetime
    active_until: datetime
    months: int
    cycles_issued: int = 0  # cycles whose every_cycle grant was issued
    payments: list[CardPayment] = []
    expiry_noticed: datetime | None = None  # the end the expiring-soon notice was sent for


class CampaignUse(Model):
    """How often a campaign applied to the member: in all, and in each recent limit period."""

    total: int = 0
    # Period key (rules/campaigns.period_key) -> applications in it: every kept period, so a late
    # event counts in its own. rules/campaigns prunes the periods older than it keeps.
    periods: dict[str, int] = {}
    # A points limit (rules/limits.py): period key -> points given in it, kept as `periods` are.
    # (A factory, not `{}`: pydantic deep-copies a mutable default on every CampaignUse it builds.)
    points: dict[str, int] = Field(default_factory=dict)
    # A per-object limit: digest of activity.object_id -> applications (at most limits.MAX_OBJECTS).
    objects: dict[str, int] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _single_period(cls, data: Any) -> Any:
        """Profiles written before `periods` kept only the latest period's `count`."""
        if not isinstance(data, dict) or "period" not in data:
            return data
        folded = {k: v for k, v in data.items() if k not in ("period", "count")}
        if data["period"] and data.get("count") and "periods" not in data:
            folded["periods"] = {data["period"]: data["count"]}
        return folded


class Exposure(Model):
    """The member in an experiment campaign (rules/experiments): its arm and first exposure, and its
    orders and spend since (the stream counter adds their changes to the arm's sums)."""

    arm: str
    at: datetime
    orders: int = 0
    spend_minor: int = 0


class Streak(Model):
    """The latest run of consecutive program-local days with one activity type (rules/earning)."""

    day: str  # the run's last program-local day (YYYY-MM-DD)
    days: int  # its length: the run covers the `days` days up to and including `day`


class Hold(Model):
    """What an open checkout holds of the member's points and coupons, until `expires_at` (a hold
    past it holds nothing, whether or not anything was written since: rules/holds.py)."""

    points: int = 0
    coupon_ids: list[str] = []
    expires_at: datetime


class Pending(Model):
    """Points a purchase gave that wait out the return window (`points.pending_days`): not in the
    balance until `available_on` (a program-local day), then credited as `type` (rules/pending.py)."""

    points: int
    available_on: str
    ref: str
    type: EntryType
    reason: str | None = None
    lasts_days: int | None = None  # a campaign's expires_in_days: counted from when they are credited


class AbuseDay(Model):
    """What the member's orders earned on one program-local day, for the program's `abuse` limits
    (rules/abuse.py): only the latest day is kept."""

    day: str
    orders: int = 0
    points: int = 0


class Flag(Model):
    """An abuse limit the member went past (rules/abuse.py): `kind` is the limit's key, `day` the
    program-local day, `at` the order that crossed it. Once per kind and day."""

    kind: Literal["max_orders_per_day", "max_points_per_day"]
    at: datetime
    day: str


class Referred(Model):
    """Who referred the member (its enrolment's referral_code) and where that referral stands
    (rules/referral.py): waiting for its qualifying event, converted (the referee rewarded, the
    referrer's reward on its way), or refused with the reason."""

    by: str  # the referrer's member id
    status: Literal["waiting", "converted", "refused", "cancelled"] = "waiting"  # cancelled: refunded in the window
    reason: str | None = None  # refused: self, shared_fingerprint, max_per_fingerprint, ...
    at: datetime | None = None  # when it converted or was refused
    ref: str | None = None  # what converted it: "enrolment" or the order ("order:o1")


class Blocked(Model):
    at: datetime
    reason: str


class Profile(Model):
    model_config = ConfigDict(extra="ignore")

    program_id: str
    member_id: str
    version: int = 0  # optimistic lock: every write moves it by one
    enrolled_at: datetime
    birthday: str | None = None
    channel: str | None = None
    birthday_changed_at: datetime | None = None  # when the member changed its own birthday (once only)
    lifecycle_stage: Stage = "new"
    tier_id: str | None = None
    tier_since: datetime | None = None
    buckets: dict[str, int] = {}  # expires_on -> points
    lifetime_earned: int = 0
    ledger_seq: int = 0  # number of ledger entries written; the next entry's sequence
    spend_by_month: dict[str, int] = {}  # YYYY-MM (program time) -> minor
    orders_by_month: dict[str, int] = {}
    growth_by_month: dict[str, int] = {}  # YYYY-MM (program time) -> growth value (rules/growth.py)
    orders_total: int = 0
    last_purchase_at: datetime | None = None
    last_activity_at: datetime | None = None
    activity_day: str | None = None  # the program-local day activity_counts belong to
    activity_counts: dict[str, int] = {}
    win_back_until: datetime | None = None
    paid_cards: dict[str, Card] = {}  # plan id -> the card, while active
    due_days: dict[str, str] = {}  # scheduled kind -> day due (the DUE items)
    # The audience index entries held, "attr#value" (the IN# items, rules/audience.py); None: not indexed yet
    audiences: list[str] | None = None
    benefits_month: str | None = None  # the last program-local month whose benefits were issued
    last_review: str | None = None  # the program-local day of the last tier review
    below_reviews: int = 0  # consecutive reviews under the current tier's threshold
    reminded: str | None = None  # the bucket (expires_on) whose expiry was last announced
    redeemed: dict[str, int] = {}  # reward id -> quantity, for per_member_limit
    segment: str | None = None  # the RFM segment (rules/rfm.py), as of the last write
    lifetime_spend_minor: int = 0  # spend net of refunds since enrolment (counted from campaigns' release)
    campaigns: dict[str, CampaignUse] = {}  # campaign id -> its uses (per-member limits, uses_by_member)
    tags: list[str] = []  # sorted, unique; changed only through rules/tags.apply
    tag_months: dict[str, str] = {}  # tag -> the program-local month its tag_benefits grant was issued
    streaks: dict[str, Streak] = {}  # activity type -> its latest run of consecutive days
    imported: str | None = None  # the import that brought the member in (a repeat of its line is no skip)
    returning: bool = False  # its id was a member's before (erased since): no welcome, no first-order bonus
    holds: dict[str, Hold] = {}  # checkout id -> what that open checkout holds (rules/holds.py)
    points_owed: int = 0  # points refunds could not take back (spent already): settled by points given back
    pending: list[Pending] = []  # purchases' points inside the return window (rules/pending.py)
    wallets: dict[str, dict[str, int]] = {}  # wallet id -> its buckets (expires_on -> amount), as points' buckets
    wallets_owed: dict[str, int] = {}  # wallet id -> what refunds could not take back, as points_owed
    # counter id -> its program-local period (rules/counters.period) -> the count in it, the kept periods only
    counters: dict[str, dict[str, int]] = {}
    customer_ref: str | None = None  # the brand's customer reference, given at enrolment
    guest_since: datetime | None = None  # its first guest order, when that came before the enrolment
    abuse_day: AbuseDay | None = None  # the latest day's orders and points, for `abuse` (rules/abuse.py)
    flags: list[Flag] = []  # the abuse limits passed, oldest first (the latest abuse.KEPT_FLAGS)
    fingerprint: str | None = None  # its enrolment's fingerprint: a client's hash, never the raw value
    referred: Referred | None = None  # enrolled with a referral code
    referrals: int = 0  # referees whose conversion rewarded this member (the referrer's reward writes)
    referral_periods: dict[str, int] = {}  # per_referrer: the current period's key -> rewards in it
    blocked: Blocked | None = None
    experiments: dict[str, Exposure] = {}  # experiment campaign id -> the member's arm and exposure
    shadow_reach: dict[str, list[str]] = {}  # a shadow run's draft id -> whom each side reached (rules/shadow)

    @property
    def balance(self) -> int:
        return sum(self.buckets.values())


class LedgerEntry(Model):
    entry_id: str
    type: EntryType
    points: int  # signed: credits positive, debits negative
    balance_after: int
    at: datetime
    ref: str | None = None  # what it answers: order:o1, refund:r1, activity:a1, adjustment:a1, expiry:day...
    reason: str | None = None  # why, where known: an adjustment's reason, campaign:<ids>, a sweep's kind
    actor: str | None = None  # an adjustment: who made it (the request's principal, as its audit item)
    agent: str | None = None  # an adjustment: the agent its request named (a claim, not an identity)
    wallet: str | None = None  # a wallet's entry: `points` and `balance_after` are that wallet's (None: points)


class AuditEntry(Model):
    """One write to the member by a request: what (the reference kind: order, refund, adjustment,
    enrolment...), the client's id, who (the request's principal) and when."""

    at: datetime
    what: str
    client_id: str | None = None
    actor: str
    version: int  # the profile version the write committed (orders entries written in one instant)


class Coupon(Model):
    coupon_id: str
    template_id: str
    name: str
    status: Literal["available", "used", "expired"] = "available"
    kind: str
    value_minor: int = 0
    percent_off: int | None = None
    max_off_minor: int | None = None
    min_spend_minor: int = 0
    valid_from: datetime
    valid_until: datetime
    source: str
    used_at: datetime | None = None
    used_order_id: str | None = None
    discount_minor: int | None = None  # what the coupon took off the order it was used on
    scene: str | None = None  # a scene card's coupon is good only on orders of that scene
    revoked_at: datetime | None = None  # taken back by a card refund (it then shows as expired)


class Checkout(Model):
    """A checkout as last priced (its own item in the member's partition): the cart sent, the pricing
    answered, and how it ended. `coupons`: the cart's coupons as read when priced, so a confirm reads
    the profile, this item and the budgets in one round trip (its transaction guards each coupon)."""

    checkout_id: str
    member_id: str
    status: Literal["open", "confirmed", "cancelled"] = "open"
    expires_at: datetime
    updated_at: datetime
    cart: dict[str, Any]  # the request's body, as sent (a confirm prices it again)
    priced: dict[str, Any]  # the answer's pricing (rules/checkout.Priced.view, points_to_earn)
    coupons: list[Coupon] = []
    order_id: str | None = None  # confirmed: the order it settled as
    closed_at: datetime | None = None  # when it was confirmed or cancelled
    first_campaigns: list[str] = []  # confirmed: its campaigns applied to the member for the first time


class Notice(Model):
    """Something to tell the member through a touch channel (kept as an item; the stream announces it)."""

    notice_id: str
    kind: Literal[
        "points_expiring",
        "card_purchased",
        "card_cycle_issued",
        "card_expiring",
        "card_expired",
        "card_refunded",
        "campaign_applied",
        "tier_changed",
        "birthday_gift",  # rules/grant_notices: the grants made outside campaigns
        "churn_offer",
        "recall_offer",
        "referral_reward",
    ]
    at: datetime
    points: int = 0
    expires_on: str | None = None
    plan_id: str | None = None
    active_until: datetime | None = None  # a card's end; churn_offer: the earn multiplier's end
    coupon_ids: list[str] = []
    wallets: dict[str, int] = {}  # campaign_applied, referral_reward: wallet id -> amount given (stamps...)
    coupon_templates: list[str] = []  # campaign_applied: the templates of coupon_ids, in order (an arm's cost)
    campaign_id: str | None = None  # campaign_applied: which campaign, on which event (ref), what else it gave
    ref: str | None = None
    growth: int = 0
    tags: list[str] = []
    first: bool = False  # campaign_applied: the campaign's first application to this member
    discount_minor: int = 0  # campaign_applied at a checkout's confirm: its money off the order
    arm: str | None = None  # campaign_applied by an experiment campaign: the member's arm (its cost per arm)
    from_tier: str | None = None  # tier_changed: the tier left (None: none before) and the tier reached, and why
    to_tier: str | None = None
    reason: str | None = None  # tier_changed: upgrade, review or refund; referral_reward: referrer or referee


class TierChange(Model):
    at: datetime
    from_tier: str | None
    to_tier: str
    reason: Literal["upgrade", "review", "refund"]  # refund: a refund undid the order's upgrade
