// Which topics travel between the brokers of a cluster (clusterEmitter.ts) and which stay in the
// instance that saw them. Only two kinds cross: a command, published on whichever instance its
// delivery worker runs and due to a terminal connected to any of them, and aedes' takeover
// notice, which closes the older session of a client id that reconnected elsewhere. Telemetry is
// most of the traffic and is ingested where it arrives: fanning it to every instance is what
// aedes issue #703 warns of. Pure: no broker or Redis needed to test it.
import { TOPIC_PREFIX } from '../../schemas/wire.ts';

/** The filters of every topic that crosses instances. None holds a `#`. */
export const crossingFilters = [`${TOPIC_PREFIX}/+/cmd`, '$SYS/+/new/clients'] as const;

const levels = (topic: string) => topic.split('/');

// Matching as mqemitter does it for aedes (qlobber, match_empty_levels): `+` takes exactly one
// level, an empty one too; `#` takes the rest, zero levels too (`a/#` matches `a`).

/** Whether some topic matches both filters (a concrete topic is a filter matching itself). */
export function filtersOverlap(a: string, b: string): boolean {
  const x = levels(a);
  const y = levels(b);
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === '#' || q === '#') return true;
    if (p === undefined || q === undefined) return p === q;
    if (p !== '+' && q !== '+' && p !== q) return false;
  }
}

/** Whether every topic `filter` matches is matched by `wider`, a filter without `#`. */
function coveredBy(filter: string, wider: string): boolean {
  const x = levels(filter);
  const y = levels(wider);
  return x.length === y.length && x.every((l, i) => l !== '#' && (y[i] === '+' || (l !== '+' && l === y[i])));
}

/**
 * A concrete topic: whether it travels between instances. A subscription's filter: whether it
 * could match a topic that does, so it must listen across instances too.
 */
export const crossesInstances = (topic: string): boolean => crossingFilters.some((f) => filtersOverlap(topic, f));

/**
 * A concrete topic: whether it stays in this instance (always `!crossesInstances`). A filter:
 * whether it could match such a topic, so it must listen in this instance too.
 */
export const staysLocal = (topic: string): boolean => !crossingFilters.some((f) => coveredBy(topic, f));
