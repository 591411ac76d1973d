"""Request and response bodies of the public contract (shared/API.md).

The HTTP routes declare these, so the OpenAPI document is generated from them, and the use cases take
them, so a rule never sees unvalidated input.
"""

from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from . import Model
from .member import Stage
from .program import (
    IN_YEARS,
    MAX_IMPORTED_POINTS,
    MAX_ORDER_ITEMS,
    MAX_REDEEMED_COUPONS,
    MAX_TAGS,
    Day,
    Id,
    Text,
    in_range,
    not_blank,
    time_text,
)

# Why, in words someone reads (an adjustment, a block, a grant): kept with what it explains.
Reason = Annotated[Text, AfterValidator(not_blank), Field(min_length=1, max_length=200)]

# Strict: "12" or 12.0 for money is a client bug to report, not to guess at.
Amount = Annotated[
    int,
    Strict(),
    Field(ge=1, le=10**12, description="integer minor units (fen, cents), an integer literal: 12.0 or 1e3 is a 422"),
]
# ISO-8601 text with an offset (never a Unix time); any offset is accepted; the engine stores and returns UTC.
Instant = Annotated[
    AwareDatetime,
    BeforeValidator(time_text),
    AfterValidator(in_range),
    AfterValidator(lambda at: at.astimezone(UTC)),
    IN_YEARS,
]


class Sparse(Model):
    """A response whose wallet fields (issue 31) are left out where empty: a program without wallets
    answers as it did before them, and a points ledger entry carries no `wallet`."""

    _sparse: ClassVar[tuple[str, ...]] = ()

    # No return annotation: with one, the OpenAPI document would describe the answer by it, not by the fields.
    @model_serializer(mode="wrap")
    def _without_empty(self, handler: SerializerFunctionWrapHandler):  # noqa: ANN202
        data = handler(self)
        for key in self._sparse:
            if key in data and not data[key]:
                del data[key]
        return data


def _a_real_day(value: str) -> str:
    """A birthday that exists: 02-29 (a leap day, MM-DD) yes, 02-30 or 2023-02-29 no."""
    try:
        date.fromisoformat(value if len(value) == 10 else f"2000-{value}")
    except ValueError:
        raise ValueError("must be a day that exists") from None
    return value


Birthday = Annotated[
    str,
    StringConstraints(pattern=r"^(\d{4}-)?(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"),
    AfterValidator(_a_real_day),
]


class Body(Model):
    # A misspelt field is an error naming it, not a silently ignored value.
    model_config = ConfigDict(extra="forbid")


class EnrolMe(Body):
    birthday: Birthday | None = Field(None, description="YYYY-MM-DD or MM-DD")
    channel: Id | None = None
    customer_ref: Id | None = Field(
        None,
        description="the brand's own customer reference: guest orders with it before the enrolment make it a "
        "conversion (health `conversion_rate`)",
    )
    referral_code: str | None = Field(
        None,
        max_length=32,
        description="the referrer's code (GET .../referral; any case, dashes and spaces ignored): an unknown "
        "code, or the member's own, is a 422 naming referral_code",
    )
    fingerprint: str | None = Field(
        None,
        pattern=r"^[0-9A-Fa-f]{32,128}$",
        description="a hash the client computed of the device, payment card or phone (lower- or upper-case hex, "
        "32 to 128 digits); never the raw value: anything else is a 422 naming fingerprint",
    )


class Enrol(EnrolMe):
    member_id: Id
    enrolled_at: Instant | None = Field(
        None, description="original enrolment, when migrating an existing member base (no welcome pack)"
    )


class ProfileChangeMe(Body):
    birthday: Birthday = Field(description="YYYY-MM-DD or MM-DD; a member changes its birthday once")


class ProfileChange(Body):
    # A correction sets a value, it does not remove one: neither field takes null (the defaults only say
    # "not sent"), and the document says at least one is sent.
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    birthday: Birthday = Field(None, description="YYYY-MM-DD or MM-DD")  # type: ignore[assignment]
    channel: Id = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _something(self) -> "ProfileChange":
        if not self.model_fields_set:
            raise ValueError("give birthday, channel or both")
        return self


class OrderItem(Body):
    line_id: Id | None = Field(
        None, description='names the line for a refund by lines; default: its 1-based position ("1", "2"...)'
    )
    sku: Id
    category: Id | None = None
    amount_minor: Annotated[int, Strict(), Field(ge=0, le=10**12)]
    quantity: Annotated[int, Strict(), Field(ge=1, le=10**6)] = 1


class Purchase(Body):
    order_id: Id
    amount_minor: Amount
    paid_at: Instant | None = Field(
        None, description="default: now; not before the member's enrolment (up to 5 minutes before counts as at it)"
    )
    items: list[OrderItem] | None = Field(
        None,
        max_length=MAX_ORDER_ITEMS,
        description="the order's lines (at most 100); they sum to at most `amount_minor`",
    )
    store_id: Id | None = None
    channel: Id | None = Field(None, description="where the order was placed (app, till, web...), for campaigns")
    scene: Id | None = Field(None, description="the order's scene, for scene cards")

    @field_validator("items")
    @classmethod
    def _within_the_order(cls, items: list[OrderItem] | None, info: ValidationInfo) -> list[OrderItem] | None:
        # A field validator, not a model one, so the error names `items`. Lines may sum to less than
        # the order (a delivery fee, a line not itemised), never to more: campaigns act on them.
        return unique_lines(items_within(items, info, "amount_minor"))


def line_ids(items: list[OrderItem] | None) -> list[str]:
    """Each line's id: the one sent, else its 1-based position."""
    return [i.line_id or str(k) for k, i in enumerate(items or [], 1)]


def unique_lines(items: list[OrderItem] | None) -> list[OrderItem] | None:
    """A refund names a line by its id: two lines of one id is a 422 naming the second."""
    seen: set[str] = set()
    for k, line_id in enumerate(line_ids(items)):
        if line_id in seen:
            raise ValueError(f"items[{k}].line_id: {line_id!r} names another line too")
        seen.add(line_id)
    return items


def items_within(items: list[OrderItem] | None, info: ValidationInfo, amount_field: str) -> list[OrderItem] | None:
    """An order's lines sum to at most its amount (absent from `info` when the amount itself failed)."""
    amount = info.data.get(amount_field)
    total = sum(item.amount_minor for item in items or [])
    if amount is not None and total > amount:
        raise ValueError(f"the items sum to {total}, more than {amount_field} ({amount})")
    return items


# Money that may be 0 (a line given free, a cart paid in full by coupons and points).
Money = Annotated[int, Strict(), Field(ge=0, le=10**12, description="integer minor units, an integer literal")]
MAX_CART_COUPONS = 10


