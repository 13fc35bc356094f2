// A request the fuzzer sends, the valid-shaped parts it is built from, and the choice of what
// in it to break: the types the builders of its path, query, body and headers share.

export type RequestBody = { text: string | Uint8Array<ArrayBuffer>; contentType: string };

export interface FuzzRequest {
  method: string;
  /** Path and query, percent-encoded as sent. */
  url: string;
  body?: RequestBody;
  /** Headers besides the caller's token and the body's type; an `authorization` here replaces the token. */
  headers?: Record<string, string>;
  /** Which mutation made it, for the failure message. */
  mutation: string;
  /** The schema (or the storable-text rule) must refuse it: a 2xx is a finding. */
  refuse: boolean;
}

/** Values of the shapes the operation's schemas describe, before any mutation. */
export interface Parts {
  pathValues: Record<string, string>;
  query: [name: string, value: string][];
  body: unknown;
}

export const CHOICES = ['none', 'body', 'bodyWhole', 'query', 'path', 'header'] as const;

/** Where the one mutation goes, and the numbers fast-check drew for its picks. */
export interface Choice {
  target: (typeof CHOICES)[number];
  kind: string;
  nodePick: number;
  pick: number;
  garbagePick: number;
}

/** What a builder broke: whether the request must now be refused, and its name for the failure message. */
export interface Broken {
  refuse: boolean;
  mutation?: string;
}
