// The fleet query language (docs/groups-and-filters.md): its syntax tree, shared by the parser,
// the printer, the SQL compiler and the in-memory evaluator (server/groups/query/), and the request
// shapes that carry a query (saved filters, previews, campaign and command targets).
import { z } from 'zod';

/** Where a node stands in the query text: `start` inclusive, `end` exclusive, in UTF-16 code units. */
export interface SourceSpan {
  start: number;
  end: number;
}

export const plainFields = ['serial', 'model', 'fw', 'merchant', 'mcc', 'org', 'lastSeen', 'fault'] as const;
export type PlainField = (typeof plainFields)[number];
/** Fields written `<prefix>.<key>`: `label.region`, `app.payments`, `keyVersion.tmk`. */
export const keyedFields = ['label', 'app', 'keyVersion'] as const;
export type KeyedField = (typeof keyedFields)[number];

export type KeyedFieldRef = { name: KeyedField; key: string };
export type FieldRef = { name: PlainField } | KeyedFieldRef;

export const compareOps = ['=', '!=', '<', '<=', '>', '>=', '~'] as const;
export type CompareOp = (typeof compareOps)[number];

export const durationUnits = ['s', 'm', 'h', 'd', 'w'] as const;
export type DurationUnit = (typeof durationUnits)[number];
export const distanceUnits = ['m', 'km'] as const;
export type DistanceUnit = (typeof distanceUnits)[number];

export type Literal =
  { type: 'string'; value: string } | { type: 'number'; value: number } | { type: 'duration'; amount: number; unit: DurationUnit };

export interface Distance {
  amount: number;
  unit: DistanceUnit;
}
export interface LatLon {
  lat: number;
  lon: number;
}

/** A node of the tree; `span` is where it was written (the printer ignores it). */
export type QueryNode =
  | { kind: 'and' | 'or'; left: QueryNode; right: QueryNode; span: SourceSpan }
  | { kind: 'not'; expr: QueryNode; span: SourceSpan }
  | { kind: 'compare'; field: FieldRef; op: CompareOp; value: Literal; span: SourceSpan }
  | { kind: 'in'; field: FieldRef; values: Literal[]; span: SourceSpan }
  /** `label.region exists`, `app.com.posfleet.pay exists`: the terminal has a value under that key. */
  | { kind: 'exists'; field: KeyedFieldRef; span: SourceSpan }
  /** `online`: the only bare field. */
  | { kind: 'online'; span: SourceSpan }
  | { kind: 'within'; center: LatLon; radius: Distance; span: SourceSpan }
  /** `bbox(south, west, north, east)`; west > east crosses the antimeridian. */
  | { kind: 'bbox'; south: number; west: number; north: number; east: number; span: SourceSpan }
  | { kind: 'polygon'; points: LatLon[]; span: SourceSpan };

export const DURATION_MS: Readonly<Record<DurationUnit, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
export const DISTANCE_M: Readonly<Record<DistanceUnit, number>> = { m: 1, km: 1000 };

/** Longest query text accepted: a saved filter is a sentence, not a device list. */
export const MAX_QUERY_LENGTH = 4000;

export const queryText = z.string().min(1).max(MAX_QUERY_LENGTH);

/** `query_invalid`'s details: where the text went wrong and what would have been understood there. */
export const queryProblem = z.object({ position: z.number().int().nonnegative(), expected: z.string() });
export type QueryProblem = z.infer<typeof queryProblem>;

/** Campaign and command targets that name a static group, a saved filter or a query. */
export const groupTarget = z.object({ groupId: z.string().min(1).max(64) }).strict();
export const savedFilterTarget = z.object({ filterId: z.string().min(1).max(64) }).strict();
export const queryTarget = z.object({ query: queryText }).strict();
export type NamedTarget = z.infer<typeof groupTarget> | z.infer<typeof savedFilterTarget> | z.infer<typeof queryTarget>;