class CheckoutItem(Body):
    line_id: Id = Field(description="unique in the cart; a refund by line names it")
    sku: Id
    category: Id | None = None
    quantity: Annotated[int, Strict(), Field(ge=1, le=10**6)] = Field(
        description="the line's amount, `unit_price_minor` x `quantity`, is at most 10^12"
    )
    unit_price_minor: Money
    member_price_minor: Money | None = Field(
        None, description="the catalogue's member price of one unit, at most `unit_price_minor`"
    )


class CheckoutBody(Body):
    items: list[CheckoutItem] = Field(
        min_length=1, max_length=MAX_ORDER_ITEMS, description="1 to 100 lines, `line_id` unique in the cart"
    )
    store_id: Id | None = None
    channel: Id | None = None
    scene: Id | None = None
    coupon_ids: list[Id] = Field(
        [],
        max_length=MAX_CART_COUPONS,
        description=f"the member's coupons to apply, in this order (at most {MAX_CART_COUPONS}, each once): an id "
        "that is not one of this member's coupons is a 422 naming it",
    )
    points_to_use: Annotated[int, Strict(), Field(ge=0, le=10**12)] = Field(
        0, description="at most `points_usable_max`: above it a 422 naming points_to_use with `max`"
    )


class Discount(Model):
    source: str = Field(description="member_price, campaign:{id}, coupon:{coupon_id} or points")
    amount_minor: int


class CheckoutLine(Model):
    line_id: str
    sku: str
    quantity: int
    unit_price_minor: int
    amount_minor: int
    discounts: list[Discount]
    payable_minor: int


class CouponApplied(Model):
    coupon_id: str
    applied: Literal[True]
    discount_minor: int = Field(description="its money off the cart")


class CouponRefused(Model):
    coupon_id: str
    applied: Literal[False]
    reason: str = Field(description="why it does not apply (it is then not held)")


class CampaignDiscount(Model):
    campaign_id: str
    discount_minor: int


class CampaignSkipped(Model):
    campaign_id: str
    reason: str


class Gift(Model):
    sku: str
    quantity: int
    campaign_id: str


class CheckoutView(Model):
    checkout_id: str
    status: Literal["open", "confirmed", "cancelled", "expired", "preview"]
    expires_at: datetime | None = Field(
        None, description="until when its coupons and points are held (none: a preview)"
    )
    lines: list[CheckoutLine]
    subtotal_minor: int
    discount_minor: int
    points_used: int
    points_value_minor: int
    total_minor: int
    points_usable_max: int
    points_to_earn: int
    coupons: list[CouponApplied | CouponRefused]
    campaigns: list[CampaignDiscount]
    campaigns_skipped: list[CampaignSkipped]
    gifts: list[Gift] = Field([], description="a gift with purchase: what the till adds at no charge")
    order_id: str | None = Field(None, description="confirmed: the order it settled as")


class CheckoutConfirm(Body):
    order_id: Id
    amount_paid_minor: Money = Field(
        description="the checkout's `total_minor` as priced now; another is a 409 checkout_changed"
    )
    paid_at: Instant | None = Field(None, description="default: now")


class CheckoutCancelled(Model):
    checkout_id: str
    status: Literal["cancelled"]


class RefundLine(Body):
    line_id: Id
    quantity: Annotated[int, Strict(), Field(ge=1, le=10**6)]


