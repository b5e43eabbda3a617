/** What every command gets from `main`: output sinks and a place for its exit code. */
export interface CommandContext {
  exitCode: number;
  stdout(line: string): void;
  stdoutBytes(bytes: Uint8Array): void;
  stderr(line: string): void;
}

export function processContext(): CommandContext {
  return {
    exitCode: 0,
    stdout: (line) => process.stdout.write(`${line}\n`),
    stdoutBytes: (bytes) => process.stdout.write(bytes),
    stderr: (line) => process.stderr.write(`${line}\n`),
  };
}
