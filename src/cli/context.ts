/** What every command gets from `main`: output sinks and a place for its exit code. */
export interface CommandContext {
  exitCode: number;
  stdout(line: string): void;
  stdoutBytes(bytes: Uint8Array): void;
  stderr(line: string): void;
}

let pipeHandlersInstalled = false;

/**
 * A reader that goes away (`fpm relay --help | head`, `fpm tail | head`) is not an error:
 * EPIPE on stdout ends the command quietly with exit code 0; on stderr the lines have
 * nowhere to go and are dropped. Any other stream error is left to crash as before.
 */
function quitQuietlyOnClosedPipes(): void {
  if (pipeHandlersInstalled) return;
  pipeHandlersInstalled = true;
  const onError = (stream: "stdout" | "stderr") => (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_DESTROYED") throw err;
    if (stream === "stdout") process.exit(0);
  };
  process.stdout.on("error", onError("stdout"));
  process.stderr.on("error", onError("stderr"));
}

/** The context of the `fpm` process itself: its stdout and stderr. */
export function processContext(): CommandContext {
  quitQuietlyOnClosedPipes();
  return {
    exitCode: 0,
    stdout: (line) => process.stdout.write(`${line}\n`),
    stdoutBytes: (bytes) => process.stdout.write(bytes),
    stderr: (line) => process.stderr.write(`${line}\n`),
  };
}
