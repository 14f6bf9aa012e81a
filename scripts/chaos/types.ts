/**
 * @module One row of the fault matrix (`npm run chaos`). Each group of faults lives in its own file
 * under scripts/chaos/ and returns rows; scripts/chaos.ts runs the groups and prints one table.
 */
export interface ChaosRow {
  /** The group of faults: "provider", "kill", "artifact", "body". */
  group: string;
  /** The fault injected, e.g. "junk provider, stream". */
  fault: string;
  /** What a safe triage does, e.g. "fails over to ok". */
  expected: string;
  /** What was measured, e.g. "200 from ok after 1 failover". */
  observed: string;
  pass: boolean;
}

/** A group of faults: runs against loopback only, bounded in count and time, and cleans up after itself. */
export type ChaosGroup = () => Promise<ChaosRow[]>;
