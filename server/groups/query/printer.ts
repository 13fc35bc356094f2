// Syntax tree → query text, in the canonical spelling: parsing what this prints gives the same
// tree (spans aside), which the property tests hold it to. Parentheses only where the tree needs
// them: `not` binds tighter than `and`, `and` tighter than `or`, both associate to the left.
import type { FieldRef, Literal, QueryNode } from '../../../schemas/fleetQuery.ts';

/** Identifiers joined by dots (`com.posfleet.pay`) need no quotes; the parser reads them back as one key. */
const BARE_KEY = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export const quote = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

function printField(f: FieldRef): string {
  if (!('key' in f)) return f.name;
  return `${f.name}.${BARE_KEY.test(f.key) ? f.key : quote(f.key)}`;
}

function printLiteral(v: Literal): string {
  if (v.type === 'string') return quote(v.value);
  if (v.type === 'number') return String(v.value);
  return `${v.amount}${v.unit}`;
}

const precedence = (n: QueryNode) => (n.kind === 'or' ? 1 : n.kind === 'and' ? 2 : 3);

export function printQuery(n: QueryNode): string {
  const wrap = (child: QueryNode, min: number) => (precedence(child) < min ? `(${printQuery(child)})` : printQuery(child));
  switch (n.kind) {
    case 'or':
    case 'and': {
      const own = precedence(n);
      // The right operand at the same level needs parentheses to stay on the right.
      return `${wrap(n.left, own)} ${n.kind} ${wrap(n.right, own + 1)}`;
    }
    case 'not':
      return `not ${wrap(n.expr, 3)}`;
    case 'compare':
      return `${printField(n.field)} ${n.op} ${printLiteral(n.value)}`;
    case 'in':
      return `${printField(n.field)} in (${n.values.map(printLiteral).join(', ')})`;
    case 'exists':
      return `${printField(n.field)} exists`;
    case 'online':
      return 'online';
    case 'within':
      return `within(${n.center.lat}, ${n.center.lon}, ${n.radius.amount}${n.radius.unit})`;
    case 'bbox':
      return `bbox(${n.south}, ${n.west}, ${n.north}, ${n.east})`;
    case 'polygon':
      return `polygon(${n.points.map((p) => `(${p.lat}, ${p.lon})`).join(', ')})`;
  }
}
