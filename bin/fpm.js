#!/usr/bin/env node
// The `fpm` executable: a thin launcher for the compiled CLI (run `npm run build` first).
import { main } from "../dist/src/cli/main.js";

main(process.argv).then(
  (code) => {
    if (typeof code === "number") process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`fpm: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
