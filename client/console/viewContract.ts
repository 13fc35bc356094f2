// What every console page gets from the shell (main.tsx) and gives back.
import type { z } from 'zod';
import type { MeSchema } from '../../server/auth/meSchema.ts';

export type Me = z.infer<typeof MeSchema>;

export interface ViewContext {
  params: string[];
  query: URLSearchParams;
  announce(text: string): void;
  toast(text: string, kind?: 'info' | 'success' | 'error'): void;
  confirm(opts: { title: string; body: string | Node; confirmLabel?: string; danger?: boolean }): Promise<boolean>;
  navigate(url: string, opts?: { replace?: boolean }): void;
  setTitle(text: string): void;
}

export interface ViewInstance {
  onEvent?(name: string, data: Record<string, unknown>): void;
  unmount?(): void;
}
