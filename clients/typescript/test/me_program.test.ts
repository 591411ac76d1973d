import assert from "node:assert/strict";
import { test } from "node:test";

import { enrolled, programId } from "./env.js";

test("reads the program as the member sees it", async () => {
  const { member } = await enrolled("ts-program");
  const { data, error, response } = await member.GET("/programs/{program_id}/me/program", {
    params: { path: { program_id: programId } },
  });
  assert.equal(response.status, 200, JSON.stringify(error));
  assert.ok(data?.name);
  assert.ok(data.tiers.length > 0);
  assert.ok(data.rewards.every((reward) => typeof reward.available === "boolean"));
});
