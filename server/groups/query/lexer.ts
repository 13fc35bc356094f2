// Tokens of the fleet query language, each with where it stands in the text.
import { QueryError } from './queryError.ts';

export type Token =
  | { kind: 'ident'; text: string; start: number; end: number }
  | { kind: 'string'; value: string; start: number; end: number }
  | { kind: 'number'; value: number; start: number; end: number }
  /** A number with its unit glued on: `7d`, `10km`. */
  | { kind: 'quantity'; amount: number; unit: string; start: number; end: number }
  | { kind: 'op'; text: '=' | '!=' | '<' | '<=' | '>' | '>=' | '~'; start: number; end: number }
  | { kind: 'punct'; text: '(' | ')' | ',' | '.'; start: number; end: number }
  | { kind: 'end'; start: number; end: number };

const NUMBER = /-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const UNIT = /[a-zA-Z]+/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const SPACE = /\s+/y;

function match(re: RegExp, src: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(src)?.[0];
}

function readString(src: string, start: number): Token {
  let value = '';
  let i = start + 1;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === '"') return { kind: 'string', value, start, end: i + 1 };
    if (ch === '\\') {
      const next = src[i + 1];
      if (next !== '"' && next !== '\\') throw new QueryError(i, '\\" or \\\\ (the only escapes in a string)');
      value += next;
      i += 2;
      continue;
    }
    value += ch;
    i++;
  }
  throw new QueryError(src.length, 'a closing " for the string opened at ' + start);
}

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const space = match(SPACE, src, i);
    if (space) {
      i += space.length;
      continue;
    }
    const ch = src[i]!;
    if (ch === '"') {
      const t = readString(src, i);
      tokens.push(t);
      i = t.end;
      continue;
    }
    const num = match(NUMBER, src, i);
    if (num) {
      const unit = match(UNIT, src, i + num.length);
      const end = i + num.length + (unit?.length ?? 0);
      tokens.push(unit ? { kind: 'quantity', amount: Number(num), unit, start: i, end } : { kind: 'number', value: Number(num), start: i, end });
      i = end;
      continue;
    }
    const ident = match(IDENT, src, i);
    if (ident) {
      tokens.push({ kind: 'ident', text: ident, start: i, end: i + ident.length });
      i += ident.length;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '!=' || two === '<=' || two === '>=') {
      tokens.push({ kind: 'op', text: two, start: i, end: i + 2 });
      i += 2;
      continue;
    }
    if (ch === '=' || ch === '<' || ch === '>' || ch === '~') {
      tokens.push({ kind: 'op', text: ch, start: i, end: i + 1 });
      i++;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',' || ch === '.') {
      tokens.push({ kind: 'punct', text: ch, start: i, end: i + 1 });
      i++;
      continue;
    }
    throw new QueryError(i, 'a field, a value, an operator or a parenthesis');
  }
  tokens.push({ kind: 'end', start: src.length, end: src.length });
  return tokens;
}
