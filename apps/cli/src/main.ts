/** Entry point of the `ekm` CLI (`bin/ekm.js` requires the compiled form: dist/apps/cli/src/main.js). */
import { runCli } from './program';

void runCli(process.argv.slice(2), {
  io: { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) },
  env: process.env,
  cwd: process.cwd(),
}).then((code) => {
  // exitCode, not exit(): stdout is flushed before the process ends (large --json documents, pipes).
  process.exitCode = code;
});
