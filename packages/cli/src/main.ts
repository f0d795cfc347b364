#!/usr/bin/env node
// The shebang survives compilation, so the built file can be the package's `beacon` bin.
import { run } from './index.js';

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  isTTY: process.stderr.isTTY,
});
