// GET /programs/{program_id}/me/program is another engineer's route (the member app's part): while the
// committed document lacks it, `paths` has no such key, so this one call goes through an untyped view of
// the client. After the merge and `make clients`, drop the cast: the call is then typed like the others.
// tests/integration/test_clients.py runs this file only when the served document has the path.
import assert from "node:assert/strict";
import { test } from "node:test";

import type { Client } from "openapi-fetch";
import { enrolled, programId } from "./env.js";

test("reads the program as the member sees it", async () => {
  const { member } = await enrolled("ts-program");
  const untyped = member as unknown as Client<Record<string, Record<"get", object>>>;
  const { data, error, response } = await untyped.GET("/programs/{program_id}/me/program", {
    params: { path: { program_id: programId } },
  } as never);
  assert.equal(response.status, 200, JSON.stringify(error));
  const program = data as unknown as { name: string; tiers: unknown[]; rewards: { id: string; available: boolean }[] };
  assert.ok(program.name);
  assert.ok(program.tiers.length > 0);
  assert.ok(program.rewards.every((reward) => typeof reward.available === "boolean"));
});
