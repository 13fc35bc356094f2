// The OpenAPI document as the fuzzer reads it: its operations (path ids, query, body) and the
// schemas they name, with `$ref` followed and `allOf` folded.

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
}

export interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema: JsonSchema;
}

interface OperationObject {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

export interface FuzzOperation {
  method: string;
  /** As in the document: `/v1/devices/{id}`. */
  path: string;
  pathParams: Parameter[];
  query: Parameter[];
  body?: { mediaType: string; schema: JsonSchema; required: boolean };
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

export function operationsOf(doc: OpenApiDocument): FuzzOperation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.has(method))
      .map(([method, op]) => {
        const params = op.parameters ?? [];
        const [mediaType, media] = Object.entries(op.requestBody?.content ?? {})[0] ?? [];
        return {
          method: method.toUpperCase(),
          path,
          pathParams: params.filter((p) => p.in === 'path'),
          query: params.filter((p) => p.in === 'query'),
          ...(mediaType && media ? { body: { mediaType, schema: media.schema, required: op.requestBody?.required === true } } : {}),
        };
      }),
  );
}

/** Follows `$ref` and folds `allOf` into one schema (the shapes zod-openapi writes). */
export function resolver(doc: OpenApiDocument) {
  const resolve = (schema: JsonSchema): JsonSchema => {
    if (schema.$ref) {
      const named = doc.components?.schemas?.[schema.$ref.replace('#/components/schemas/', '')];
      if (!named) throw new Error(`unresolved ${schema.$ref}`);
      return resolve(named);
    }
    if (!schema.allOf) return schema;
    const parts = schema.allOf.map(resolve);
    const { allOf: _allOf, ...rest } = schema;
    return parts.reduce<JsonSchema>(
      (merged, part) => ({
        ...merged,
        ...part,
        properties: { ...merged.properties, ...part.properties },
        required: [...(merged.required ?? []), ...(part.required ?? [])],
      }),
      rest,
    );
  };
  return resolve;
}

export type Resolve = ReturnType<typeof resolver>;

export const typesOf = (s: JsonSchema): string[] => (s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type]);
