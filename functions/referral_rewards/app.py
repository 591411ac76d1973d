"""ReferralRewardsFunction: the table's stream -> each referee's conversion, the referrer's reward (once)."""

from loyalty.jobs.streams import referrals

handler = referrals()
