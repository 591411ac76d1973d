"""The program document: the rule engine as data (shared/API.md, "The program document").

Structure is checked by pydantic; `problems()` adds the cross-field rules pydantic cannot see
(thresholds increasing, references to coupon templates that exist, ...). Both report every problem.
"""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import pairwise
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    Strict,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from . import Model
from .errors import error_message, field_path

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
Minor = Annotated[int, Field(ge=0, le=10**12)]
# Free text (names, reasons) is printable: a control character (C0, DEL, C1) is a client bug or an attack
# on whatever displays it. The pattern says so in the OpenAPI document; the validator says it in words.
PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(value: str) -> str:
    if found := _CONTROL.search(value):
        raise ValueError(f"must not contain control characters (U+{ord(found.group()):04X})")
    return value


Text = Annotated[str, AfterValidator(_printable), Field(json_schema_extra={"pattern": PRINTABLE})]
Name = Annotated[Text, StringConstraints(min_length=1, max_length=100)]

# Times and days are ISO-8601 text: pydantic would read a number, or a string of digits, as a Unix time.
_TIME_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
_DAY_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")


def time_text(value: object) -> object:
    if isinstance(value, datetime) or (isinstance(value, str) and _TIME_TEXT.match(value)):
        return value
    raise ValueError("must be an ISO-8601 time, such as 2026-12-06T10:00:00+08:00")


def day_text(value: object) -> object:
    if isinstance(value, date) or (isinstance(value, str) and _DAY_TEXT.fullmatch(value)):
        return value
    raise ValueError("must be an ISO-8601 day, YYYY-MM-DD")


# The years the engine reckons in: calendar arithmetic (a window's months back, an expiry's months ahead,
# an offset of -23:59) stays inside what Python's dates hold, so an extreme time is a 422, never a 500.
FIRST_YEAR, LAST_YEAR = 1900, 2999
OUT_OF_RANGE = f"must be in the years {FIRST_YEAR} to {LAST_YEAR}"
IN_YEARS = Field(json_schema_extra={"pattern": r"^(19|2[0-9])[0-9]{2}-"})  # what the document says of it


def in_range(value: date) -> date:
    if isinstance(value, datetime) and value.tzinfo is not None:
        try:
            year = value.astimezone(UTC).year
        except OverflowError:
            raise ValueError(OUT_OF_RANGE) from None
    else:
        year = value.year
    if not FIRST_YEAR <= year <= LAST_YEAR or not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(OUT_OF_RANGE)
    return value


# Without an offset: the program's time zone.
Time = Annotated[datetime, Strict(False), BeforeValidator(time_text), AfterValidator(in_range), IN_YEARS]
Day = Annotated[date, BeforeValidator(day_text), AfterValidator(in_range), IN_YEARS]
# Multipliers are decimals (1.2, 1.5): points are computed in Decimal and rounded down, never in float.
# A document sent (PUT, a draft) gives them as JSON numbers, from 1 to 100, at most 3 places (which JSON
# Schema cannot say of a number: a 422 names it); a string is refused, as an integer field refuses one.
# One stored before that rule, with decimal strings, still loads (validated without SENT).
_FACTOR_TEXT = r"^(100(\.0{1,3})?|[1-9][0-9]?(\.[0-9]{1,3})?)$"
SENT = {"sent": True}  # the validation context of a document a client sends


def _factor_text(value: object, info: ValidationInfo) -> object:
    if isinstance(value, str) and (info.context or {}).get("sent"):
        raise ValueError("must be a number (a decimal from 1 to 100, at most 3 decimal places), not a string")
    if isinstance(value, bool) or (isinstance(value, str) and not re.fullmatch(_FACTOR_TEXT, value)):
        raise ValueError("must be a decimal from 1 to 100 with at most 3 decimal places")
    return value


Factor = Annotated[
    Decimal,
    Strict(False),
    BeforeValidator(_factor_text),
    Field(ge=1, le=100, max_digits=6, decimal_places=3),
    WithJsonSchema(
        {
            "type": "number",
            "minimum": 1,
            "maximum": 100,
            "description": "a decimal from 1 to 100, at most 3 decimal places: 1.5 (a number, not a string)",
        }
    ),
]


def one() -> Any:
    """A Factor's default, 1: the document's default a number too (pydantic would print Decimal's "1")."""
    return Field(Decimal(1), json_schema_extra={"default": 1})


Cel = Annotated[str, StringConstraints(min_length=1, max_length=4000)]  # rules/expressions bounds it further


class Doc(Model):
    # Unknown keys are refused: a typo in a rule must not silently switch the rule off. Strict: `true`
    # or 12.0 where an integer goes is a mistake to name, not to read as 1 or 12 (the JSON document's
    # decimals and times, which JSON has no type for, opt out: Factor, Time).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# How many times a grant site may give per program-local month, program-wide (a reward: units redeemed).
# Every site that gives points or coupons takes it atomically with the write (rules/posting.py).
Budget = Annotated[int | None, Field(ge=1, le=10**9)]


class Grant(Doc):
    points: int = Field(0, ge=0, le=10**9)
    coupons: list[Id] = Field([], max_length=20)
    budget: Budget = None


class EarnRule(Doc):
    points_per_unit: int = Field(ge=0, le=10**6)
    unit_minor: int = Field(gt=0, le=10**9)
    min_order_minor: Minor = 0


class PointValue(Doc):
    """What points are worth at checkout: `points` points = `worth_minor` money."""

    points: int = Field(gt=0, le=10**9)
    worth_minor: int = Field(gt=0, le=10**9)
    max_order_share_percent: int = Field(50, ge=1, le=100)  # deduction at checkout covers at most this


class Expiry(Doc):
    policy: Literal["rolling_months", "never"] = "rolling_months"
    months: int = Field(12, ge=1, le=120)


class Wallet(Doc):
    """A currency of the program's own beside points (stamps...): earned by campaigns' `wallet` effects,
    spent by rewards priced in it (`cost`), expiring by its own policy (by default never: a stamp card
    keeps its stamps unless the program says otherwise)."""

    name: Name
    expiry: Expiry = Field(default_factory=lambda: Expiry(policy="never"))


class WalletCost(Doc):
    """A reward's price in a wallet (instead of `cost_points`)."""

    wallet: Id
    amount: int = Field(gt=0, le=10**9)


