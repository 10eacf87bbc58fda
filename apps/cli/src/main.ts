/** Entry point of the `ekm` CLI (`bin/ekm.js` requires the compiled form: dist/apps/cli/src/main.js). */
import { runCli } from './program';

// `ekm ... | head`: the reader went away. That is the reader's choice, not a failure: stop quietly
// (exit 0, no stack trace) instead of dying on the unhandled EPIPE error event.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

void runCli(process.argv.slice(2), {
  io: { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) },
  env: process.env,
  cwd: process.cwd(),
  stdoutTty: process.stdout,
}).then((code) => {
  // exitCode, not exit(): stdout is flushed before the process ends (large --json documents, pipes).
  process.exitCode = code;
});
