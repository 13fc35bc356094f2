// The compiled validators of what terminals publish must agree with the zod schemas they are
// generated from: the same payloads accepted, and the same value left for ingest.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createInboundValidators, inboundJsonSchema } from '../../schemas/inboundValidators.ts';
import { devicePublishKinds, inboundSchemas } from '../../schemas/wire.ts';
import { fromJsonSchema } from '../helpers/jsonSchemaArbitrary.ts';

const validators = createInboundValidators();

describe('compiled inbound validators', () => {
  for (const kind of devicePublishKinds) {
    it(`${kind}: accepts what zod accepts and leaves zod's value`, () => {
      let accepted = 0;
      fc.assert(
        fc.property(fromJsonSchema(inboundJsonSchema(kind)), (payload) => {
          // What the broker validates is JSON.parse's output: same keys, no undefined, no -0 distinctions lost.
          const text = JSON.stringify(payload) ?? 'null';
          const zod = inboundSchemas[kind].safeParse(JSON.parse(text));
          const json: unknown = JSON.parse(text);
          const valid = validators[kind](json);
          expect(valid).toBe(zod.success);
          if (zod.success) {
            accepted++;
            expect(json).toEqual(zod.data);
          }
        }),
        { numRuns: 2000 },
      );
      // The generator must reach the valid side often enough to compare values, not only refusals.
      expect(accepted).toBeGreaterThan(50); // health, the least often valid, averages ~120 of 2,000
    });
  }

  it('drops unknown keys of plain objects and keeps those of records', () => {
    const event: unknown = JSON.parse('{"ts":1,"seq":2,"type":"log","extra":1,"data":{"any":{"deep":true}}}');
    expect(validators.event(event)).toBe(true);
    expect(event).toEqual({ ts: 1, seq: 2, type: 'log', data: { any: { deep: true } } });
  });

  it('fills defaults in as zod does', () => {
    const event: unknown = JSON.parse('{"ts":1,"seq":2,"type":"boot"}');
    expect(validators.event(event)).toBe(true);
    expect(event).toEqual({ ts: 1, seq: 2, type: 'boot', data: {} });
  });

  it('counts string lengths in code points, as zod does', () => {
    const ack = (cmdId: string): unknown => JSON.parse(JSON.stringify({ cmdId, state: 'received' }));
    expect(validators.ack(ack('\u{1F600}'.repeat(64)))).toBe(true); // 64 code points, 128 UTF-16 units
    expect(validators.ack(ack('\u{1F600}'.repeat(65)))).toBe(false);
    expect(inboundSchemas.ack.safeParse(ack('\u{1F600}'.repeat(64))).success).toBe(true);
  });
});