class ActivityRule(Doc):
    points: int = Field(ge=0, le=10**6)
    daily_cap: int | None = Field(None, ge=1, le=1000)
    self_report: bool = False  # a member may report it itself (POST .../me/activities); the server reports any


class Multiplier(Doc):
    """A calendar multiplier; with no condition it always applies."""

    id: Id
    factor: Factor
    day_of_month: int | None = Field(None, ge=1, le=31)
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] | None = None  # ISO: 1 = Monday


class PointsConfig(Doc):
    earn: EarnRule
    value: PointValue = Field(default_factory=lambda: PointValue(points=100, worth_minor=100))
    expiry: Expiry = Field(default_factory=Expiry)
    activities: dict[Id, ActivityRule] = {}
    multipliers: list[Multiplier] = Field([], max_length=50)
    stacking: Literal["max", "multiply"] = "max"
    # The return window: a purchase's points are pending this many days after `paid_at` (0: at once).
    pending_days: int = Field(0, ge=0, le=365)


class CouponTemplate(Doc):
    name: Name
    kind: Literal["amount_off", "percent_off", "free_shipping", "gift"]
    value_minor: Minor = 0
    percent_off: int | None = Field(None, ge=1, le=100)
    max_off_minor: Minor | None = None
    min_spend_minor: Minor = 0  # with applies_to: counted over the matching lines only
    valid_days: int = Field(ge=1, le=3660)
    applies_to: Cel | None = None  # an item condition (`i`, as on_items): the lines a checkout discounts


class Level(Doc):
    id: Id
    name: Name
    threshold: int = Field(ge=0, le=10**12)
    earn_multiplier: Factor = one()
    on_upgrade: Grant | None = None
    every_month: Grant | None = None


class Review(Doc):
    every_months: int = Field(1, ge=1, le=24)
    grace_reviews: int = Field(0, ge=0, le=12)


class Growth(Doc):
    """Growth value (成长值): one per `per_unit_minor` of an order's amount, and so much per activity of
    a type. Counted whenever configured (campaigns see `member.growth`), the tier metric when `metric`
    is "growth"."""

    per_unit_minor: int = Field(ge=1, le=10**9)
    activities: dict[Id, Annotated[int, Field(ge=0, le=10**6)]] = {}


class Tiers(Doc):
    metric: Literal["spend", "orders", "growth"]
    window_months: int = Field(ge=1, le=36)
    review: Review = Field(default_factory=Review)
    levels: list[Level] = Field(min_length=1, max_length=20)
    growth: Growth | None = None


class Reward(Doc):
    id: Id
    name: Name
    cost_points: int | None = Field(None, gt=0, le=10**9)
    cost: WalletCost | None = None  # priced in a wallet instead: exactly one of the two (_rewards)
    grant: Grant = Field(default_factory=Grant)
    fulfilment: Literal["coupon", "goods", "service", "donation"] = "coupon"
    cash_minor: Minor = 0
    stock: int | None = Field(None, ge=0, le=10**9)
    per_member_limit: int | None = Field(None, ge=1, le=10**6)


class FirstOrder(Doc):
    within_days: int = Field(ge=1, le=365)
    points: int = Field(ge=0, le=10**9)


class ChurnWarning(Doc):
    after_days: int = Field(ge=1, le=3650)
    coupons: list[Id] = Field([], max_length=20)
    earn_multiplier: Factor = one()
    multiplier_days: int = Field(0, ge=0, le=365)
    budget: Budget = None  # caps the coupons; the stage change and the multiplier always apply


class Recall(Doc):
    after_days: int = Field(ge=1, le=3650)
    coupons: list[Id] = Field([], max_length=20)
    budget: Budget = None


class Birthday(Doc):
    coupons: list[Id] = Field([], max_length=20)
    points: int = Field(0, ge=0, le=10**9)
    earn_multiplier: Factor = one()  # applies to purchases in the birthday month
    budget: Budget = None  # caps the gift (points and coupons), not the multiplier


class Lifecycle(Doc):
    welcome: Grant | None = None
    first_order: FirstOrder | None = None
    churn_warning: ChurnWarning | None = None
    recall: Recall | None = None
    birthday: Birthday | None = None


class ReferralWallet(Doc):
    id: Id
    amount: int = Field(ge=1, le=10**6)


class ReferralReward(Doc):
    """What one side of a converted referral gets (rules/referral.py)."""

    points: int = Field(0, ge=0, le=10**9)
    coupons: list[Id] = Field([], max_length=20)
    wallet: ReferralWallet | None = None


class PerReferrer(Doc):
    count: int = Field(ge=1, le=10**6)
    per: Literal["day", "week", "month", "year", "lifetime"]  # program-local calendar


class Referral(Doc):
    """Member-gets-member: both sides rewarded once per referee, on its enrolment or its first
    qualifying order (`min_order_minor`, within `within_days` program-local days of its enrolment)."""

    on: Literal["enrolment", "first_order"]
    min_order_minor: Minor = 0
    within_days: int | None = Field(None, ge=1, le=3650)
    referrer: ReferralReward
    referee: ReferralReward
    per_referrer: PerReferrer
    max_per_fingerprint: int | None = Field(None, ge=1, le=10**6)  # rewarded referees per fingerprint, ever
    budget: int | None = Field(None, ge=1, le=10**9)  # referrer rewards in all, program-wide, ever


class Enrolment(Doc):
    self_service: bool = True  # false: members cannot enrol themselves (POST .../me is 403)


class Abuse(Doc):
    """Daily limits past which a member's orders still count for spend but earn nothing more
    (rules/abuse.py); the member is flagged. Counted per program-local day."""

    max_orders_per_day: int | None = Field(None, ge=1, le=10**6)
    max_points_per_day: int | None = Field(None, ge=1, le=10**12)


Cuts = Annotated[list[Annotated[int, Field(ge=0, le=10**12)]], Field(min_length=4, max_length=4)]