class Refund(Body):
    """Either an amount (`amount_minor`) or units of the order's lines (`items`), exactly one."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["amount_minor"], "properties": {"amount_minor": {"type": "integer"}}},
                {"required": ["items"], "properties": {"items": {"type": "array"}}},
            ]
        }
    )

    refund_id: Id
    order_id: Id
    amount_minor: Amount | None = None
    items: list[RefundLine] | None = Field(
        None,
        min_length=1,
        max_length=MAX_ORDER_ITEMS,
        description="units of the order's lines refunded (each line once): their share of each line's paid amount; "
        "more units than bought, counting earlier refunds, is a 409 limit_reached naming items[i]",
    )
    refunded_at: Instant | None = Field(
        None, description="default now; not before the order's paid_at (beyond 5 minutes of clock drift: 422)"
    )

    @field_validator("items")
    @classmethod
    def _each_line_once(cls, items: list[RefundLine] | None) -> list[RefundLine] | None:
        seen: set[str] = set()
        for k, line in enumerate(items or []):
            if line.line_id in seen:
                raise ValueError(f"items[{k}].line_id: {line.line_id!r} named twice")
            seen.add(line.line_id)
        return items

    @model_validator(mode="after")
    def _one_kind(self) -> "Refund":
        if (self.amount_minor is None) == (self.items is None):
            raise ValueError("give exactly one of amount_minor or items")
        return self


MAX_ATTRIBUTE = 256  # characters of an activity attribute's value
# pydantic writes dict[Id, ...] as patternProperties alone, which lets any other key through with any
# value in the document; the model refuses such a key, and so does the document (as http/docs does a program's).
_ATTRIBUTES = Field(max_length=10, json_schema_extra={"additionalProperties": False})


class ActivityMe(Body):
    activity_id: Id
    type: Id = Field(
        description="one of the program's activity types (`points.activities`; the document cannot list them): "
        "another is a 422 naming type"
    )
    object_id: Id | None = Field(
        None, description="what the activity was about (the product reviewed, the post shared): `activity.object_id`"
    )
    attributes: Annotated[dict[Id, Annotated[Text, Field(max_length=MAX_ATTRIBUTE)]], _ATTRIBUTES] | None = Field(
        None, description="at most 10 string attributes (keys are ids): `activity.attributes`"
    )


class Activity(ActivityMe):
    at: Instant | None = None


class Deduction(Body):
    order_id: Id
    order_amount_minor: Amount
    points: Annotated[int, Strict(), Field(ge=1, le=10**9)]


class Redeem(Body):
    """Either a reward from the program (`reward_id`, `quantity`) or points off an order (`deduction`)."""

    # Exactly one of the two, as the document says it (a null counts as absent, as it does in _one_kind).
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["reward_id"], "properties": {"reward_id": {"type": "string"}}},
                {"required": ["deduction"], "properties": {"deduction": {"type": "object"}}},
            ]
        }
    )

    redemption_id: Id
    reward_id: Id | None = None
    quantity: Annotated[
        int,
        Strict(),
        Field(
            ge=1,
            le=100,
            description=(
                "units of the reward, at most 100; and quantity x the reward's coupons per unit "
                f"(`grant.coupons`) at most {MAX_REDEEMED_COUPONS}, since one redemption is one DynamoDB "
                f"transaction (100 items): {MAX_REDEEMED_COUPONS} of a one-coupon reward, "
                f"{MAX_REDEEMED_COUPONS // 2} of a two-coupon one; one coupon less for a reward with a "
                "`grant.budget` (its counter is one more item). More is a 422 naming quantity."
            ),
        ),
    ] = 1
    deduction: Deduction | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Redeem":
        if (self.reward_id is None) == (self.deduction is None):
            raise ValueError("give exactly one of reward_id or deduction")
        return self


class TierEvaluation(Body):
    at: Instant | None = Field(None, description="evaluate as of this time (default: now)")


class CouponUseBody(Body):
    order_id: Id
    order_amount_minor: Amount
    scene: Id | None = Field(None, description="the order's scene: a scene card's coupons need theirs")
    items: list[OrderItem] | None = Field(
        None,
        max_length=MAX_ORDER_ITEMS,
        description=(
            "the order's lines (at most 100, summing to at most `order_amount_minor`); needed for a coupon"
            " whose template has `applies_to` (without them a 422 naming items): its discount and its"
            " `min_spend_minor` then count only the matching lines' amount_minor, and an order with no"
            " matching line is a 409 coupon_unavailable. Other coupons ignore them"
        ),
    )

    @field_validator("items")
    @classmethod
    def _within_the_order(cls, items: list[OrderItem] | None, info: ValidationInfo) -> list[OrderItem] | None:
        return items_within(items, info, "order_amount_minor")


class CardPurchase(Body):
    payment_id: Id
    plan_id: Id
    amount_paid_minor: Amount = Field(description="the plan's price (`paid_cards[].price_minor`); another is a 422")
    paid_at: Instant | None = Field(
        None,
        description="default now; at most the plan's refund_days (at least 1) back, not before the card's start "
        "or latest payment, and not for a card already over: else a 422",
    )


Tags = Annotated[list[Id], Field(max_length=MAX_TAGS)]


class TagsChange(Body):
    """Tags to add to and remove from the member; a tag held already (or not held) is no change, so a
    repeat of the same request answers the same tags."""

    add: Tags = Field([], description=f"tags to add; a member holds at most {MAX_TAGS} (more is a 422 naming add)")
    remove: Tags = Field([], description="tags to remove; a tag in both add and remove is a 422 naming remove")

    @field_validator("remove")
    @classmethod
    def _not_added(cls, remove: list[str], info: ValidationInfo) -> list[str]:
        both = sorted(set(remove) & set(info.data.get("add") or []))
        if both:
            raise ValueError(f"tags both added and removed: {', '.join(both)}")
        return remove


class CardRefund(Body):
    refund_id: Id
    payment_id: Id | None = Field(None, description="the payment to refund (default: the card's latest)")
    refunded_at: Instant | None = None


# ---- responses -----------------------------------------------------------------------------------


class ErrorDetail(Model):
    code: str
    message: str
    details: list[dict[str, Any]] = Field(
        description="what is wrong: `{field, message}` per field, or figures such as `{needed, available}`"
    )


class ErrorBody(Model):
    error: ErrorDetail


class GatewayMessage(Model):
    """API Gateway's own answer, given before any function runs: a member route without a token
    (401), a body over its 10 MB limit (413). The local runtime answers the same."""

    message: str


class ProgramSaved(Model):
    program_id: str
    version: int
    warnings: list[dict[str, str]] = []


class ProgramVersionInfo(Model):
    version: int
    saved_at: datetime
    saved_by: str | None = Field(None, description="who saved the document (a PUT's caller, a draft's last saver)")
    published_by: str | None = Field(None, description="who made it live (a PUT's, a publish's or a restore's caller)")
    restored_from: int | None = Field(None, description="the version a restore copied")
    draft_id: str | None = Field(None, description="the draft a publish made live")


class ProgramVersions(Model):
    program_id: str
    versions: list[ProgramVersionInfo] = Field(description="newest first")
    next_cursor: str | None


class ProgramVersion(ProgramVersionInfo):
    program_id: str
    document: dict[str, Any] = Field(description="the document as saved in that version")


class DraftView(Model):
    program_id: str
    draft_id: str
    document: dict[str, Any] = Field(description="the draft's document (valid: a PUT refuses an invalid one)")
    base_version: int = Field(description="the live version at the draft's first save (0: no live version then)")
    revision: int = Field(description="1 at the first save, one more at each")
    saved_at: datetime
    saved_by: str | None = None
    published_version: int | None = Field(None, description="the version the draft's last publish made")
    problems: list[dict[str, Any]] = Field(description="always empty: a draft with problems is not saved (422)")


class DraftPublish(Body):
    force: Annotated[bool, Strict()] = Field(
        False, description="publish even though the live version moved since the draft's base (true or false only)"
    )


class ShadowStart(Body):
    until: Instant = Field(description="when the shadow run stops; in the future")


class ShadowStarted(Model):
    program_id: str
    draft_id: str
    until: datetime
    revision: int = Field(description="the draft's revision the run evaluates (a later save does not change it)")


class ShadowSide(Model):
    points: int
    coupons: int
    discount_minor: int
    members_reached: int
    cost_minor: int


class ShadowSides(Model):
    draft: ShadowSide
    live: ShadowSide


class ShadowCampaign(ShadowSides):
    campaign_id: str


class ShadowReport(Model):
    program_id: str
    draft_id: str
    events: int = Field(description="the live events evaluated against the draft")
    total: ShadowSides
    campaigns: list[ShadowCampaign]


class TierProgress(Model):
    metric: Literal["spend", "orders", "growth"]
    value: int
    next_tier: str | None
    needed: int


class TierView(Model):
    id: str
    name: str
    since: datetime | None
    progress: TierProgress


class Expiring(Model):
    points: int
    expires_on: str


class PendingPoints(Model):
    points: int
    available_on: str = Field(description="the program-local day they become spendable")
    ref: str = Field(description="the order that gave them (order:<order_id>)")


class PointsView(Model):
    balance: int
    lifetime_earned: int
    owed: int = Field(
        0, description="points refunds could not take back (spent already): points given back settle them first"
    )
    held: int = Field(
        0, description="of the balance, what open checkouts hold (not spendable elsewhere until they end)"
    )
    expiring: list[Expiring]
    pending: list[PendingPoints] = Field(
        [], description="purchases' points inside the return window (points.pending_days): not in the balance"
    )


class CardView(Model):
    plan_id: str
    active_until: datetime
    active_from: datetime | None = None
    kind: Literal["identity", "light"] | None = None
    cycles_issued: int = 0


class RfmView(Model):
    recency: int | None = Field(description="1-5; null for a member who never bought")
    frequency: int | None
    monetary: int | None
    segment: str = Field(description="champions, loyal, promising, needs_attention, at_risk, hibernating, prospect")


class OpenCheckout(Model):
    checkout_id: str
    expires_at: datetime = Field(description="when its holds end, unless it is confirmed or cancelled first")
    points: int = Field(description="the points it holds")
    coupon_ids: list[str] = Field(description="the coupons it holds")


class WalletBalance(Model):
    balance: int


class WalletExpiring(Model):
    amount: int
    expires_on: str


class WalletView(WalletBalance):
    owed: int = Field(0, description="what refunds could not take back (spent already): given back amounts settle it")
    expiring: list[WalletExpiring] = Field([], description="what expires when, by the wallet's own policy")


class BlockedView(Model):
    at: datetime = Field(description="when the member was blocked")
    reason: str


class FlagView(Model):
    kind: Literal["max_orders_per_day", "max_points_per_day"] = Field(
        description="the `abuse` limit the member went past"
    )
    at: datetime = Field(description="when the order that went past it was written")
    day: str = Field(description="the program-local day (YYYY-MM-DD) the limit counts")


class MemberView(Sparse):
    _sparse = ("wallets",)

    program_id: str
    member_id: str
    enrolled_at: datetime
    last_purchase_at: datetime | None
    lifecycle_stage: Literal["new", "active", "at_risk", "dormant", "recalled"]
    tier: TierView | None
    points: PointsView
    paid_cards: list[CardView]
    rfm: RfmView | None = Field(None, description="when the program scores RFM")
    birthday: str | None = None
    channel: str | None = None
    growth: int | None = Field(
        None, description="growth value over the tier window, when the program counts growth (`tiers.growth`)"
    )
    tags: list[str] = Field([], description="the member's tags, sorted")
    wallets: dict[str, WalletView] = Field({}, description="each wallet of the program (stamps...): its balance")
    counters: dict[str, int] = Field(
        {}, description="each counter of the program (`counters`): its count in the current program-local period"
    )
    checkouts: list[OpenCheckout] = Field(
        [],
        description="the member's open checkouts and what each holds, soonest to end first (an addition to the "
        "contract; `points.held` counts their points)",
    )
    blocked: BlockedView | None = Field(
        None, description="null unless blocked: a blocked member earns and spends nothing"
    )
    flags: list[FlagView] = Field(
        [], description="the `abuse` limits the member went past, oldest first (the latest 50)"
    )


class MemberTags(Model):
    program_id: str
    member_id: str
    tags: list[str] = Field(description="the member's tags after the change, sorted")


class MemberReferralCode(Model):
    code: str = Field(description="the member's referral code: stable, 10 characters without 0/O/1/I/L")


class ReferralRewards(Model):
    points: int = Field(description="points both sides were credited for referrals (pending ones once credited)")
    coupons: int = Field(description="coupons both sides were issued for referrals")


class TopReferrer(Model):
    member_id: str
    converted: int


class ReferralFigures(Model):
    program_id: str
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    enrolled: int = Field(description="referees enrolled (with a referral code) in the range")
    converted: int = Field(description="referrals converted in the range: referees rewarded")
    cancelled: int = Field(description="converted referrals a refund inside the return window cancelled")
    rewards: ReferralRewards
    refused: dict[str, int] = Field(
        description="refusals by reason: self, shared_fingerprint, max_per_fingerprint (the referee's side), "
        "per_referrer, budget, blocked_referrer (the referrer's side)"
    )
    top_referrers: list[TopReferrer] = Field(description="the referrers who converted the most referees, at most 10")


class CouponView(Model):
    coupon_id: str
    template_id: str
    name: str
    status: Literal["available", "used", "expired"] = Field(
        description="`available` includes a coupon not valid yet: `valid_from` says when it becomes usable"
    )
    usable_now: bool | None = Field(
        None,
        description="in the wallet and the enrolment's answer: `false` for an available coupon before its "
        "`valid_from` (the till refuses it as not yet valid), `true` when the till would take it now",
    )
    kind: str
    value_minor: int
    min_spend_minor: int
    valid_from: datetime
    valid_until: datetime
    source: str
    percent_off: int | None = None
    max_off_minor: int | None = None


class Coupons(Model):
    coupons: list[CouponView]


class Enrolled(MemberView):
    coupons: list[CouponView] = Field(
        [], description="the coupons the enrolment issued (the welcome pack, enrolment campaigns), as they are now"
    )


class LedgerEntryView(Sparse):
    _sparse = ("wallet",)

    entry_id: str
    type: str
    points: int
    balance_after: int
    at: datetime
    ref: str | None
    reason: str | None = Field(
        None, description="why, where known: an adjustment's reason, `campaign:<ids>`, the sweep kind, a refund"
    )
    actor: str | None = Field(None, description="an adjustment's actor")
    agent: str | None = Field(None, description="an adjustment's agent, as its request named it")
    wallet: str | None = Field(
        None, description="a wallet's entry (stamps...): `points` and `balance_after` are in that wallet; none: points"
    )


class Ledger(Model):
    entries: list[LedgerEntryView]
    next_cursor: str | None


# Exact numbers print in one form: a decimal with no exponent and no trailing zeros ("2", "3.6",
# "38.5"), or "p/q" in lowest terms when no decimal is exact ("10/3").
ExactText = Annotated[str, Field(examples=["38.5", "77", "10/3"])]
DecimalText = Annotated[str, Field(examples=["2", "1.2", "3.6"])]


class CampaignGiven(Sparse):
    _sparse = ("wallets",)

    campaign_id: str
    points: int = Field(0, description="points it added (a multiplier: its extra over what the order earned)")
    coupons: list[str] = Field([], description="coupon templates it issued")
    growth: int = 0
    tags: list[str] = []
    untags: list[str] = []
    multiplier: DecimalText | None = Field(None, description="an order-level multiply_points")
    wallets: dict[str, int] = Field({}, description="wallet amounts it gave (wallet id -> amount)")


class PurchaseBreakdown(Model):
    """How `earned` came about: `base_exact` x `multiplier` = `earned_exact`, rounded down once.

    The fields after `first_order_bonus` are null in a repeat of an order first credited before they
    existed (a repeat returns the first result)."""

    # Open: later sources of points (campaigns) add their own parts without dropping any.
    model_config = ConfigDict(extra="allow")  # merged with Model's (defer_build stays)

    base: int = Field(description="the order's points at 1x, rounded down on their own (not an input to `earned`)")
    multiplier: DecimalText = Field(description="the multipliers combined by `stacking`")
    multipliers: dict[str, DecimalText] = Field(description="every multiplier that applied, by source")
    earned: int = Field(description="`earned_exact` rounded down")
    first_order_bonus: int = 0
    base_exact: ExactText | None = Field(None, description="amount_minor x points_per_unit / unit_minor, unrounded")
    earned_exact: ExactText | None = Field(None, description="base_exact x multiplier, before the one rounding")
    stacking: Literal["max", "multiply"] | None = None
    rounding: Literal["down"] | None = None
    calculation: str | None = Field(None, description="the arithmetic in words, for people")
    campaigns: list[CampaignGiven] = Field([], description="each campaign that applied and what it gave")


class PurchaseResult(Model):
    order_id: str
    points_earned: int
    breakdown: PurchaseBreakdown
    balance: int
    tier: str | None
    tier_changed: bool
    coupons: list[CouponView] = []
    growth: int = Field(0, description="the growth value this order gave")


class UsableCoupon(CouponView):
    discount_minor: int = Field(description="what it would take off this order")


class CheckoutConfirmed(PurchaseResult):
    """The purchase's result, and the checkout as settled."""

    checkout: CheckoutView


