/**
 * Splits a byte or text stream into lines as chunks arrive. A partial line longer than
 * `maxPending` characters is discarded rather than kept growing (a stream with no newline must
 * not cost unbounded memory).
 */
export class LineSplitter {
  private pending = "";

  constructor(private readonly maxPending = 1_000_000) {}

  /** The complete lines `chunk` finishes, without their "\n". */
  push(chunk: string | Buffer): string[] {
    this.pending += typeof chunk === "string" ? chunk : chunk.toString();
    const lines = this.pending.split("\n");
    this.pending = lines.pop() ?? "";
    if (this.pending.length > this.maxPending) this.pending = "";
    return lines;
  }
}