class Rfm(Doc):
    """RFM scoring: four cut-offs per dimension give scores 1-5 (5 is best). Recency counts days since
    the last purchase (score 5 within the first cut-off); frequency (orders) and monetary (spend)
    count over the last `window_months` (score 5 at or above the last cut-off)."""

    window_months: int = Field(12, ge=1, le=36)
    recency_days: Cuts = Field(default_factory=lambda: [30, 60, 90, 180])
    frequency_orders: Cuts = Field(default_factory=lambda: [2, 3, 5, 8])
    monetary_minor: Cuts = Field(default_factory=lambda: [10000, 30000, 80000, 200000])
    # Segments as benefit targets: each month, members of a segment receive its grant (once a month).
    benefits: dict[Id, Grant] = {}


class PaidCardPlan(Doc):
    id: Id
    name: Name
    kind: Literal["identity", "light"]
    price_minor: int = Field(gt=0, le=10**12)
    period_months: int = Field(ge=1, le=60)
    cycle_months: int | None = Field(None, ge=1, le=60)
    on_purchase: Grant | None = None
    every_cycle: Grant | None = None
    earn_multiplier: Factor = one()
    scene: Id | None = None  # a scene card's perks apply only to orders of this scene
    refund_days: int = Field(7, ge=0, le=365)  # a payment can be refunded this many days after it

    @property
    def cycles(self) -> int:
        """Cycles one payment buys (0: no cycle benefits)."""
        if self.kind != "identity" or self.every_cycle is None or not self.cycle_months:
            return 0
        return self.period_months // self.cycle_months


# ---- campaigns (API.md "Campaigns, growth and tags"; rules/campaigns.py applies them) ----------------

Trigger = Literal[
    "purchase",
    "refund",
    "activity",
    "enrolment",
    "tier_changed",
    "redemption",
    "card_purchase",
    "checkout",
    "tag_added",
    "referral_converted",  # the referrer's, in its reward write (rules/referral.reward_referrer)
]
# Effects that act on an order's points: only a purchase has an order to act on.
ORDER_EFFECTS = ("multiply_points", "points_per_unit")
# Effects that lower a checkout's lines (rules/checkout.py prices them), each with an optional on_items;
# a checkout campaign has these and gift_items only, and no other trigger has them.
DISCOUNT_EFFECTS = ("member_price", "percent_off", "amount_off_minor", "free_units")
CHECKOUT_EFFECTS = (*DISCOUNT_EFFECTS, "gift_items")
# the effects that may have on_items (a wallet's: its amount per unit of each matching line, on a purchase)
ITEM_EFFECTS = (*ORDER_EFFECTS, *DISCOUNT_EFFECTS, "wallet")
# Effects whose amount may be a CEL integer expression with a `max` (rules/amounts.py; a wallet's is
# its `wallet.amount`, with the effect's `max` beside `wallet`: computed_amount).
COMPUTED_EFFECTS = ("points", "growth", "wallet")
MAX_AMOUNT = 10**9
MAX_WALLET_AMOUNT = 10**6


def _amount(value: object, high: int = MAX_AMOUNT) -> int | str:
    """One check, so that a bad amount is one problem named by its field (a union would name each arm)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= high:
            raise ValueError(f"must be from 1 to {high:,}, or a CEL integer expression with a max")
        return value
    if isinstance(value, str) and 1 <= len(value) <= 4000:
        return value
    raise ValueError("must be an integer, or a CEL integer expression (a string) with a max")


# A fixed amount, or a CEL integer expression over the trigger's facts (checked at PUT by
# rules/conditions, capped by the effect's `max`).
Amount = Annotated[
    int | str,
    PlainValidator(_amount),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT},
                {"type": "string", "minLength": 1, "maxLength": 4000},
            ],
            "description": 'an integer, or a CEL integer expression with a sibling `max`: "activity.streak_days * 2"',
        }
    ),
]


# A wallet effect's amount: the same, in a smaller range (multiplied by units with `on_items`).
WalletUnits = Annotated[
    int | str,
    PlainValidator(lambda v: _amount(v, MAX_WALLET_AMOUNT)),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_WALLET_AMOUNT},
                {"type": "string", "minLength": 1, "maxLength": 4000},
            ],
            "description": 'an integer, or a CEL integer expression with a `max` beside `wallet`: "order.units"',
        }
    ),
]


class WalletAmount(Doc):
    """A campaign effect's amount of a wallet (with `on_items`: per unit of each matching line); a CEL
    expression is capped by the effect's own `max`, as points are (one rule: program.amount_problems)."""

    id: Id
    amount: WalletUnits


class Active(Doc):
    """When a campaign applies: from `from` (inclusive) until `until` (exclusive). Offsets say the zone;
    a time without one is read in the program's time zone."""

    model_config = ConfigDict(populate_by_name=True)

    from_: Time | None = Field(None, alias="from")
    until: Time | None = None