class QuoteResult(PurchaseResult):
    """The purchase's result as it would be, with nothing written."""

    usable_coupons: list[UsableCoupon] = Field(description="the member's coupons usable on this order")
    campaigns_skipped: list[CampaignSkipped] = Field(
        [],
        description="the campaigns the purchase would not apply, with why: `condition not met`, `limit reached`,"
        " `budget spent`, `not active`, `excluded by <campaign>`",
    )


class RefundResult(Sparse):
    _sparse = ("wallets_reversed", "wallets_unrecovered")

    refund_id: str
    order_id: str
    points_reversed: int
    balance: int
    pending_cancelled: int = Field(
        0, description="pending points cancelled (a refund inside the window): the order's, and its referral's"
    )
    points_unrecovered: int = Field(0, description="points already spent, so not taken back")
    tier: str | None = Field(None, description="the member's tier after the refund")
    tier_changed: bool = Field(False, description="the refund undid the upgrade its order gave")
    coupons_revoked: list[str] = Field(
        [],
        description="unused coupons taken back: the undone upgrade's gift; a full refund's, the order's campaigns';"
        " a cancelled referral's",
    )
    coupons_unrecovered: list[str] = Field(
        [], description="coupons of the undone upgrade's gift or a cancelled referral already used, so not taken back"
    )
    growth_reversed: int = Field(0, description="the order's growth value taken back, in proportion")
    campaigns: list[CampaignGiven] = Field(
        [], description="each campaign the refund set off (its own, its tier change's) and what it gave"
    )
    amount_minor: int = Field(0, description="the money this refund refunded (by lines: those units' share)")
    points_restored: int = Field(
        0, description="points the order was paid with given back, in proportion, into the buckets they came from"
    )
    points_lapsed: int = Field(0, description="of those, points whose bucket has expired since: not given back")
    coupons_restored: list[str] = Field(
        [], description="a full refund: the coupons the order used, available again (those still valid)"
    )
    wallets_reversed: dict[str, int] = Field(
        {}, description="wallet amounts the order's campaigns gave, taken back in proportion (never below 0)"
    )
    wallets_unrecovered: dict[str, int] = Field(
        {}, description="of what was owed back, wallet amounts already spent: the member owes them (`owed`)"
    )


