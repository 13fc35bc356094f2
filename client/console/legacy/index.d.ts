// Types of what main.tsx uses from the old, untyped views (legacy/index.js) while they are ported.
import type { Me, ViewContext, ViewInstance } from '../viewContract.ts';

export interface LegacyView {
  mount(root: HTMLElement, ctx: ViewContext): ViewInstance | undefined;
}

export const session: { token: string | null; me: Me | null; onUnauthorized: () => void };
export function loadCapabilities(): Promise<Set<string>>;
export function has(route: string): boolean;
export const device: LegacyView;
