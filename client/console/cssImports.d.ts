// A stylesheet imported by a page (`import './map.css'`) is bundled by esbuild into console.css
// (server/dashboard/bundle.ts), which the shell links; to TypeScript it is a side effect, no value.
declare module '*.css';