def _exactly_one(*arms: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A section's "exactly one of these keys" (a model validator) in the document: each arm's key
    present and not null, the others' null or absent, plus what else that arm says of the section."""
    null = {"type": "null"}
    keys = [key for key, _ in arms]
    return {
        "oneOf": [
            {
                "required": [key],
                "properties": {other: null for other in keys if other != key} | {key: {"not": null}} | extra,
            }
            for key, extra in arms
        ]
    }


class PerUnit(Doc):
    """Points per `unit_minor` of the matching amount, or per unit of quantity (`per: "unit"`)."""

    model_config = ConfigDict(json_schema_extra=_exactly_one(("unit_minor", {}), ("per", {})))

    points: int = Field(ge=1, le=10**6)
    unit_minor: int | None = Field(None, ge=1, le=10**9)
    per: Literal["unit"] | None = None

    @model_validator(mode="after")
    def _one_unit(self) -> "PerUnit":
        if (self.unit_minor is None) == (self.per is None):
            raise ValueError('give exactly one of unit_minor or per ("unit": per item quantity)')
        return self


class FreeUnits(Doc):
    """Matching units, dearest first, in groups of buy + get: the `get` cheapest of each full group
    are discounted by `percent_off` (buy 2 get 1: buy 3 pay 2; buy 1 get 1 at 50: second half price)."""

    buy: int = Field(ge=1, le=100)
    get: int = Field(ge=1, le=100)
    percent_off: int = Field(100, ge=1, le=100)


class GiftItem(Doc):
    sku: Id
    quantity: int = Field(1, ge=1, le=100)


def _one_effect(schema: dict[str, Any]) -> None:
    """Effect._one in the document: exactly one effect key not null, `on_items` only beside an order or
    discount effect, `max_off_minor` only beside `percent_off`."""
    null = {"type": "null"}
    schema["oneOf"] = [
        {
            "required": [kind],
            "properties": {other: null for other in EFFECT_KINDS if other != kind}
            | {kind: {"not": null}}
            | ({} if kind in ITEM_EFFECTS else {"on_items": null})
            | ({} if kind == "percent_off" else {"max_off_minor": null})
            | ({} if kind in COMPUTED_EFFECTS else {"max": null})
            | ({} if kind == "points" else {"expires_in_days": null}),
        }
        for kind in EFFECT_KINDS
    ]


class Effect(Doc):
    """One effect: exactly one of the effect keys, plus `on_items` for the order effects."""

    model_config = ConfigDict(json_schema_extra=_one_effect)

    points: Amount | None = None
    multiply_points: Factor | None = None
    points_per_unit: PerUnit | None = None
    on_items: Cel | None = None
    coupons: list[Id] | None = Field(None, min_length=1, max_length=20)
    growth: Amount | None = None
    tag: Id | None = None
    untag: Id | None = None
    wallet: WalletAmount | None = None
    # checkout discounts and gifts (DISCOUNT_EFFECTS, gift_items)
    member_price: Literal[True] | None = None
    percent_off: int | None = Field(None, ge=1, le=100)
    max_off_minor: Minor | None = Field(None, ge=1)
    amount_off_minor: Minor | None = Field(None, ge=1)
    free_units: FreeUnits | None = None
    gift_items: list[GiftItem] | None = Field(None, min_length=1, max_length=20)
    # A computed amount's cap (required with one: program.amount_problems), and a points grant's own expiry.
    max: int | None = Field(None, ge=1, le=10**9)
    expires_in_days: int | None = Field(None, ge=1, le=3650)

    @property
    def kind(self) -> str:
        """The effect key set (the model validator makes it exactly one)."""
        return next(k for k in EFFECT_KINDS if getattr(self, k) is not None)

    @model_validator(mode="after")
    def _one(self) -> "Effect":
        given = [k for k in EFFECT_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"an effect has exactly one of {', '.join(EFFECT_KINDS)} (found {len(given)})")
        if self.on_items is not None and given[0] not in ITEM_EFFECTS:
            raise ValueError(f"on_items goes with {', '.join(ITEM_EFFECTS)}")
        if self.max_off_minor is not None and given[0] != "percent_off":
            raise ValueError("max_off_minor goes with percent_off")
        return self


EFFECT_KINDS = (
    "points",
    "multiply_points",
    "points_per_unit",
    "coupons",
    "growth",
    "tag",
    "untag",
    "wallet",
    *CHECKOUT_EFFECTS,
)


class PerMember(Doc):
    """At most `count` applications, or `points` points, a member per period; `per: "object"`: at most
    `count` applications per member and `activity.object_id` (rules/limits.py)."""

    model_config = ConfigDict(
        json_schema_extra=_exactly_one(("count", {}), ("points", {"per": {"not": {"const": "object"}}}))
    )

    count: int | None = Field(None, ge=1, le=10**6)
    points: int | None = Field(None, ge=1, le=10**9)
    per: Literal["day", "week", "month", "year", "campaign", "object"]

    @model_validator(mode="after")
    def _one_limit(self) -> "PerMember":
        if (self.count is None) == (self.points is None):
            raise ValueError("give exactly one of count or points")
        if self.per == "object" and self.points is not None:
            raise ValueError('per "object" counts applications: count, not points')
        return self


class CampaignBudget(Doc):
    """Program-wide totals over the campaign's life, taken atomically with each application."""

    points: int | None = Field(None, ge=0, le=10**12)
    coupons: int | None = Field(None, ge=0, le=10**9)
    members: int | None = Field(None, ge=0, le=10**9)
    discount_minor: int | None = Field(None, ge=0, le=10**12)  # a checkout campaign's money off


class Limits(Doc):
    per_member: PerMember | None = None
    budget: CampaignBudget | None = None


def not_blank(value: str) -> str:
    """Free text someone reads (a title, a reason): spaces alone say nothing."""
    if not value.strip():
        raise ValueError("must not be blank")
    return value


class PublicText(Doc):
    """What a member's app shows of a campaign (GET .../me/program): its conditions and budgets never."""

    title: Annotated[Name, AfterValidator(not_blank)]
    description: Annotated[Text, StringConstraints(max_length=1000)] = ""


class Variant(Doc):
    """An experiment's arm whose `effects` replace the campaign's for its members (rules/experiments)."""

    id: Id
    weight: int = Field(ge=1, le=10**6)  # its share of what the holdout leaves, against the other variants'
    effects: list[Effect] = Field(min_length=1, max_length=10)


class Experiment(Doc):
    """A campaign run as an experiment (API.md "Experiments"): `holdout_percent` of the members meeting
    it get nothing (their exposure is counted), the rest split by the variants' weights."""

    holdout_percent: int = Field(ge=0, le=100)
    variants: list[Variant] = Field([], max_length=10)


class Campaign(Doc):
    id: Id
    name: Name
    active: Active | None = None
    trigger: Trigger
    when: Cel = "true"
    effects: list[Effect] = Field(min_length=1, max_length=10)
    limits: Limits = Limits()
    priority: int = Field(0, ge=-1000, le=1000)
    exclusive: bool = False
    public: PublicText | None = None  # listed in the member's program view (only those that have it)
    experiment: Experiment | None = None


# A counter's id is read in expressions as `member.counters.<id>`: a CEL identifier, not a reserved word.
_CEL_RESERVED = frozenset(
    {"true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import"}
    | {"let", "loop", "package", "namespace", "return", "var", "void", "while"}
)
MAX_COUNTERS = 20  # each is kept on the profile, counted on every purchase or activity


def _counter_id(value: str) -> str:
    if value in _CEL_RESERVED:
        raise ValueError(f"{value!r} is a reserved word of CEL: `member.counters.{value}` could not be read")
    return value


CounterId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"),
    AfterValidator(_counter_id),
    Field(json_schema_extra={"not": {"enum": sorted(_CEL_RESERVED)}}),
]


