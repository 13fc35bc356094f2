// The query over one terminal in memory: the same verdict the SQL compiler's condition gives over
// the database (a property test seeds a fleet in both and compares). A comparison whose field has
// no value (no firmware reported, no merchant, no location) is false, and so is its `!=`; `not`
// inverts that false, as `coalesce(…, false)` does in the compiled SQL.
import {
  DISTANCE_M,
  DURATION_MS,
  type CompareOp,
  type FieldRef,
  type LatLon,
  type Literal,
  type QueryNode,
} from '../../../schemas/fleetQuery.ts';
import { inBbox, inPolygon, withinRadius } from './geo.ts';
import { compareVersions, versionSegments } from './versions.ts';

/** What the language can ask of a terminal. */
export interface DeviceSnapshot {
  id: string;
  serial: string;
  model: string;
  fwVersion: string | null;
  merchantId: string | null;
  mcc: string | null;
  /** Materialised path of its organisation (`/org_root/org_a/`), where organisations exist. */
  orgPath: string | null;
  labels: Record<string, string>;
  online: boolean;
  lastSeenAt: Date | null;
  openFaults: readonly string[];
  /** Installed key version per slot (the highest, if several). */
  keyVersions: Record<string, number>;
  location: LatLon | null;
  /** Installed payment apps: package name → version. */
  apps: Record<string, string>;
}

const ordered = (c: number, op: CompareOp): boolean => {
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '~':
      return false;
  }
};

const own = (record: Record<string, string | number>, key: string) => (Object.hasOwn(record, key) ? record[key] : undefined);

function textOf(d: DeviceSnapshot, f: FieldRef): string | null | undefined {
  switch (f.name) {
    case 'serial':
      return d.serial;
    case 'model':
      return d.model;
    case 'merchant':
      return d.merchantId;
    case 'mcc':
      return d.mcc;
    case 'fw':
      return d.fwVersion;
    case 'label': {
      const v = own(d.labels, f.key);
      return typeof v === 'string' ? v : undefined;
    }
    case 'app': {
      const v = own(d.apps, f.key);
      return typeof v === 'string' ? v : undefined;
    }
    default:
      return undefined;
  }
}

function compareOne(d: DeviceSnapshot, f: FieldRef, op: CompareOp, lit: Literal, now: Date): boolean {
  switch (f.name) {
    case 'fault':
      if (lit.type !== 'string') return false;
      return d.openFaults.some((code) => (op === '~' ? code.includes(lit.value) : code === lit.value));
    case 'org': {
      if (lit.type !== 'string' || d.orgPath === null) return false;
      const inside = d.orgPath.includes(`/${lit.value}/`);
      return op === '=' ? inside : !inside;
    }
    case 'lastSeen': {
      if (lit.type !== 'duration' || d.lastSeenAt === null) return false;
      // `lastSeen < 7d`: heard within the last 7 days, i.e. last seen after now − 7 d.
      const ago = now.getTime() - d.lastSeenAt.getTime();
      return ordered(Math.sign(ago - lit.amount * DURATION_MS[lit.unit]), op);
    }
    case 'keyVersion': {
      const v = own(d.keyVersions, f.key);
      if (typeof v !== 'number' || lit.type !== 'number') return false;
      return ordered(Math.sign(v - lit.value), op);
    }
    case 'fw':
    case 'app': {
      const text = textOf(d, f);
      if (text == null || lit.type !== 'string') return false;
      if (op === '~') return text.startsWith(lit.value);
      const a = versionSegments(text);
      const b = versionSegments(lit.value);
      return a !== undefined && b !== undefined && ordered(compareVersions(a, b), op);
    }
    default: {
      const text = textOf(d, f);
      if (text == null || lit.type !== 'string') return false;
      if (op === '~') return f.name === 'serial' ? text.startsWith(lit.value) : text.includes(lit.value);
      return op === '=' ? text === lit.value : op === '!=' ? text !== lit.value : false;
    }
  }
}

export function evaluateQuery(n: QueryNode, d: DeviceSnapshot, now: Date): boolean {
  switch (n.kind) {
    case 'and':
      return evaluateQuery(n.left, d, now) && evaluateQuery(n.right, d, now);
    case 'or':
      return evaluateQuery(n.left, d, now) || evaluateQuery(n.right, d, now);
    case 'not':
      return !evaluateQuery(n.expr, d, now);
    case 'online':
      return d.online;
    case 'compare':
      return compareOne(d, n.field, n.op, n.value, now);
    case 'in':
      return n.values.some((v) => compareOne(d, n.field, '=', v, now));
    case 'exists':
      return Object.hasOwn(n.field.name === 'label' ? d.labels : n.field.name === 'app' ? d.apps : d.keyVersions, n.field.key);
    case 'within':
      return d.location !== null && withinRadius(d.location, n.center, n.radius.amount * DISTANCE_M[n.radius.unit]);
    case 'bbox':
      return d.location !== null && inBbox(d.location, n);
    case 'polygon':
      return d.location !== null && inPolygon(d.location, n.points);
  }
}
