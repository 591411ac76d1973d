// What every page shows of the program itself: money in its currency, tiers by their names.
// Read once per program id (GET /programs/{id}); the program page forgets it when it saves.
import { call, programPath } from "./api";

export interface ProgramFacts {
  currency: string | null;
  /** Minor units in the program's currency, at that currency's own number of decimals (CNY 2, JPY 0). */
  money: (minor: number | null | undefined) => string;
  /** A tier's name; its id where the document has no such tier. */
  tier: (id: string | null | undefined) => string;
  /** A wallet's name (stamps...); its id where the document has no such wallet. */
  wallet: (id: string) => string;
  /** What a counter counts and over which period ("orders per month"); "" where unknown. */
  counter: (id: string) => string;
}

interface Doc {
  currency?: string;
  tiers?: { levels?: { id: string; name?: string }[] };
  wallets?: Record<string, { name?: string }>;
  counters?: { id: string; counts?: string; period?: string }[];
}

const known = new Map<string, Promise<ProgramFacts>>();

function formatter(currency: string | null): Intl.NumberFormat | null {
  if (!currency) return null;
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency });
  } catch {
    return null; // not an ISO 4217 code Intl knows: plain figures with the code, below
  }
}

export function factsOf(doc: Doc): ProgramFacts {
  const currency = doc.currency ?? null;
  const fmt = formatter(currency);
  const digits = fmt?.resolvedOptions().maximumFractionDigits ?? 2;
  const names = new Map((doc.tiers?.levels ?? []).map((l) => [l.id, l.name || l.id]));
  const counters = new Map((doc.counters ?? []).map((c) => [c.id, c.period === "lifetime" ? `${c.counts}, lifetime` : `${c.counts} per ${c.period}`]));
  return {
    currency,
    money: (minor) => {
      if (minor === null || minor === undefined) return "—";
      const major = minor / 10 ** digits;
      if (fmt) return fmt.format(major);
      const plain = major.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
      return currency ? `${plain} ${currency}` : plain;
    },
    tier: (id) => (id ? (names.get(id) ?? id) : "—"),
    wallet: (id) => doc.wallets?.[id]?.name || id,
    counter: (id) => counters.get(id) ?? "",
  };
}

/** The program's facts; a program that cannot be read gives plain figures and ids (its page says why). */
export function facts(pid: string): Promise<ProgramFacts> {
  let found = known.get(pid);
  if (!found) {
    found = call<Doc>("GET", programPath(pid)).then(factsOf, () => {
      known.delete(pid); // not kept: the next page asks again
      return factsOf({});
    });
    known.set(pid, found);
  }
  return found;
}

export function forget(pid: string): void {
  known.delete(pid);
}