class ActivityResult(Model):
    activity_id: str
    points_earned: int
    balance: int
    growth: int = Field(0, description="the growth value this activity gave")
    tier: str | None = Field(None, description="the member's tier after the activity")
    tier_changed: bool = Field(False, description="the activity's growth reached a higher tier")
    coupons: list[CouponView] = Field([], description="the coupons it issued (an upgrade gift, campaigns)")
    streak_days: int = Field(
        0,
        description=(
            "consecutive program-local days with this activity type, this one's day included "
            "(0 in a repeat of an activity first credited before streaks were counted)"
        ),
    )
    campaigns: list[CampaignGiven] = Field([], description="each campaign that applied and what it gave")


class RedemptionResult(Sparse):
    _sparse = ("wallet_spent", "wallets")

    redemption_id: str
    points_spent: int
    balance: int
    coupons: list[CouponView] = []
    reward_id: str | None = None
    quantity: int = 1
    fulfilment: Literal["coupon", "goods", "service", "donation", "deduction"]
    cash_minor: int = Field(0, description="money the member still pays for a points + cash reward, for the till")
    deduction_minor: int = Field(0, description="money off the order for a deduction at checkout")
    wallet_spent: dict[str, int] = Field({}, description="a reward priced in a wallet (`cost`): wallet id -> amount")
    wallets: dict[str, WalletBalance] = Field({}, description="the balance after of each wallet it spent from")


class RedemptionCancel(Body):
    """No fields: the cancel names its redemption in the path (its request fingerprint, for once)."""


class RedemptionCancelled(Sparse):
    _sparse = ("wallet_restored", "wallet_lapsed", "wallet_reversed")

    redemption_id: str
    status: Literal["cancelled"]
    points_restored: int = Field(description="points given back into the buckets they were spent from")
    points_lapsed: int = Field(description="points spent from buckets that have expired since: not given back")
    points_reversed: int = Field(
        0, description="points the redemption's campaigns gave, taken back (no lower than a balance of 0)"
    )
    coupons_revoked: list[str] = Field([], description="the redemption's coupons, unused, taken back")
    wallet_restored: dict[str, int] = Field({}, description="wallet amounts it paid, given back (wallet id -> amount)")
    wallet_lapsed: dict[str, int] = Field({}, description="of those, amounts whose bucket has expired since")
    wallet_reversed: dict[str, int] = Field({}, description="wallet amounts its campaigns gave, taken back")


class CouponUseResult(Model):
    coupon_id: str
    discount_minor: int
    order_id: str
    kind: str


class CardPurchaseResult(Model):
    card: CardView
    coupons: list[CouponView]
    payment_id: str
    extended: bool = Field(description="the payment extended a card of the same plan that was active")
    points_granted: int = 0
    balance: int


class CardRefundResult(Model):
    refund_id: str
    payment_id: str
    plan_id: str
    refund_minor: int = Field(description="the money to give back: the payment net of benefits already used")
    used_minor: int = Field(description="face value of the payment's benefits already used")
    points_reversed: int
    coupons_revoked: list[str]
    card: CardView | None = Field(description="the card after the refund; null when it ended")
    balance: int


class RoiRow(Model):
    redemption_rate_percent: int
    benefits_cost_minor: int
    net_minor: int = Field(description="price minus the cost of the benefits redeemed")
    roi_percent: int | None = Field(description="net over cost; null when the benefits cost nothing")


