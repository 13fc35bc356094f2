// What `firmware` and `apps` share on the publisher's side: the image streamed from disk, the signed
// manifest file `sign` writes and `upload` reads back, and comma-separated lists from flags.
import { readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { z } from 'zod';
import { UsageError } from '../errors.ts';

/** A file as fetch's stream body, read 256 KiB at a time as fetch pulls: a 4 GiB image is never in memory. */
export function fileStream(path: string): ReadableStream<Uint8Array> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      handle ??= await open(path, 'r');
      const buf = new Uint8Array(256 * 1024);
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) {
        await handle.close();
        controller.close();
      } else controller.enqueue(buf.subarray(0, bytesRead));
    },
    async cancel() {
      await handle?.close();
    },
  });
}

/** `A, B,,C` → `['A', 'B', 'C']`. */
export const listOf = (flag: string): string[] =>
  flag
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);

/** `{manifest, signature}` as `sign` writes it: the body of the register route (the manifest checked by its own schema). */
const signedFile = z.object({ manifest: z.unknown(), signature: z.string().min(1) }).strict();

/**
 * The signed manifest file, checked against the image about to be uploaded: a different file of
 * another size is refused before anything is sent. `signCommand` is what writes such a file.
 */
export function readSignedFor<M extends { size: number }>(manifest: z.ZodType<M>, file: string, image: string, signCommand: string) {
  const notSigned = (why: string | undefined) => new UsageError(`${file} is not a signed manifest (${signCommand} writes one): ${why}`);
  const signed = signedFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!signed.success) throw notSigned(signed.error.issues[0]?.message);
  const parsed = manifest.safeParse(signed.data.manifest);
  if (!parsed.success) throw notSigned(issuesLine(parsed.error));
  const size = statSync(image).size;
  if (size !== parsed.data.size)
    throw new UsageError(`${image} has ${size} bytes, the manifest says ${parsed.data.size}: not the image that was signed`);
  return { manifest: parsed.data, signature: signed.data.signature };
}

/** A zod refusal of flags as one usage line: `version: must be a semantic version (1.2.3); …`. */
export const issuesLine = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
