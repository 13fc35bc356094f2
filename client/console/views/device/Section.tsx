/** @jsxImportSource preact */
// A card with a heading (h2) that labels it, as every section of the device page is.
import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  const id = useId();
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/** What a build without this part's route shows in its place. */
export function Unavailable({ what }: { what: string }) {
  return (
    <p class="unavailable" data-unavailable={what}>
      {what}: not available in this build.
    </p>
  );
}