class Counter(Doc):
    """A count of the member's purchases or activities per program-local period (rules/counters.py),
    read by campaigns as `member.counters.<id>`."""

    id: CounterId
    counts: Literal["orders", "spend_minor", "units", "activities"]
    period: Literal["day", "week", "month", "year", "lifetime"]
    when: Cel | None = None  # over the event's facts (a purchase's or an activity's)
    on_items: Cel | None = None  # orders, spend_minor, units: only the lines it picks count
    activity_type: Id | None = None  # activities: only this type counts


class Restricted(Doc):
    """Member-only items and early access: a line matching `on_items` may be bought only by a member
    for whom `who` (over `member` and `at`) holds, or by anyone from `until` on."""

    id: Id
    on_items: Cel
    who: Cel
    until: Time | None = None


class Pricing(Doc):
    restricted: list[Restricted] = Field([], max_length=50)
    hold_minutes: int = Field(15, ge=1, le=1440)  # how long an open checkout holds its coupons and points


# RFM segments (rules/rfm.py says who is in which).
SEGMENTS = ("champions", "loyal", "promising", "needs_attention", "at_risk", "hibernating", "prospect")

# Campaigns are evaluated on every event of their trigger: a bound on the work one event can cost.
MAX_CAMPAIGNS = 100
# Campaigns limited per object (their objects are kept on the member's profile: rules/limits.py).
MAX_OBJECT_CAMPAIGNS = 5
# Lines of one purchase or quote: every campaign's comprehensions over order.items run over them.
MAX_ORDER_ITEMS = 100

# Wallets of one program: each may add a ledger entry to a write (a campaign's, an expiry's).
MAX_WALLETS = 5

# A card refund revokes a payment's unused coupons in one transaction (at most 100 items).
MAX_COUPONS_PER_PAYMENT = 80

# Every member write is one DynamoDB transaction (store.commit), which holds at most 100 items.
TRANSACTION_ITEMS = 100
# Items any member write may carry besides what it issues: the profile, the request's reference, its
# audit item, a reward's stock shard, one DUE item per scheduled kind (7, rules/due.days) and the
# expiry entry Change.start adds when a bucket has lapsed. The rest (ROOM) is for what the write
# issues: coupons, ledger entries, notices, tier history and budget items.
BASE_ITEMS = 12
ROOM = TRANSACTION_ITEMS - BASE_ITEMS
# A redemption issues its coupons next to the base items and its own ledger entry.
MAX_REDEEMED_COUPONS = ROOM - 1
# Tags one member may hold (rules/tags.py), and so the most tag_benefits one member can receive at once.
MAX_TAGS = 50
# One member's imported balance (rules/imports.py): far above any real one, far below the codec's bound.
MAX_IMPORTED_POINTS = 10**9


def grant_items(grant: Grant | None) -> int:
    """Items a grant adds to the write that issues it: its coupons, a ledger entry for its points, a
    budget item for its budget."""
    if grant is None:
        return 0
    return len(grant.coupons) + (1 if grant.points else 0) + (1 if grant.budget is not None else 0)


def payment_items(plan: PaidCardPlan) -> int:
    """The most one card payment writes at once: its pack, and every cycle when it is confirmed after
    its span (each cycle's grant and notice), with the purchase, expiring and expired notices."""
    return grant_items(plan.on_purchase) + plan.cycles * (grant_items(plan.every_cycle) + 1) + 3


class Program(Doc):
    name: Name
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    # The document lists the zones this runtime's tz database knows (what _known_zone accepts).
    timezone: str = Field("UTC", json_schema_extra=lambda schema: schema.update(enum=sorted(available_timezones())))
    points: PointsConfig
    coupons: dict[Id, CouponTemplate] = {}
    tiers: Tiers | None = None
    rewards: list[Reward] = Field([], max_length=500)
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    enrolment: Enrolment = Field(default_factory=Enrolment)
    paid_cards: list[PaidCardPlan] = Field([], max_length=50)
    rfm: Rfm | None = None
    # Tags as benefit targets: each month, members holding a tag receive its grant (once a month).
    tag_benefits: dict[Id, Grant] = Field({}, max_length=MAX_TAGS)
    # What a member's order is worth on average: paid-card prices are checked against it.
    expected_average_order_minor: Minor | None = None
    campaigns: list[Campaign] = Field([], max_length=MAX_CAMPAIGNS)
    pricing: Pricing = Field(default_factory=Pricing)
    wallets: dict[Id, Wallet] = Field({}, max_length=MAX_WALLETS)  # stamps and other currencies
    counters: list[Counter] = Field([], max_length=MAX_COUNTERS)
    abuse: Abuse | None = None
    referral: Referral | None = None
    # What rules derive from the document once per version (the campaigns' compiled expressions),
    # kept with the Program object, which programs.load caches per container.
    _derived: dict[str, Any] = PrivateAttr(default={})

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def derived(self) -> dict[str, Any]:
        return self._derived

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def level(self, level_id: str | None) -> Level | None:
        if self.tiers is None or level_id is None:
            return None
        return next((lvl for lvl in self.tiers.levels if lvl.id == level_id), None)

    def reward(self, reward_id: str) -> Reward | None:
        return next((r for r in self.rewards if r.id == reward_id), None)

    def card_plan(self, plan_id: str) -> PaidCardPlan | None:
        return next((p for p in self.paid_cards if p.id == plan_id), None)


Problem = dict[str, str]  # {"field": "tiers.levels[1].threshold", "message": "..."}


