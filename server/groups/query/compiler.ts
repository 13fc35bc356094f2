// Syntax tree → one SQL condition over `devices` left-joined with `device_state` (the join every
// device list already makes), with correlated subqueries for merchants, faults, keys and apps. Each
// comparison is wrapped in coalesce(…, false): a missing value makes it false rather than
// unknown, so `not` means what the in-memory evaluator (evaluator.ts) says it means.
import { sql, type SQL } from 'drizzle-orm';
import {
  DISTANCE_M,
  DURATION_MS,
  type CompareOp,
  type FieldRef,
  type KeyedFieldRef,
  type Literal,
  type QueryNode,
} from '../../../schemas/fleetQuery.ts';
import { deviceState, devices, organisations } from '../../../schemas/db.ts';
import { deviceApps } from '../../../schemas/tables/apps.ts';
import { faults } from '../../../schemas/tables/faults.ts';
import { keys } from '../../../schemas/tables/keys.ts';
import { merchants } from '../../../schemas/tables/merchants.ts';
import { QueryError } from './queryError.ts';

const EARTH_RADIUS_M = 6_371_008.8;

export interface CompileOptions {
  /** The instant `lastSeen` durations count back from (a fixed value keeps a query's answer reproducible). */
  now: Date;
}

const fw = sql`coalesce(${deviceState.fwVersion}, ${devices.fwVersion})`;
const lat = sql`(${deviceState.health} -> 'location' ->> 'lat')::float8`;
const lon = sql`(${deviceState.health} -> 'location' ->> 'lon')::float8`;

/** A dotted-number version as numeric[]; null for anything else (so it compares to nothing). */
const asVersion = (v: SQL) => sql`(case when ${v} ~ '^[0-9]+([.][0-9]+)*$' then string_to_array(${v}, '.')::numeric[] end)`;
const literalVersion = (v: string) => sql`string_to_array(${v}::text, '.')::numeric[]`;

const sqlOp = (op: Exclude<CompareOp, '~'>) => sql.raw(op === '!=' ? '<>' : op);
const falseIfNull = (s: SQL) => sql`coalesce((${s}), false)`;
const textValue = (v: Literal) => (v.type === 'string' ? v.value : String(v.type === 'number' ? v.value : v.amount));

function compareText(column: SQL, op: CompareOp, value: string, prefix: boolean): SQL {
  if (op === '~') return prefix ? sql`left(${column}, ${value.length}) = ${value}::text` : sql`strpos(${column}, ${value}::text) > 0`;
  return sql`${column} ${sqlOp(op)} ${value}::text`;
}

function compareVersion(column: SQL, op: CompareOp, value: string): SQL {
  if (op === '~') return sql`left(${column}, ${value.length}) = ${value}::text`;
  return sql`${asVersion(column)} ${sqlOp(op)} ${literalVersion(value)}`;
}

const installedApp = (packageName: string, version?: SQL) =>
  sql`exists (select 1 from ${deviceApps} where ${deviceApps.deviceId} = ${devices.id} and ${deviceApps.packageName} = ${packageName}::text${version ? sql` and coalesce((${version}), false)` : sql``})`;

const installedKey = (slot: string) =>
  sql`(select max(${keys.version}) from ${keys} where ${keys.deviceId} = ${devices.id} and ${keys.slot} = ${slot}::text and ${keys.state} = 'installed')`;

/** `<keyed field> exists`: the terminal has a label of that key, the app installed, a key installed in that slot. */
function presence(f: KeyedFieldRef): SQL {
  switch (f.name) {
    case 'label':
      return sql`(${devices.labels} ->> ${f.key}::text) is not null`;
    case 'app':
      return installedApp(f.key);
    case 'keyVersion':
      return sql`${installedKey(f.key)} is not null`;
  }
}

