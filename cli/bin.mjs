#!/usr/bin/env node
// The `posfleet` bin. A `#!/usr/bin/env -S node --import tsx` shebang on cli/posfleet.ts resolves
// `tsx` from the working directory, so an installed bin run from anywhere else fails with
// ERR_MODULE_NOT_FOUND; registering tsx from here resolves it next to this file, wherever it runs.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./posfleet.ts');
process.exitCode = await main(process.argv.slice(2));