class PlanRoi(Model):
    plan_id: str
    price_minor: int
    benefits_face_minor: int = Field(description="face value of everything one payment brings")
    rows: list[RoiRow]


class RoiTable(Model):
    program_id: str
    version: int
    plans: list[PlanRoi]
    warnings: list[dict[str, str]] = []


class Liability(Model):
    points: int
    worth_minor: int
    pending: int = Field(0, description="purchases' points inside the return window, apart from `points`")


class DiscountsBySource(Model):
    """Confirmed checkouts' money off, in minor units, by source (rules/checkout.SOURCES)."""

    member_price: int
    campaigns: int
    coupons: int
    points: int


class HealthFigures(Model):
    program_id: str
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    months: list[str] = Field(description="the months the member-counting rates cover (whole months)")
    members: int
    new_members: int
    active_rate: float | None = Field(description="members who bought in the range's months / members")
    coupon_redemption_rate: float | None
    points_consumption_rate: float | None
    repurchase_rate: float | None = Field(description="members with a second order in a month / buyers")
    member_gmv_minor: int
    orders: int
    members_flagged: int = Field(
        0, description="members an `abuse` limit flagged, per program-local day of the range (one twice on two days: 2)"
    )
    discount_minor: DiscountsBySource
    points_liability: Liability
    members_per_tier: dict[str, int]
    members_per_segment: dict[str, int]
    clv_minor: int = Field(description="member GMV to date per member")
    guest_gmv_minor: int = Field(0, description="non-members' orders (guest orders) recorded in the range")
    member_gmv_share: float | None = Field(None, description="member GMV / (member GMV + guest GMV)")
    guest_customers: int = Field(
        0,
        description="distinct guest customer_refs of the range, each on the day its first guest order was recorded",
    )
    converted_guests: int = Field(0, description="of those, the ones a member enrolled with in the range")
    conversion_rate: float | None = Field(None, description="converted_guests / guest_customers")
    new_members_by_channel: dict[str, int] = Field(
        {}, description="members enrolled in the range by `channel` (members without one are not in it)"
    )

    model_config = ConfigDict(populate_by_name=True)


class GuestOrder(Body):
    order_id: Id = Field(description="unique in the program with members' orders: an id used by either is taken")
    amount_minor: Amount
    paid_at: Instant | None = Field(
        None, description="default: now; kept as sent (the figures count the order on the day it is recorded)"
    )
    customer_ref: Id | None = Field(None, description="the brand's customer reference, if it knows the customer")


class GuestOrderResult(Model):
    program_id: str
    order_id: str
    amount_minor: int
    paid_at: datetime
    customer_ref: str | None
    recorded_at: datetime = Field(description="when it was recorded: the day the figures count it on")


class HealthDay(Model):
    day: str
    members: int = Field(description="members at the end of the day")
    new_members: int
    members_erased: int
    orders: int
    member_gmv_minor: int
    points_earned: int
    points_redeemed: int
    points_expired: int
    points_reversed: int
    points_adjusted: int = Field(description="signed: adjustments, imports, erasures")
    points_restored: int = Field(
        0, description="points spent that came back (a refund of an order paid with points, a redemption cancelled)"
    )
    coupons_issued: int
    coupons_used: int
    discount_minor: DiscountsBySource
    points_liability: int = Field(description="points outstanding at the end of the day")


class HealthSeries(Model):
    program_id: str
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    days: list[HealthDay]

    model_config = ConfigDict(populate_by_name=True)


class Interval(Model):
    estimate: float
    low: float = Field(description="the 95% confidence interval's lower end")
    high: float


class Uplift(Model):
    spend_per_member_minor: Interval = Field(description="the arm's spend per member less the holdout's (Welch's t)")
    repurchase_rate: Interval = Field(description="the arm's repurchase rate less the holdout's (two-proportion Wald)")


class ExperimentArm(Sparse):
    _sparse = ("uplift",)

    arm: str = Field(description='"holdout", a variant id, or "main" (the campaign without variants)')
    members_exposed: int = Field(description="members who met the campaign in this arm (first exposure counted once)")
    cost_minor: int = Field(description="its points at the point value (rounded down) + its coupons' face value")
    orders_per_member: float = Field(description="orders after each member's first exposure, per member exposed")
    spend_per_member_minor: float = Field(description="their amount (not net of refunds), per member exposed")
    repurchase_rate: float = Field(description="the share of members exposed with 2 or more orders after exposure")
    uplift: Uplift | None = Field(None, description="over the holdout; none on the holdout, or under 2 members a side")


class ExperimentReport(Model):
    program_id: str
    campaign_id: str
    arms: list[ExperimentArm]


class CampaignFigures(Model):
    program_id: str
    campaign_id: str
    applications: int = Field(description="times it applied (counted from the stream: a moment behind)")
    members_reached: int
    points_given: int
    coupons_given: int
    growth_given: int = 0
    discount_minor: int = Field(0, description="a checkout campaign's money off, summed")
    orders: int = Field(
        0, description="the orders it applied to: purchases, and a checkout campaign's confirmed checkouts"
    )
    points_reversed: int = Field(0, description="of its points, what refunds of the orders it applied to took back")
    coupons_revoked: int = Field(0, description="of its coupons, those revoked by a full refund of their order")
    coupons_used: int = Field(0, description="of its coupons, those used (less those a refund made available again)")
    coupons_used_minor: int = Field(0, description="the money its used coupons took off (face value if none recorded)")
    gmv_minor: int = Field(0, description="the amount of the orders it applied to, net of their refunds")
    cost_minor: int = Field(
        0,
        description=(
            "points_given - points_reversed at the program's point value (rounded down) + coupons_used_minor "
            "+ discount_minor"
        ),
    )
    budget_left: dict[str, int] | None = Field(
        description="what each budget (points, coupons, members) has left, read where it is taken; null: no budget"
    )


class CampaignDayFigures(Model):
    """A campaign's figures counted on one program-local day (refunds count on the day they happen)."""

    date: str = Field(description="YYYY-MM-DD, in the program's time zone")
    applications: int
    members_reached: int = Field(description="members it applied to for the first time")
    points_given: int
    coupons_given: int
    growth_given: int
    discount_minor: int
    orders: int = Field(description="orders it applied to: purchases and confirmed checkouts")
    points_reversed: int
    coupons_revoked: int
    coupons_used: int
    coupons_used_minor: int
    gmv_minor: int
    cost_minor: int