function comparison(f: FieldRef, op: CompareOp, v: Literal, opts: CompileOptions, at: number): SQL {
  switch (f.name) {
    case 'serial':
      return compareText(sql`${devices.serial}`, op, textValue(v), true);
    case 'model':
      return compareText(sql`${devices.model}`, op, textValue(v), false);
    case 'merchant':
      return compareText(sql`${devices.merchantId}`, op, textValue(v), false);
    case 'mcc':
      return compareText(
        sql`(select ${merchants.mcc} from ${merchants} where ${merchants.id} = ${devices.merchantId})`,
        op,
        textValue(v),
        false,
      );
    case 'label':
      return compareText(sql`(${devices.labels} ->> ${f.key}::text)`, op, textValue(v), false);
    case 'fw':
      return compareVersion(fw, op, textValue(v));
    case 'app':
      // One row per installed package: a terminal without the package has no row, so every comparison (`!=` too) is false.
      return installedApp(f.key, compareVersion(sql`${deviceApps.version}`, op, textValue(v)));
    case 'org': {
      // A subtree is every node whose materialised path passes through the named node.
      const inside = sql`exists (select 1 from ${organisations} where ${organisations.id} = ${devices.orgId} and strpos(${organisations.path}, ${'/' + textValue(v) + '/'}::text) > 0)`;
      return op === '=' ? inside : sql`not ${inside}`;
    }
    case 'fault': {
      const code = textValue(v);
      const match = op === '~' ? sql`strpos(${faults.code}, ${code}::text) > 0` : sql`${faults.code} = ${code}::text`;
      return sql`exists (select 1 from ${faults} where ${faults.deviceId} = ${devices.id} and ${faults.state} <> 'resolved' and ${match})`;
    }
    case 'keyVersion': {
      if (op === '~' || v.type !== 'number') throw new QueryError(at, 'a whole number');
      return sql`${installedKey(f.key)} ${sqlOp(op)} ${v.value}::integer`;
    }
    case 'lastSeen': {
      if (v.type !== 'duration') throw new QueryError(at, 'a duration');
      const since = new Date(opts.now.getTime() - v.amount * DURATION_MS[v.unit]);
      // Seen less than D ago ⟺ seen after now − D: the comparison flips.
      const flipped = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as const;
      if (op === '=' || op === '!=' || op === '~') throw new QueryError(at, 'one of < <= > >=');
      return sql`${deviceState.lastSeenAt} ${sql.raw(flipped[op])} ${since.toISOString()}::timestamptz`;
    }
  }
}

export function compileQuery(n: QueryNode, opts: CompileOptions): SQL {
  switch (n.kind) {
    case 'and':
      return sql`(${compileQuery(n.left, opts)} and ${compileQuery(n.right, opts)})`;
    case 'or':
      return sql`(${compileQuery(n.left, opts)} or ${compileQuery(n.right, opts)})`;
    case 'not':
      return sql`(not ${compileQuery(n.expr, opts)})`;
    case 'online':
      return sql`coalesce(${deviceState.online}, false)`;
    case 'compare':
      return falseIfNull(comparison(n.field, n.op, n.value, opts, n.span.start));
    case 'in':
      return falseIfNull(
        sql.join(
          n.values.map((v) => sql`(${comparison(n.field, '=', v, opts, n.span.start)})`),
          sql` or `,
        ),
      );
    case 'exists':
      return presence(n.field);
    case 'within': {
      const r = n.radius.amount * DISTANCE_M[n.radius.unit];
      const { lat: cLat, lon: cLon } = n.center;
      const h = sql`power(sin(radians(${lat} - ${cLat}::float8) / 2), 2) + cos(radians(${cLat}::float8)) * cos(radians(${lat})) * power(sin(radians(${lon} - ${cLon}::float8) / 2), 2)`;
      return falseIfNull(sql`2 * ${EARTH_RADIUS_M}::float8 * asin(least(1, sqrt(${h}))) <= ${r}::float8`);
    }
    case 'bbox': {
      const lons =
        n.west <= n.east
          ? sql`${lon} between ${n.west}::float8 and ${n.east}::float8`
          : sql`(${lon} >= ${n.west}::float8 or ${lon} <= ${n.east}::float8)`;
      return falseIfNull(sql`${lat} between ${n.south}::float8 and ${n.north}::float8 and ${lons}`);
    }
    case 'polygon': {
      const shape = `(${n.points.map((p) => `(${p.lon},${p.lat})`).join(',')})`;
      return falseIfNull(sql`${shape}::polygon @> point(${lon}, ${lat})`);
    }
  }
}
