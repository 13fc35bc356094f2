// The body of a request: the valid-shaped JSON with one node mutated, or replaced whole (absent,
// broken, too deep, too big, under another content type); a CSV or octet-stream body as garbage.
import type { FuzzOperation, Resolve } from './document.ts';
import type { Broken, Choice, RequestBody } from './fuzzRequest.ts';
import { deepArray, pickOf } from './garbage.ts';
import { mutateJson } from './jsonMutations.ts';
import { parses } from './refusal.ts';

export function bodyOf(op: FuzzOperation, resolve: Resolve, value: unknown, ch: Choice): Broken & { body?: RequestBody } {
  if (op.body?.mediaType === 'application/json') {
    const valid = JSON.stringify(value) ?? '';
    if (ch.target === 'body') {
      const mutated = mutateJson(value, op.body.schema, resolve, ch.kind, ch.nodePick, ch.pick);
      if (mutated)
        return { body: { text: mutated.text, contentType: 'application/json' }, refuse: mutated.refuse, mutation: `body ${mutated.name}` };
    } else if (ch.target === 'bodyWhole') {
      const whole = wholeBody(op.body.required, valid, ch.pick);
      return { ...(whole.body ? { body: whole.body } : {}), refuse: whole.refuse, mutation: `body ${whole.name}` };
    }
    return { body: { text: valid, contentType: 'application/json' }, refuse: false };
  }
  if (!op.body) return { refuse: false };
  const contentType =
    ch.target === 'bodyWhole'
      ? pickOf(['application/json', 'text/plain', 'multipart/form-data; boundary=x', ''], ch.nodePick)
      : op.body.mediaType;
  return { body: { text: otherBody(ch.pick, ch.garbagePick), contentType }, refuse: false, mutation: `${op.body.mediaType} body` };
}

/** The whole JSON body replaced: absent, broken, of the wrong media type. */
function wholeBody(required: boolean, valid: string, pick: number): { body?: RequestBody; refuse: boolean; name: string } {
  const broken = [
    '{',
    '{"a":}',
    'undefined',
    "{'a':1}",
    '[1,]',
    '{"a":1}{"b":2}',
    '\u0000',
    '{"a":"\\u00"}',
    '"unterminated',
    valid.slice(0, -1),
    valid + ',',
    '\uFEFF' + valid,
  ];
  const shapes: (() => { body?: RequestBody; refuse: boolean; name: string })[] = [
    () => ({ refuse: required, name: 'absent' }),
    () => ({ body: { text: '', contentType: 'application/json' }, refuse: required, name: 'empty, content-type JSON' }),
    () => {
      const text = pickOf(broken, Math.floor(pick / 5));
      // Refused even where the body is optional: a body sent is a body read. A BOM before valid
      // JSON is the one broken text a lenient parser may take.
      return {
        body: { text, contentType: 'application/json' },
        refuse: !parses(text) && !text.startsWith('\uFEFF'),
        name: `invalid JSON ${JSON.stringify(text.slice(0, 20))}`,
      };
    },
    () => ({
      body: {
        text: valid,
        contentType: pickOf(
          ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'application/jsonx'],
          pick,
        ),
      },
      refuse: false,
      name: 'JSON under another content type',
    }),
    () => ({
      body: { text: JSON.stringify(deepArray(2_000)), contentType: 'application/json' },
      refuse: required,
      name: 'nesting 2000 arrays',
    }),
    // Over the 1 MiB body limit (HTTP_BODY_LIMIT_BYTES): 413 whatever the route.
    () => ({
      body: { text: JSON.stringify({ pad: 'x'.repeat(1_100_000) }), contentType: 'application/json' },
      refuse: true,
      name: 'over the body limit',
    }),
  ];
  return pickOf(shapes, pick)();
}

/** A CSV or octet-stream body: text with NUL and control characters, invalid UTF-8, or nothing. */
function otherBody(pick: number, garbagePick: number): string | Uint8Array<ArrayBuffer> {
  const texts: (string | Uint8Array<ArrayBuffer>)[] = [
    '',
    'serial,model\nA-1,PAX-A920\n',
    'serial,model\nA\u0000B,PAX\n',
    'serial,model\n"unterminated,PAX\n',
    '\uFEFFserial;model\r\n\r\n',
    ',,,,,\n'.repeat(1_000),
    new Uint8Array([0xff, 0xfe, 0x00, 0xc0, 0xaf, 0xed, 0xa0, 0x80]),
    new Uint8Array(Array.from({ length: 256 }, (_, i) => (i * 31 + garbagePick) % 256)),
  ];
  return pickOf(texts, pick);
}
