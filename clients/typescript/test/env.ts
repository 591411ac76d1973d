// What the tests run against: the local runtime and a program that tests/integration/test_clients.py
// started and loaded (LOYALTY_API_URL, LOYALTY_PROGRAM_ID), as any app would be configured.
import { loyaltyClient, type LoyaltyClient } from "../src/index.js";

export const baseUrl = required("LOYALTY_API_URL");
export const programId = required("LOYALTY_PROGRAM_ID");

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through tests/integration/test_clients.py`);
  return value;
}

/** An unsigned JWT whose `sub` is the member: the local runtime does not check signatures (API Gateway does). */
export function memberToken(sub: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none" })}.${part({ sub })}.sig`;
}

/** A member enrolled by the server client, and a client signed in as it. */
export async function enrolled(prefix: string): Promise<{ memberId: string; member: LoyaltyClient }> {
  const memberId = `${prefix}-${process.pid}-${Date.now()}`;
  const server = loyaltyClient({ baseUrl });
  const { error } = await server.POST("/programs/{program_id}/members", {
    params: { path: { program_id: programId } },
    body: { member_id: memberId },
  });
  if (error) throw new Error(`enrolment failed: ${JSON.stringify(error)}`);
  return { memberId, member: loyaltyClient({ baseUrl, token: memberToken(memberId) }) };
}
