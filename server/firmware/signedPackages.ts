// What firmware images and payment-app packages share: a signed manifest registered once per name
// and version (the same manifest again is the same package; other content under that version is
// 409 version_exists), then the content streamed to storage, hashed on the way, and the package
// marked ready in the transaction that also writes its audit entry. Each catalogue supplies its
// own table reads and writes; the rules live here once.
import type { Readable } from 'node:stream';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import { isUniqueViolation } from '../core/sqlState.ts';
import { conflict, unprocessable } from '../errors.ts';
import type { ArtifactStorage } from './artifactStorage.ts';

/** The part of a package row the shared rules read. */
export interface PackageRow {
  id: string;
  state: 'awaiting_content' | 'ready';
  size: number;
  sha256: string;
}

/** The part of a manifest the shared rules read. */
export interface PackageManifest {
  version: string;
  size: number;
  sha256: string;
}

export interface PackageCatalogue<M extends PackageManifest, R extends PackageRow> {
  /** "pos-os 2.0.0", "com.acme.emv 2.1.0": how refusals name the package. */
  label(m: M): string;
  /** The refusal's message when no publisher key is trusted at all. */
  noPublisherKeys: string;
  /** The publisher key whose signature over the canonical manifest holds, or null. */
  signerOf(m: M, signature: string, keys: readonly string[]): string | null;
  /** The row registered for the manifest's name and version, if any. */
  existing(m: M): Promise<R | undefined>;
  insert(tx: Tx, m: M, signed: { signature: string; publisherKey: string; createdBy: string }): Promise<R>;
  markReady(tx: Tx, id: string): Promise<R>;
}

/** A new package version (created), or the one registered before with the very same manifest. */
export async function registerPackage<M extends PackageManifest, R extends PackageRow>(
  db: Db,
  catalogue: PackageCatalogue<M, R>,
  input: { manifest: M; signature: string; publisherKeys: readonly string[]; createdBy: string },
  inTx: (tx: Tx, row: R) => Promise<unknown>,
): Promise<{ row: R; created: boolean }> {
  const { manifest } = input;
  if (input.publisherKeys.length === 0) throw unprocessable('bad_signature', catalogue.noPublisherKeys);
  const signer = catalogue.signerOf(manifest, input.signature, input.publisherKeys);
  if (!signer)
    throw unprocessable('bad_signature', 'the signature does not verify with any trusted publisher key over the canonical manifest');
  const existing = await catalogue.existing(manifest);
  if (existing) {
    if (existing.sha256 === manifest.sha256 && existing.size === manifest.size) return { row: existing, created: false };
    throw conflict('version_exists', `${catalogue.label(manifest)} already exists with other content`, { id: existing.id });
  }
  try {
    const row = await db.transaction(async (tx) => {
      const r = await catalogue.insert(tx, manifest, { signature: input.signature, publisherKey: signer, createdBy: input.createdBy });
      await inTx(tx, r);
      return r;
    });
    return { row, created: true };
  } catch (err) {
    // Two registrations of one version at the same moment: the loser is told as if it came second.
    if (isUniqueViolation(err)) throw conflict('version_exists', `${catalogue.label(manifest)} already exists`, undefined, { cause: err });
    throw err;
  }
}

/**
 * Streams the content in; on a size or sha256 mismatch nothing is kept (422 hash_mismatch).
 * `inTx` runs in the transaction that marks it ready (the audit entry: both commit or neither);
 * content sent again for a ready package is drained and only audited.
 */
export async function storePackageContent<R extends PackageRow>(
  deps: { db: Db; storage: ArtifactStorage },
  row: R,
  body: Readable,
  markReady: (tx: Tx, id: string) => Promise<R>,
  inTx: (tx: Tx, row: R) => Promise<unknown>,
): Promise<R> {
  if (row.state === 'ready') {
    body.resume();
    await deps.db.transaction((tx) => inTx(tx, row));
    return row;
  }
  // Stored by sha256: identical bytes of another package are simply written again, verified.
  const put = await deps.storage.put(body, { size: row.size, sha256: row.sha256 });
  if (!put.ok)
    throw unprocessable('hash_mismatch', `content ${put.reason} does not match the manifest`, {
      expected: { size: row.size, sha256: row.sha256 },
      got: { size: put.size, sha256: put.sha256 },
    });
  return deps.db.transaction(async (tx) => {
    const done = await markReady(tx, row.id);
    await inTx(tx, done);
    return done;
  });
}
