// The views not yet ported to Preact, and the parts of the old client they share (session,
// capabilities, the stream), re-exported for main.tsx until each is ported and deleted.
export { session, loadCapabilities, has } from './api.js';
export * as device from './views/device.js';
