// The old views' stream is the console's own (stream.ts).
export { openStream } from '../stream.ts';
