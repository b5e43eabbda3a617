/** `fpm decode` and `fpm encode`: the codec on the command line. */
import type { Command } from "commander";
import { decodeEnvelope } from "../codec/envelope.js";
import { decodeFpm } from "../codec/fpm-decode.js";
import { encodeFpm } from "../codec/fpm-encode.js";
import { toWireObject } from "../schema/forward-pass-metrics.js";
import { fpmFromJson } from "../schema/zod.js";
import { EXIT } from "./exit-codes.js";
import { parseHex, readFileBytes, readStdin, stringifyExact } from "./io.js";
import type { CommandContext } from "./context.js";
import { UsageError } from "../util/errors.js";

async function inputBytes(arg: string | undefined, file: string | undefined, what: string): Promise<Buffer> {
  if (arg !== undefined) {
    const bytes = parseHex(arg);
    if (!bytes)
      throw new UsageError(`the ${what} argument is not hex: pass hex digits, or use --file or stdin for raw bytes`);
    return bytes;
  }
  if (file !== undefined) return readFileBytes(file);
  return readStdin();
}

interface DecodeFlags {
  file?: string;
  envelope?: boolean;
  compact?: boolean;
}

interface EncodeFlags {
  file?: string;
  binary?: boolean;
}

export function registerCodecCommands(program: Command, ctx: CommandContext): void {
  program
    .command("decode")
    .description(
      "Decode one ForwardPassMetrics payload (or, with --envelope, a NATS envelope and its payload) and print it as JSON",
    )
    .argument("[hex]", "payload as hex; without it, --file or raw bytes on stdin")
    .option("-f, --file <path>", "read raw payload bytes from a file")
    .option("--envelope", "the input is a NATS event envelope; its payload is decoded too")
    .option("--compact", "print one line instead of indented JSON")
    .addHelpText(
      "after",
      "\nOn a rejected input, prints `<reason>: <detail>` on stderr and exits 2.\nReasons: decode, schema, unsupported_version, invalid_value.",
    )
    .action(async (hex: string | undefined, flags: DecodeFlags) => {
      ctx.exitCode = await runDecode(hex, flags, ctx);
    });

  program
    .command("encode")
    .description(
      "Encode ForwardPassMetrics JSON (wire field names; missing fields default) to the canonical msgpack bytes msgspec writes",
    )
    .argument("[json]", "the message as JSON; without it, --file or stdin")
    .option("-f, --file <path>", "read the JSON from a file")
    .option("--binary", "write raw bytes to stdout instead of hex")
    .action(async (json: string | undefined, flags: EncodeFlags) => {
      ctx.exitCode = await runEncode(json, flags, ctx);
    });
}

async function runDecode(hex: string | undefined, flags: DecodeFlags, ctx: CommandContext): Promise<number> {
  const indent = flags.compact ? undefined : 2;
  let bytes: Buffer;
  try {
    bytes = await inputBytes(hex, flags.file, "payload");
  } catch (err) {
    ctx.stderr(`fpm decode: ${(err as Error).message}`);
    return EXIT.USAGE;
  }
  if (flags.envelope) return decodeEnvelopeBytes(bytes, indent, ctx);
  const r = decodeFpm(bytes);
  if (!r.ok) {
    ctx.stderr(`${r.reason}: ${r.detail}`);
    return EXIT.USAGE;
  }
  ctx.stdout(stringifyExact(toWireObject(r.value), indent));
  return EXIT.OK;
}

/** `fpm decode --envelope`: the envelope's fields and its decoded payload (or why it was rejected). */
function decodeEnvelopeBytes(bytes: Buffer, indent: number | undefined, ctx: CommandContext): number {
  const env = decodeEnvelope(bytes);
  if (!env.ok) {
    ctx.stderr(`envelope ${env.reason}: ${env.detail}`);
    return EXIT.USAGE;
  }
  const fpm = decodeFpm(env.value.payload);
  const out = {
    publisher_id: env.value.publisherId,
    sequence: env.value.sequence,
    published_at: env.value.publishedAtMs,
    topic: env.value.topic,
    payload: fpm.ok ? toWireObject(fpm.value) : { rejected: fpm.reason, detail: fpm.detail },
    payload_hex: Buffer.from(env.value.payload).toString("hex"),
  };
  ctx.stdout(stringifyExact(out, indent));
  if (fpm.ok) return EXIT.OK;
  ctx.stderr(`payload ${fpm.reason}: ${fpm.detail}`);
  return EXIT.USAGE;
}

async function runEncode(json: string | undefined, flags: EncodeFlags, ctx: CommandContext): Promise<number> {
  const text =
    json ??
    (flags.file !== undefined ? readFileBytes(flags.file).toString("utf8") : (await readStdin()).toString("utf8"));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    ctx.stderr(`fpm encode: input is not JSON: ${(err as Error).message}`);
    return EXIT.USAGE;
  }
  let bytes: Uint8Array;
  try {
    bytes = encodeFpm(fpmFromJson(parsed));
  } catch (err) {
    const e = err as { issues?: { path: PropertyKey[]; message: string }[]; message: string };
    const detail = e.issues
      ? e.issues.map((i) => `$.${i.path.map(String).join(".")}: ${i.message}`).join("; ")
      : e.message;
    ctx.stderr(`fpm encode: not a valid ForwardPassMetrics: ${detail}`);
    return EXIT.USAGE;
  }
  if (flags.binary) ctx.stdoutBytes(bytes);
  else ctx.stdout(Buffer.from(bytes).toString("hex"));
  return EXIT.OK;
}
