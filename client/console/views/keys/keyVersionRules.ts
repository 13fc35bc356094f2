// How the keys page counts versions across the fleet with fleet queries (docs/groups-and-filters.md
// `keyVersion.<slot>`): pure, so the counting plan is tested without a server.

/** The slots the server's rotations fill (docs/keys.md, "Keys and slots"). */
export const ROTATED_SLOTS = ['tmk', 'tpk', 'tak', 'tdk'] as const;
/** Versions probed per slot at most: a slot rotated more often shows the rest as one "newer" row. */
export const MAX_VERSIONS = 12;

/** The fleet query of the terminals holding `version` in `slot`; null: those past MAX_VERSIONS. */
export const slotQuery = (slot: string, version: number | null): string =>
  version === null ? `keyVersion.${slot} > ${MAX_VERSIONS}` : `keyVersion.${slot} = ${version}`;

/** Is there a version left to count: terminals with a key not yet counted, and versions to probe? */
export const moreToCount = (withKey: number, counted: number, version: number) => counted < withKey && version <= MAX_VERSIONS;
