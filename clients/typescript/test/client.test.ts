import assert from "node:assert/strict";
import { test } from "node:test";

import { loyaltyClient, type Schema } from "../src/index.js";
import { baseUrl, enrolled, memberToken, programId } from "./env.js";

test("enrols a member, records a purchase, reads the member view", async () => {
  const server = loyaltyClient({ baseUrl });
  const memberId = `ts-${process.pid}-${Date.now()}`;
  const enrol = await server.POST("/programs/{program_id}/members", {
    params: { path: { program_id: programId } },
    body: { member_id: memberId, channel: "app" },
  });
  assert.equal(enrol.response.status, 201, JSON.stringify(enrol.error));
  assert.equal(enrol.data?.member_id, memberId);

  const purchase: Schema<"Purchase"> = { order_id: "o-1", amount_minor: 12_800 };
  const path = { program_id: programId, member_id: memberId };
  const bought = await server.POST("/programs/{program_id}/members/{member_id}/purchases", {
    params: { path },
    body: purchase,
  });
  assert.equal(bought.response.status, 201, JSON.stringify(bought.error));
  assert.ok(bought.data && bought.data.points_earned > 0);

  const member = loyaltyClient({ baseUrl, token: memberToken(memberId) });
  const me = await member.GET("/programs/{program_id}/me", { params: { path: { program_id: programId } } });
  assert.equal(me.response.status, 200, JSON.stringify(me.error));
  assert.equal(me.data?.member_id, memberId);
  assert.equal(me.data?.points.balance, bought.data.balance);
  const view = await server.GET("/programs/{program_id}/members/{member_id}", { params: { path } });
  assert.deepEqual(view.data, me.data);
});

test("an error answer is the contract's error shape, typed", async () => {
  const { memberId } = await enrolled("ts-error");
  const server = loyaltyClient({ baseUrl });
  const path = { program_id: programId, member_id: memberId };
  const url = "/programs/{program_id}/members/{member_id}/purchases" as const;
  await server.POST(url, { params: { path }, body: { order_id: "o-1", amount_minor: 5_000 } });
  const again = await server.POST(url, { params: { path }, body: { order_id: "o-1", amount_minor: 6_000 } });
  assert.equal(again.response.status, 409);
  // Errors are the contract's ErrorBody, or API Gateway's own `{message}` (413, 401 in AWS): narrow first.
  assert.ok(again.error && "error" in again.error);
  assert.equal(again.error.error.code, "idempotency_conflict");

  const anonymous = await loyaltyClient({ baseUrl }).GET("/programs/{program_id}/me", {
    params: { path: { program_id: programId } },
  });
  assert.equal(anonymous.response.status, 401);
});

test("a body's fields with defaults are optional to send (a grant of points alone, a plain redemption)", async () => {
  const { memberId } = await enrolled("ts-optional");
  const server = loyaltyClient({ baseUrl });
  const grant = await server.PUT("/programs/{program_id}/grants/{grant_id}", {
    params: { path: { program_id: programId, grant_id: `g-${memberId}` } },
    body: { audience: { stage: "new" }, points: 1, reason: "typed client" },
  });
  assert.ok([200, 202].includes(grant.response.status), JSON.stringify(grant.error));
  const redeemed = await server.POST("/programs/{program_id}/members/{member_id}/redemptions", {
    params: { path: { program_id: programId, member_id: memberId } },
    body: { redemption_id: "r-1", reward_id: "no-such-reward" },
  });
  assert.equal(redeemed.response.status, 404, JSON.stringify(redeemed.error));
});
