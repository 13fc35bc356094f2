// An export as an HTTP answer: pages read one at a time, only when the client has taken the
// previous one (a pull-based ReadableStream: Node's socket back-pressure reaches the reads), and
// no read after the client went away. A failure mid-way errors the stream, so the connection is
// cut and the client sees an incomplete transfer, not a short file that looks whole.
//
// Hono's stream() helper was the first choice; it closes the answer normally when its callback
// throws, which turns a failed export into a truncated file a client cannot tell from a whole one.
import { contentTypes, encodePage, fileExtensions, type ExportFormat } from './exportFormat.ts';

export interface ExportOutcome {
  rows: number;
  /** Every page was read and sent; false when the client left or a read failed. */
  complete: boolean;
  error?: unknown;
}

export interface ExportBody {
  format: ExportFormat;
  columns: readonly string[];
  pages: AsyncIterable<readonly Record<string, unknown>[]>;
  /** Called once, when the export ends in whichever way. */
  ended: (outcome: ExportOutcome) => void;
}

export function exportStream({ format, columns, pages, ended }: ExportBody): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const it = pages[Symbol.asyncIterator]();
  let rows = 0;
  let first = true;
  let finished = false;
  let cancelled = false;
  const end = (outcome: Omit<ExportOutcome, 'rows'>) => {
    if (finished) return;
    finished = true;
    ended({ rows, ...outcome });
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await it.next();
          // The client left while the page was read: nothing more goes out.
          if (cancelled) return;
          if (next.done) {
            if (first) controller.enqueue(encoder.encode(encodePage(format, columns, [], true)));
            controller.close();
            end({ complete: true });
            return;
          }
          const text = encodePage(format, columns, next.value, first);
          first = false;
          rows += next.value.length;
          if (text) controller.enqueue(encoder.encode(text));
        } catch (error) {
          end({ complete: false, error });
          if (!cancelled) controller.error(error);
        }
      },
      async cancel() {
        // The client went away: the generator's finally runs, no further page is read.
        cancelled = true;
        end({ complete: false });
        await it.return?.(undefined);
      },
    },
    // Nothing read ahead of the client: the next page is read when the last one was taken.
    { highWaterMark: 0 },
  );
}

export const exportFileName = (name: string, format: ExportFormat) => `${name}.${fileExtensions[format]}`;

export const exportHeaders = (name: string, format: ExportFormat): Record<string, string> => ({
  'Content-Type': contentTypes[format],
  'Content-Disposition': `attachment; filename="${exportFileName(name, format)}"`,
  'Cache-Control': 'no-store',
});

/**
 * Keyset pages: `read(after)` gives up to `size` rows after the key `after` (undefined: from the
 * start), in key order; `onPage` counts every read (the module's internals show it to tests).
 */
export async function* keysetPages<T, K>(
  read: (after: K | undefined) => Promise<T[]>,
  keyOf: (row: T) => K,
  size: number,
  onPage: () => void,
): AsyncGenerator<T[]> {
  let after: K | undefined;
  for (;;) {
    const rows = await read(after);
    onPage();
    if (rows.length > 0) yield rows;
    const last = rows[rows.length - 1];
    if (rows.length < size || last === undefined) return;
    after = keyOf(last);
  }
}
