// Requests to the API derived from /openapi.json and mutated as a hostile or broken client would
// send them, for test/security/httpFuzz.test.ts. `refuse: false` means "may or may not be valid".
export { operationsOf, resolver, type FuzzOperation, type JsonSchema, type OpenApiDocument, type Parameter } from './document.ts';
export type { FuzzRequest } from './fuzzRequest.ts';
export { deepArray } from './garbage.ts';
export { requestOf, type RequestContext } from './requests.ts';
