// The pieces of garbage more than one part of a request is broken with, and the one way a
// mutation picks among its choices (fast-check draws the number, so a seed replays the pick).

export const pickOf = <T>(list: readonly T[], pick: number): T => list[pick % list.length]!;

export const insertInto = (text: string, piece: string) =>
  text.slice(0, Math.ceil(text.length / 2)) + piece + text.slice(Math.ceil(text.length / 2));

export const deepArray = (depth: number): unknown => {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};
export const deepObject = (depth: number): unknown => {
  let v: unknown = {};
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};

export const CONTROL = ['\u0001', '\u0007', '\b', '\t', '\n', '\r', '\u001b', '\u001f', '\u007f', '\u0085', '\u2028', '\uFEFF', '\uFFFF'];
export const SURROGATES = ['\uD800', '\uDBFF', '\uDC00', '\uDFFF'];