class Problems:
    """Collects every cross-field problem of a program, each naming the field it is about."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.found: list[Problem] = []

    def add(self, field: str, message: str) -> None:
        self.found.append({"field": field, "message": message})

    def coupons_exist(self, field: str, ids: list[str]) -> None:
        for i, coupon_id in enumerate(ids):
            if coupon_id not in self.program.coupons:
                self.add(f"{field}[{i}]", f"unknown coupon template {coupon_id!r}")

    def grant_ok(self, field: str, grant: Grant | None) -> None:
        if grant is not None:
            self.coupons_exist(f"{field}.coupons", grant.coupons)

    def unique(self, field: str, ids: list[str]) -> None:
        self.found += _duplicates(field, ids)


def _duplicates(field: str, ids: list[Any]) -> list[Problem]:
    found: list[Problem] = []
    seen: set[str] = set()
    for i, item_id in enumerate(ids):
        if not isinstance(item_id, str):  # a document as sent: pydantic names a missing or odd id
            continue
        if item_id in seen:
            found.append({"field": f"{field}[{i}].id", "message": f"duplicate id {item_id!r}"})
        seen.add(item_id)
    return found


# The lists whose elements have unique ids (each section of `problems` checks its own), by path.
ID_LISTS = (
    ("points", "multipliers"),
    ("tiers", "levels"),
    ("rewards",),
    ("paid_cards",),
    ("campaigns",),
    ("pricing", "restricted"),
    ("counters",),
)


def duplicate_ids(doc: dict[str, Any], sections: set[str]) -> list[Problem]:
    """Duplicate ids in the lists of these top-level sections, read from the document as sent: a
    section pydantic refuses (one campaign's bad budget) still has its duplicates listed at once."""
    duplicates: list[Problem] = []
    for path in (p for p in ID_LISTS if p[0] in sections):
        found: Any = doc
        for key in path:
            found = found.get(key) if isinstance(found, dict) else None
        if isinstance(found, list):
            duplicates += _duplicates(".".join(path), [e.get("id") if isinstance(e, dict) else None for e in found])
    return duplicates


def error_detail(error: Any) -> Problem:
    """A pydantic error as a problem: its field, and its message in our words (an unknown key names
    the keys allowed there, a validator's message comes without pydantic's "Value error, ")."""
    loc = tuple(error["loc"])
    message = error_message(error)
    if error["type"] == "extra_forbidden" and loc and (keys := known_keys(loc[:-1])):
        message = f"unknown key {loc[-1]!r}; the keys here are {', '.join(keys)}"
    return {"field": field_path(loc), "message": message}


def known_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys of the section of the document at `loc` (by its aliases), [] where it is no section."""
    kind: Any = Program
    for part in loc:
        kind = _inner(kind, part)
    kind = _bare(kind)
    return [f.alias or name for name, f in kind.model_fields.items()] if _is_section(kind) else []


def _bare(kind: Any) -> Any:
    while get_origin(kind) in (Union, UnionType, Annotated):  # X | None, Annotated[X, ...]
        kind = next(a for a in get_args(kind) if a is not type(None))
    return kind


def _inner(kind: Any, part: int | str) -> Any:
    """The type one step into `kind`: a section's field, a list's element, a map's value."""
    kind = _bare(kind)
    if _is_section(kind) and isinstance(part, str) and part in kind.model_fields:
        return kind.model_fields[part].annotation
    if get_origin(kind) is list and isinstance(part, int):
        return get_args(kind)[0]
    if get_origin(kind) is dict:
        return get_args(kind)[1]
    return None


def _is_section(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, Doc)


def problems(program: Program) -> list[Problem]:
    """Every cross-field problem of a structurally valid program, section by section."""
    check = Problems(program)
    for section in (_coupons, _tiers, _rewards, _lifecycle, _rfm, _paid_cards, _tag_benefits, _campaigns, _pricing):
        section(program, check)
    _counters(program, check)
    _referral(program, check)
    return check.found


def _coupons(program: Program, check: Problems) -> None:
    for template_id, template in program.coupons.items():
        field = f"coupons.{template_id}"
        if template.kind == "amount_off" and template.value_minor <= 0:
            check.add(f"{field}.value_minor", "an amount_off coupon needs value_minor > 0")
        if template.kind == "percent_off" and template.percent_off is None:
            check.add(f"{field}.percent_off", "a percent_off coupon needs percent_off")
    check.unique("points.multipliers", [m.id for m in program.points.multipliers])


def _tiers(program: Program, check: Problems) -> None:
    if program.tiers is None:
        return
    levels = program.tiers.levels
    check.unique("tiers.levels", [lvl.id for lvl in levels])
    _growth(program.tiers, program.points, check)
    if levels[0].threshold != 0:
        check.add("tiers.levels[0].threshold", "the first level's threshold must be 0 so every member has a tier")
    for i in range(1, len(levels)):
        if levels[i].threshold <= levels[i - 1].threshold:
            check.add(f"tiers.levels[{i}].threshold", "thresholds must increase from one level to the next")
    for i, lvl in enumerate(levels):
        check.grant_ok(f"tiers.levels[{i}].on_upgrade", lvl.on_upgrade)
        check.grant_ok(f"tiers.levels[{i}].every_month", lvl.every_month)
    # A purchase (or a review) may cross every level at once: each upgrade's gift and its tier
    # history item, with the purchase's earn and first-order entries, in one transaction.
    upgrading = 2
    for i, lvl in enumerate(levels[1:], start=1):
        upgrading += grant_items(lvl.on_upgrade) + 1
        if upgrading > ROOM:
            check.add(
                f"tiers.levels[{i}].on_upgrade",
                f"a purchase that reaches this level from the first would write {upgrading + BASE_ITEMS} "
                f"items in one transaction, more than {TRANSACTION_ITEMS}: fewer upgrade coupons",
            )
            break


def _growth(tiers: Tiers, points: PointsConfig, check: Problems) -> None:
    growth = tiers.growth
    if growth is None:
        if tiers.metric == "growth":
            check.add("tiers.growth", 'metric "growth" needs a growth section (per_unit_minor, activities)')
        return
    # The activity route accepts only the types of points.activities (their daily caps bound the
    # growth too): growth for another type could never be earned.
    for type_ in growth.activities:
        if type_ not in points.activities:
            check.add(
                f"tiers.growth.activities.{type_}",
                f"unknown activity type {type_!r}: add it to points.activities (points 0 for growth only)",
            )


def _rewards(program: Program, check: Problems) -> None:
    check.unique("rewards", [r.id for r in program.rewards])
    for i, reward in enumerate(program.rewards):
        check.grant_ok(f"rewards[{i}].grant", reward.grant)
        if (reward.cost_points is None) == (reward.cost is None):
            check.add(f"rewards[{i}].cost_points", "a reward has exactly one price: cost_points, or cost in a wallet")
        if reward.cost is not None and reward.cost.wallet not in program.wallets:
            check.add(f"rewards[{i}].cost.wallet", f"unknown wallet {reward.cost.wallet!r}: add it to wallets")
        if reward.fulfilment == "coupon" and not reward.grant.coupons:
            check.add(f"rewards[{i}].grant.coupons", "a coupon reward must grant at least one coupon")


def _lifecycle(program: Program, check: Problems) -> None:
    life = program.lifecycle
    check.grant_ok("lifecycle.welcome", life.welcome)
    for name in ("churn_warning", "recall", "birthday"):
        stage = getattr(life, name)
        if stage is not None:
            check.coupons_exist(f"lifecycle.{name}.coupons", stage.coupons)
    if life.churn_warning and life.recall and life.recall.after_days <= life.churn_warning.after_days:
        check.add("lifecycle.recall.after_days", "recall must come after the churn warning")


def _rfm(program: Program, check: Problems) -> None:
    if program.rfm is None:
        return
    for name in ("recency_days", "frequency_orders", "monetary_minor"):
        if any(b <= a for a, b in pairwise(getattr(program.rfm, name))):
            check.add(f"rfm.{name}", "cut-offs must increase")
    for segment, grant in program.rfm.benefits.items():
        if segment not in SEGMENTS:
            check.add(f"rfm.benefits.{segment}", f"unknown segment; one of {', '.join(SEGMENTS)}")
        check.grant_ok(f"rfm.benefits.{segment}", grant)


def _paid_cards(program: Program, check: Problems) -> None:
    check.unique("paid_cards", [p.id for p in program.paid_cards])
    for i, plan in enumerate(program.paid_cards):
        _paid_card(f"paid_cards[{i}]", plan, check)
    # The scheduled run settles every card of a member at once: one cycle of each identity plan.
    cycling = sum(grant_items(p.every_cycle) + 3 for p in program.paid_cards if p.cycles)
    if cycling > ROOM:
        check.add(
            "paid_cards",
            f"a member holding every identity card would get {cycling + BASE_ITEMS} items in one transaction "
            f"when their cycles fall due together, more than {TRANSACTION_ITEMS}: fewer cycle coupons",
        )


def _paid_card(field: str, plan: PaidCardPlan, check: Problems) -> None:
    check.grant_ok(f"{field}.on_purchase", plan.on_purchase)
    check.grant_ok(f"{field}.every_cycle", plan.every_cycle)
    if plan.kind == "identity":
        if plan.cycle_months is None and plan.every_cycle is not None:
            check.add(f"{field}.cycle_months", "every_cycle needs cycle_months")
        if plan.cycle_months is not None and plan.period_months % plan.cycle_months:
            check.add(f"{field}.cycle_months", "period_months must be a whole number of cycles")
    else:
        if plan.every_cycle is not None:
            check.add(f"{field}.every_cycle", "a light card gives a one-time pack only (on_purchase)")
        if plan.earn_multiplier != 1:
            check.add(f"{field}.earn_multiplier", "a light card has no perks while active")
    issued = len(plan.on_purchase.coupons if plan.on_purchase else [])
    issued += plan.cycles * len(plan.every_cycle.coupons if plan.every_cycle else [])
    if issued > MAX_COUPONS_PER_PAYMENT:
        check.add(
            f"{field}.every_cycle", f"one payment would issue {issued} coupons, more than {MAX_COUPONS_PER_PAYMENT}"
        )
    elif payment_items(plan) > ROOM:
        check.add(
            f"{field}.every_cycle" if plan.cycles else f"{field}.on_purchase",
            f"a payment confirmed after its span would write {payment_items(plan) + BASE_ITEMS} items in "
            f"one transaction (every cycle's coupons and notice), more than {TRANSACTION_ITEMS}",
        )


def _campaigns(program: Program, check: Problems) -> None:
    check.unique("campaigns", [c.id for c in program.campaigns])
    for i, campaign in enumerate(program.campaigns):
        campaign_problems(program, i, campaign, check)
    # A member keeps each per-object campaign's objects on its profile (rules/limits.py): few of them.
    per_object = [
        i for i, c in enumerate(program.campaigns) if c.limits.per_member and c.limits.per_member.per == "object"
    ]
    if len(per_object) > MAX_OBJECT_CAMPAIGNS:
        check.add(
            f"campaigns[{per_object[MAX_OBJECT_CAMPAIGNS]}].limits.per_member.per",
            f'more than {MAX_OBJECT_CAMPAIGNS} campaigns limited per "object" (each keeps its objects on the member)',
        )


def campaign_problems(program: Program, i: int, campaign: Campaign, check: Problems) -> None:
    """What a campaign says that pydantic cannot check on its own (its CEL is checked by
    rules/conditions.campaign_problems). Run on each campaign pydantic accepts, even when another is refused."""
    field = f"campaigns[{i}]"
    active = campaign.active
    if active and active.from_ and active.until and _instant(active.until, program) <= _instant(active.from_, program):
        check.add(f"{field}.active.until", "must be after `from`")
    _effects_problems(program, field, campaign.effects, campaign.trigger, check)
    _experiment_problems(program, f"{field}.experiment", campaign, check)
    _per_member(f"{field}.limits.per_member", campaign, check)
    budget = campaign.limits.budget
    if campaign.trigger == "checkout" and budget and (budget.points, budget.coupons) != (None, None):
        check.add(f"{field}.limits.budget", "a checkout campaign gives no points or coupons: budget discount_minor")
    if campaign.trigger != "checkout" and budget and budget.discount_minor is not None:
        check.add(f"{field}.limits.budget.discount_minor", "caps a checkout campaign's discounts only")


def _effects_problems(program: Program, field: str, effects: list[Effect], trigger: str, check: Problems) -> None:
    """A campaign's effects (or an experiment variant's, checked alike)."""
    for j, effect in enumerate(effects):
        _effect_trigger(f"{field}.effects[{j}].{effect.kind}", effect.kind, trigger, check)
        if effect.coupons:
            check.coupons_exist(f"{field}.effects[{j}].coupons", effect.coupons)
        if effect.wallet is not None:
            _wallet_effect(f"{field}.effects[{j}]", effect, trigger, program, check)
        amount_problems(f"{field}.effects[{j}]", effect, check)


def _experiment_problems(program: Program, field: str, campaign: Campaign, check: Problems) -> None:
    """Variant ids unique, each variant's effects valid for the trigger; a checkout campaign runs none
    (its discounts are priced before any member write that could record an exposure)."""
    experiment = campaign.experiment
    if experiment is None:
        return
    if campaign.trigger == "checkout":
        check.add(field, "a checkout campaign cannot run an experiment")
    seen: set[str] = set()
    for k, variant in enumerate(experiment.variants):
        if variant.id in seen or variant.id in ("holdout", "main"):
            check.add(f"{field}.variants[{k}].id", f"{variant.id!r} is taken (ids are unique, not holdout or main)")
        seen.add(variant.id)
        _effects_problems(program, f"{field}.variants[{k}]", variant.effects, campaign.trigger, check)


def _effect_trigger(field: str, kind: str, trigger: str, check: Problems) -> None:
    """Discounts and gifts belong to checkout campaigns, and only they do."""
    if trigger == "checkout" and kind not in CHECKOUT_EFFECTS:
        check.add(field, f"a checkout campaign gives discounts and gifts only ({', '.join(CHECKOUT_EFFECTS)})")
    elif trigger != "checkout" and kind in CHECKOUT_EFFECTS:
        check.add(field, f"a discount or gift at checkout: only on a checkout campaign, not on {trigger}")
    elif kind in ORDER_EFFECTS and trigger != "purchase":
        check.add(field, f"acts on an order's points: not on {trigger}")


def _wallet_effect(field: str, effect: Effect, trigger: str, program: Program, check: Problems) -> None:
    assert effect.wallet is not None
    if effect.wallet.id not in program.wallets:
        check.add(f"{field}.wallet.id", f"unknown wallet {effect.wallet.id!r}: add it to wallets")
    if effect.on_items is not None and trigger != "purchase":
        check.add(f"{field}.on_items", f"a wallet amount per matching unit needs a purchase's items, not {trigger}")


def computed_amount(effect: Effect) -> str | None:
    """The effect's amount when it is a CEL expression (a wallet's is its `wallet.amount`), else None."""
    value = effect.wallet.amount if effect.wallet is not None else getattr(effect, effect.kind)
    return value if effect.kind in COMPUTED_EFFECTS and isinstance(value, str) else None


def amount_problems(field: str, effect: Effect, check: Problems) -> None:
    """`max` goes with a computed amount (an expression, which rules/conditions types), and only with
    one; `expires_in_days` with a points effect."""
    kind = effect.kind
    computed = computed_amount(effect) is not None
    if computed and effect.max is None:
        what = "wallet amount" if kind == "wallet" else kind
        check.add(f"{field}.max", f"a computed {what} needs a max (the most one application gives)")
    elif not computed and effect.max is not None:
        check.add(f"{field}.max", f"caps a computed amount only (an expression in {', '.join(COMPUTED_EFFECTS)})")
    if effect.expires_in_days is not None and kind != "points":
        check.add(f"{field}.expires_in_days", "goes with a points effect only")


def _per_member(field: str, campaign: Campaign, check: Problems) -> None:
    limit = campaign.limits.per_member
    if limit is None:
        return
    if limit.per == "object" and campaign.trigger != "activity":
        check.add(
            f"{field}.per", f'"object" counts per activity.object_id: an activity campaign only, not {campaign.trigger}'
        )
    if limit.points is not None and campaign.trigger == "checkout":
        check.add(f"{field}.points", "a checkout campaign gives no points: limit it by count")


def _pricing(program: Program, check: Problems) -> None:
    check.unique("pricing.restricted", [r.id for r in program.pricing.restricted])


def _counters(program: Program, check: Problems) -> None:
    """What each counter counts goes with what it may filter by (its CEL: rules/conditions.counter_problems)."""
    check.unique("counters", [c.id for c in program.counters])
    for i, c in enumerate(program.counters):
        if c.on_items is not None and c.counts == "activities":
            check.add(f"counters[{i}].on_items", "picks order lines: only for orders, spend_minor or units")
        if c.activity_type is not None and c.counts != "activities":
            check.add(f"counters[{i}].activity_type", "only for a counter of activities")
        elif c.activity_type is not None and c.activity_type not in program.points.activities:
            known = ", ".join(program.points.activities) or "none"
            check.add(f"counters[{i}].activity_type", f"unknown activity type {c.activity_type!r} (types: {known})")


def _referral(program: Program, check: Problems) -> None:
    referral = program.referral
    if referral is None:
        return
    for side in ("referrer", "referee"):
        reward: ReferralReward = getattr(referral, side)
        check.coupons_exist(f"referral.{side}.coupons", reward.coupons)
        if reward.wallet is not None and reward.wallet.id not in program.wallets:
            check.add(f"referral.{side}.wallet.id", f"unknown wallet {reward.wallet.id!r}: add it to wallets")
    if referral.on == "enrolment":
        for name in ("min_order_minor", "within_days"):
            if name in referral.model_fields_set:
                check.add(f"referral.{name}", 'only for "on": "first_order"')


def _instant(at: datetime, program: Program) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=program.zone)


