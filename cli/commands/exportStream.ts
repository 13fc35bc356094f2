// An export streamed from the server (docs/exports.md) into a file or stdout, chunk by chunk,
// waiting when the sink is full: 100,000 rows never sit in the CLI's memory.
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Query } from '../../client/apiClient.ts';
import type { Ctx } from '../context.ts';
import { UsageError } from '../errors.ts';

export type ExportFormat = 'csv' | 'json';

/** `--format` checked: csv (a header row) or json (NDJSON, one object per line). */
export function exportFormatOf(format: string | undefined, usage: string): ExportFormat {
  if (format === 'csv' || format === 'json') return format;
  throw new UsageError(`--format is csv or json\n  ${usage}`);
}

async function copyBody(res: Response, sink: NodeJS.WritableStream): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    if (!sink.write(value)) await once(sink, 'drain');
  }
}

export async function streamExport(ctx: Ctx, path: string, query: Query, format: ExportFormat, output: string | undefined): Promise<void> {
  const file: WriteStream | undefined = output ? createWriteStream(output) : undefined;
  const sink = file ?? process.stdout;
  try {
    const res = await ctx.client().raw('GET', path, {
      query: { ...query, format },
      headers: { accept: format === 'csv' ? 'text/csv' : 'application/x-ndjson' },
    });
    await copyBody(res, sink);
  } finally {
    if (file) await new Promise<void>((resolve, reject) => file.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }
  if (file) ctx.out.note(`written to ${output}`);
}