class CampaignReportRow(Model):
    campaign_id: str
    name: str
    trigger: str
    status: Literal["scheduled", "running", "ended", "budget_spent"] = Field(
        description="scheduled: before its `active.from`; ended: from its `active.until`; budget_spent: in its "
        "window with a budget that has nothing left; running: otherwise (now, not at the range's end)"
    )
    applications: int
    members_reached: int
    points_given: int
    coupons_given: int
    growth_given: int
    discount_minor: int
    orders: int
    points_reversed: int
    coupons_revoked: int
    coupons_used: int
    coupons_used_minor: int
    gmv_minor: int
    cost_minor: int = Field(description="the range's cost, from the range's summed figures")
    budget_left: dict[str, int] | None = Field(description="what each budget has left now; null: no budget")
    days: list[CampaignDayFigures] = Field(description="the days of the range that counted anything, oldest first")


class CampaignReport(Model):
    program_id: str
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    campaigns: list[CampaignReportRow] = Field(description="every campaign of the program, in the document's order")

    model_config = ConfigDict(populate_by_name=True)


class TierEvaluationResult(Model):
    tier: str | None
    tier_changed: bool
    from_: str | None = Field(alias="from", serialization_alias="from")
    to: str | None

    model_config = ConfigDict(populate_by_name=True)


class Adjust(Body):
    """A support agent's correction of the balance: credit (positive) or debit (negative), never below zero."""

    adjustment_id: Id
    points: Annotated[
        int,
        Strict(),
        Field(
            ge=-(10**9),
            le=10**9,
            description="signed, not 0: a credit or a debit",
            json_schema_extra={"not": {"const": 0}},
        ),
    ]
    reason: Annotated[Reason, Field(description="why: kept on the ledger entry")]
    actor: Annotated[Text, Field(min_length=1, max_length=128)] | None = Field(
        None,
        description="the agent who asked (a desk's name), kept on the ledger entry as `agent`; the entry's"
        " `actor`, like the audit item's, is always the request's principal",
    )

    @field_validator("points")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must not be 0")
        return value


class Block(Body):
    """Why the member is blocked (kept on the member, shown in its view)."""

    reason: Annotated[Reason, Field(description="why: shown as `blocked.reason`")]


class AdjustmentResult(Model):
    adjustment_id: str
    member_id: str
    points: int = Field(description="signed, as sent")
    balance: int
    entry: LedgerEntryView


class AuditEntryView(Model):
    at: datetime
    what: str = Field(description="the write: order, refund, activity, redemption, adjustment, enrolment, tags...")
    client_id: str | None = Field(description="the client's id of the write (order_id, adjustment_id...)")
    actor: str = Field(description="the IAM principal, `member:<sub>` for a member's own write, or `local`")


class AuditTrail(Model):
    entries: list[AuditEntryView]
    next_cursor: str | None


class Erased(Model):
    """An erasure's result (DELETE .../members/{member_id}); a repeat answers the same."""

    program_id: str
    member_id: str = Field(description="the id erased; nothing in the table links it to the pseudonym any more")
    erased_at: datetime
    points_removed: int = Field(description="the balance taken out of the points liability (an `adjust` entry)")
    coupons_revoked: int = Field(description="unused coupons revoked")


# ---- bulk import --------------------------------------------------------------------------------------

IMPORT_BATCH_LINES = 500


class ImportBucket(Body):
    points: Annotated[int, Strict(), Field(ge=1, le=MAX_IMPORTED_POINTS)]
    expires_on: Day | None = Field(
        None,
        description="the last day the points are good (program time); null: never. A day already past: "
        "the points are recorded and expire at once",
    )


class ImportMember(Body):
    """One member of an existing base (one line of an import file, one element of a batch)."""

    member_id: Id
    enrolled_at: Instant = Field(description="the original enrolment (not in the future)")
    birthday: Birthday | None = Field(None, description="YYYY-MM-DD or MM-DD")
    channel: Id | None = None
    tier_id: Id | None = Field(
        None,
        validation_alias=AliasChoices("tier_id", "tier"),
        description="a level of the program's tiers; default: the first (also read as `tier`)",
    )
    tier_since: Instant | None = Field(None, description="default: enrolled_at")
    points: list[ImportBucket] = Field(
        [],
        max_length=50,
        validation_alias=AliasChoices("points", "buckets"),
        description="the balance as expiry buckets (at most 50: one transaction per member; also read as "
        "`buckets`); a plain number here is read as `balance`",
    )
    balance: Annotated[int, Strict(), Field(ge=0, le=MAX_IMPORTED_POINTS)] | None = Field(
        None, description="points without known expiry dates: credited with the program's expiry from today"
    )
    lifetime_earned: Annotated[int, Strict(), Field(ge=0, le=10**12)] | None = Field(
        None, description="default: the points imported; never less than them"
    )
    lifetime_spend_minor: Annotated[int, Strict(), Field(ge=0, le=10**15)] = 0
    orders_total: Annotated[int, Strict(), Field(ge=0, le=10**9)] = 0
    last_purchase_at: Instant | None = None
    tags: list[Id] = Field([], max_length=MAX_TAGS)

    @model_validator(mode="before")
    @classmethod
    def _plain_balance(cls, data: Any) -> Any:
        """`points: 500` is a balance without expiry dates (what a simple export holds)."""
        plain = isinstance(data, dict) and isinstance(data.get("points"), int) and not isinstance(data["points"], bool)
        if plain and "balance" not in data:
            return {**{k: v for k, v in data.items() if k != "points"}, "balance": data["points"]}
        return data


class ImportBatch(Body):
    members: list[Any] = Field(
        min_length=1, max_length=IMPORT_BATCH_LINES, description="one ImportMember per line, at most 500"
    )


class ImportProblem(Model):
    batch: int
    line: int = Field(description="the line's number: in the file (S3), or in the batch's `members` (from 1)")
    member_id: str | None
    field: str
    message: str


class ImportBatchResult(Model):
    program_id: str
    import_id: str
    batch: int
    lines: int
    imported: int
    skipped: int = Field(description="members already enrolled (not by this import): left as they are")
    refused: int = Field(description="lines refused (each named in `problems`, with its reasons)")
    problems: list[ImportProblem] = Field(description="refused lines' reasons, and skipped lines' (field member_id)")


class ImportReport(Model):
    program_id: str
    import_id: str
    batches: int
    lines_read: int
    imported: int
    skipped: int
    refused: int
    problems: list[ImportProblem] = Field(description=f"the first {1000} problems, in batch and line order")
    truncated: bool = False


# ---- grants to an audience (usecases/grants.py) ----