def _tag_benefits(program: Program, check: Problems) -> None:
    for tag, grant in program.tag_benefits.items():
        check.grant_ok(f"tag_benefits.{tag}", grant)
    if not program.tag_benefits:
        return
    # One member's monthly settle issues every benefit it is due at once: the largest tier and segment
    # grants, the birthday gift (and its notice) and the grant of every tag it holds (at most MAX_TAGS).
    levels = program.tiers.levels if program.tiers else []
    tier = max((grant_items(lvl.every_month) for lvl in levels), default=0)
    segment = max((grant_items(g) for g in program.rfm.benefits.values()), default=0) if program.rfm else 0
    gift = program.lifecycle.birthday
    birthday = grant_items(Grant(points=gift.points, coupons=gift.coupons, budget=gift.budget)) + 1 if gift else 0
    tags = sum(sorted((grant_items(g) for g in program.tag_benefits.values()), reverse=True)[:MAX_TAGS])
    monthly = tier + segment + birthday + tags
    if monthly > ROOM:
        check.add(
            "tag_benefits",
            f"a member holding every tag with a benefit would get {monthly + BASE_ITEMS} items in one transaction "
            f"in the monthly benefits (with the tier, segment and birthday grants), more than {TRANSACTION_ITEMS}: "
            "fewer tag coupons",
        )
