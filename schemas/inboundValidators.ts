// Compiled validators for what a terminal publishes, generated from the zod schemas of
// wire.ts through their JSON Schema (zod's toJSONSchema, compiled by ajv). They run on the
// broker's turn for every message: zod builds a validated copy of each payload, where these
// check the parsed JSON in place, several times faster and without the copy's garbage.
//
// They must accept exactly what zod accepts and leave the same value behind: unknown keys
// of a plain z.object dropped (ajv's removeAdditional, from `additionalProperties: false`
// set below), defaults filled in (useDefaults). test/unit/inboundValidators.test.ts checks
// both against zod on generated payloads. zod still names the issues of a refused payload.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { z } from 'zod';
import { inboundSchemas, type DevicePublishKind, type InboundMessages } from './wire.ts';

/** True when `json` is a valid message of its kind; leaves it as zod's parse would return it. */
export type InboundValidators = { [K in DevicePublishKind]: (json: unknown) => json is InboundMessages[K] };

/** zod's JSON Schema of one inbound schema, with strip-mode objects closed so ajv removes what zod drops. */
export function inboundJsonSchema(kind: DevicePublishKind): Record<string, unknown> {
  return z.toJSONSchema(inboundSchemas[kind], {
    io: 'input',
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def;
      // A z.object without a catchall strips unknown keys; looseObject and record keep them.
      if (def.type === 'object' && def.catchall === undefined) jsonSchema.additionalProperties = false;
    },
  });
}

let compiled: InboundValidators | undefined;

/**
 * The validators, compiled once per process: compiling takes ~70 ms, and a test run starts
 * hundreds of servers in one process. Sharing them is safe: they hold nothing between calls
 * but ajv's `errors` of the last refusal, which nobody reads (zod names the issues).
 */
export function inboundValidators(): InboundValidators {
  compiled ??= createInboundValidators();
  return compiled;
}

export function createInboundValidators(): InboundValidators {
  const ajv = new Ajv2020({
    removeAdditional: true,
    useDefaults: true,
    allErrors: false,
    // zod runs its patterns without the u flag. (Both count string lengths in code points.)
    unicodeRegExp: false,
    strict: true,
  });
  const compile = <K extends DevicePublishKind>(kind: K) => ajv.compile<InboundMessages[K]>(inboundJsonSchema(kind));
  return { state: compile('state'), health: compile('health'), event: compile('event'), ack: compile('ack') };
}