class GrantAudience(Body):
    """Exactly one of tier, tag, segment, stage (as the members list filters), and an optional `when`."""

    tier: Id | None = None
    tag: Id | None = None
    segment: Id | None = Field(None, description="an RFM segment (champions, loyal, ...)")
    stage: Stage | None = None
    when: Annotated[str, Field(min_length=1, max_length=1000)] | None = Field(
        None,
        description="a CEL condition over `member` and `at` (as a campaign's `when`), checked at PUT (422 naming"
        " audience.when); evaluated on each member as its share is written",
    )

    @model_validator(mode="after")
    def _one(self) -> "GrantAudience":
        named = [a for a in ("tier", "tag", "segment", "stage") if getattr(self, a) is not None]
        if len(named) != 1:
            raise ValueError("exactly one of tier, tag, segment, stage")
        return self

    @property
    def filter(self) -> tuple[str, str]:
        return next((a, v) for a in ("tier", "tag", "segment", "stage") if (v := getattr(self, a)) is not None)


class GrantWallet(Body):
    id: Id = Field(description="a wallet of the program")
    amount: int = Field(ge=1, le=10**6, strict=True)


class GrantBody(Body):
    audience: GrantAudience
    points: int = Field(0, ge=0, le=10**6, strict=True, description="points each member gets (a `bonus` entry)")
    coupons: list[Id] = Field([], max_length=10, description="coupon templates each member gets, one of each listed")
    wallet: GrantWallet | None = None
    reason: Annotated[Reason, Field(description="why: kept on each ledger entry")]

    @model_validator(mode="after")
    def _gives(self) -> "GrantBody":
        if not (self.points or self.coupons or self.wallet):
            raise ValueError("a grant gives points, coupons or a wallet amount")
        return self


GrantStatus = Literal["queued", "running", "done", "cancelled"]


class GrantAccepted(Model):
    grant_id: str
    status: GrantStatus


class GrantSkipped(Model):
    blocked: int = 0
    erased: int = 0


class GrantReport(Model):
    program_id: str
    grant_id: str
    status: GrantStatus = Field(description="queued, running, done or cancelled (counts so far stay)")
    audience: dict[str, str]
    reason: str
    members_read: int = Field(description="audience members read from the index so far")
    members_matched: int = Field(description="of those, the enrolled ones `when` holds for (all, without `when`)")
    members_granted: int
    members_skipped: int = Field(description="matched but skipped: blocked or erased (`skipped` says which)")
    skipped: GrantSkipped
    points: int = Field(description="points given so far, over every member")
    coupons: int = Field(description="coupons issued so far, over every member")
    wallet: dict[str, int] = Field({}, description="wallet amounts given so far, by wallet id")
    pages: int = Field(description="pages of the audience done (each up to 100 members)")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = Field(None, description="when the last page was done (status done)")
    cancelled_at: datetime | None = None


class ScheduledRun(Model):
    kinds: list[str]
    at: datetime = Field(description="the run's time (the schedule's)")
    ran_at: datetime = Field(description="when the planner ran")
    planned: int = Field(description="work items it queued")
    members_settled: int = Field(0, description="members its work items have settled so far")


class QueueDepth(Model):
    waiting: int
    in_flight: int


class ScheduledWork(Model):
    runs: list[ScheduledRun] = Field(description="each planner's last run, latest first")
    queues: dict[str, QueueDepth] = Field(description="the work queue and the dead-letter queues")


class MemberList(Model):
    """A page of an audience (GET /programs/{program_id}/members?tier=|tag=|segment=|stage=)."""

    members: list[MemberView] = Field(description="member views, in member id order")
    next_cursor: str | None = Field(description="the next page's cursor; null on the last page")


# ---- the member's app (API.md "What the member's app shows") -----------------------------------------


class Lean(Model):
    """A response whose optional fields (`_lean`) are left out where None, as the contract's `reason?`."""

    _lean: ClassVar[tuple[str, ...]] = ()

    # No return annotation: with one, the OpenAPI document would describe the answer by it, not by the fields.
    @model_serializer(mode="wrap")
    def _without_none(self, handler: SerializerFunctionWrapHandler):  # noqa: ANN202
        data = handler(self)
        for key in self._lean:
            if key in data and data[key] is None:
                del data[key]
        return data


class BenefitCoupon(Model):
    template_id: str
    name: str


class BenefitView(Lean):
    _lean = ("earn_multiplier", "points", "coupons")

    kind: Literal["earn_multiplier", "upgrade_gift", "monthly_gift"]
    name: str = Field(description="the benefit in words")
    earn_multiplier: float | None = Field(None, description="earn_multiplier: the factor on purchases' points")
    points: int | None = Field(None, description="a gift's points")
    coupons: list[BenefitCoupon] | None = Field(None, description="a gift's coupons (templates)")


class TierBenefits(Model):
    id: str
    name: str
    threshold: int = Field(description="in the tier metric's unit")
    earn_multiplier: float
    benefits: list[BenefitView]


class RewardCost(Model):
    wallet: str
    amount: int


class RewardOffer(Lean):
    _lean = ("cost_points", "cost", "reason", "stock_left")

    id: str
    name: str
    cost_points: int | None = Field(None, description="its price in points (or `cost`, in a wallet)")
    cost: RewardCost | None = None
    available: bool = Field(description="whether this member can redeem one unit now")
    reason: Literal["insufficient_points", "limit_reached", "out_of_stock", "member_blocked"] | None = Field(
        None, description="why not: the code a redemption would answer"
    )
    stock_left: int | None = Field(None, description="units left, for a reward with stock")


class ActivityOffer(Model):
    type: str
    points: int
    daily_cap: int | None
    self_report: bool


class PublicCampaign(Model):
    id: str
    title: str
    description: str
    active: bool = Field(description="inside its active window now")


class MemberProgram(Model):
    name: str
    currency: str
    tiers: list[TierBenefits]
    rewards: list[RewardOffer]
    activities: list[ActivityOffer]
    campaigns: list[PublicCampaign] = Field(description="the campaigns with `public` only")


class NoticeView(Model):
    notice_id: str
    kind: str
    at: datetime
    text: str = Field(description="what happened, in words an app can show")
    points: int = 0
    expires_on: str | None = None
    plan_id: str | None = None
    active_until: datetime | None = Field(None, description="a card's end; churn_offer: the earn multiplier's end")
    coupon_ids: list[str] = []
    wallets: dict[str, int] = Field({}, description="campaign_applied, referral_reward: wallet id -> amount given")
    campaign_id: str | None = None
    ref: str | None = None
    growth: int = 0
    tags: list[str] = []
    first: bool = False
    discount_minor: int = 0
    from_tier: str | None = Field(None, description="tier_changed: the tier left (null: none before)")
    to_tier: str | None = Field(None, description="tier_changed: the tier reached")
    reason: str | None = Field(
        None, description="tier_changed: upgrade, review or refund; referral_reward: the side, referrer or referee"
    )


class Notices(Model):
    notices: list[NoticeView]
    next_cursor: str | None
