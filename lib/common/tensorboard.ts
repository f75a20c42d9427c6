/**
 * TensorBoard event files without TensorFlow: write scalar summaries that `tensorboard --logdir runs` shows, and read
 * them back (for tests and for charts in notebooks).
 *
 * File format (TFRecord): each record is
 *   uint64 LE length | uint32 LE masked CRC32C of the 8 length bytes | data | uint32 LE masked CRC32C of data
 * with masked(crc) = ((crc >>> 15) | (crc << 17)) + 0xa282ead8 (mod 2³²). Each data is a serialized `Event`:
 *   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 *   Summary { repeated Value value = 1; }    Value { string tag = 1; float simple_value = 2; }
 * The first record of a file holds only wall_time and file_version "brain.Event:2".
 *
 * CRC32C and the protobuf encoding are written here (about 60 lines) because no well-kept, dependency-free JS package
 * does either for this format, and the four message fields above are all we need.
 * Writes are synchronous appends of whole records, so a crash never leaves a half-record except mid-syscall.
 *
 *   import { TensorBoardWriter, readEvents } from "../dist/lib/common";
 *   const tb = new TensorBoardWriter("runs/ae-32x48");   // creates runs/ae-32x48/events.out.tfevents.<secs>.<host>
 *   tb.scalar("loss/train", 0.0123, 1);
 *   readEvents(tb.file)   // [{ wallTime: 1.7e9, step: 1, tag: "loss/train", value: 0.0123 }]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// ---- CRC32C (Castagnoli), table-driven, reflected polynomial 0x82F63B78 ----

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32C of bytes: `crc32c(Buffer.from("123456789"))` → 0xe3069283. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The TFRecord masking of a CRC (so that CRCs of data that holds CRCs stay well distributed). */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

// ---- a minimal protobuf writer: varint, 64-bit, length-delimited and 32-bit fields ----

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

class ProtoWriter {
  private bytes: number[] = [];

  private varint(v: bigint): void {
    let x = BigInt.asUintN(64, v); // negative int64 → two's complement, 10 bytes
    while (x >= 0x80n) {
      this.bytes.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.bytes.push(Number(x));
  }

  private key(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }

  int64(field: number, v: number): this {
    this.key(field, VARINT);
    this.varint(BigInt(v));
    return this;
  }

  private raw(data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) this.bytes.push(data[i]);
  }

  double(field: number, v: number): this {
    this.key(field, FIXED64);
    const le = new DataView(new ArrayBuffer(8));
    le.setFloat64(0, v, true);
    this.raw(new Uint8Array(le.buffer));
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, FIXED32);
    const le = new DataView(new ArrayBuffer(4));
    le.setFloat32(0, v, true);
    this.raw(new Uint8Array(le.buffer));
    return this;
  }

  bytesField(field: number, data: Uint8Array): this {
    this.key(field, LENGTH_DELIMITED);
    this.varint(BigInt(data.length));
    this.raw(data);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytesField(field, new TextEncoder().encode(s));
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

// ---- a minimal protobuf reader for the same fields (unknown fields are skipped) ----

class ProtoReader {
  pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly where: () => string,
  ) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error(`${this.where()}: protobuf message ends inside a field`);
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      this.need(1);
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
    }
    throw new Error(`${this.where()}: varint longer than 10 bytes`);
  }

  key(): { field: number; wire: number } {
    const k = Number(this.varint());
    return { field: k >>> 3, wire: k & 7 };
  }

  double(): number {
    this.need(8);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  float(): number {
    this.need(4);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  bytes(): Uint8Array {
    const n = Number(this.varint());
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  skip(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === LENGTH_DELIMITED) this.bytes();
    else if (wire === FIXED64 || wire === FIXED32) {
      const n = wire === FIXED64 ? 8 : 4;
      this.need(n);
      this.pos += n;
    } else throw new Error(`${this.where()}: unsupported protobuf wire type ${wire}`);
  }
}

// ---- records ----

function frame(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

export const FILE_VERSION = "brain.Event:2";

/** Two writers in the same second and folder must not share a file: create exclusively, add a suffix if taken. */
function createExclusive(base: string, first: Uint8Array): string {
  for (let n = 0; ; n++) {
    const file = n === 0 ? base : `${base}.${process.pid}.${n}`;
    try {
      fs.writeFileSync(file, first, { flag: "wx" });
      return file;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || n >= 100) throw e;
    }
  }
}

/** Appends scalar summaries to a new event file in `logdir` (created if needed). */
export class TensorBoardWriter {
  /** The event file this writer appends to. */
  readonly file: string;

  constructor(logdir: string) {
    fs.mkdirSync(logdir, { recursive: true });
    const base = path.join(logdir, `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${os.hostname()}`);
    const first = frame(
      new ProtoWriter()
        .double(1, Date.now() / 1000)
        .string(3, FILE_VERSION)
        .finish(),
    );
    this.file = createExclusive(base, first);
  }

  /** One scalar: `tb.scalar("loss/train", 0.012, epoch)`. Values are stored as float32, as TensorBoard does. */
  scalar(tag: string, value: number, step: number, wallTime = Date.now() / 1000): void {
    this.scalars({ [tag]: value }, step, wallTime);
  }

  /** Several scalars at one step in one event: `tb.scalars({ "loss/train": 0.012, "loss/val": 0.015 }, epoch)`. */
  scalars(values: Record<string, number>, step: number, wallTime = Date.now() / 1000): void {
    const tags = Object.keys(values);
    if (tags.length === 0) throw new Error(`no scalars given for step ${step} (${this.file})`);
    for (const tag of tags) {
      if (tag === "") throw new Error(`scalar tag must be a non-empty string (${this.file})`);
      if (typeof values[tag] !== "number")
        throw new Error(`scalar "${tag}" must be a number, got ${typeof values[tag]} (${this.file})`);
    }
    if (!Number.isSafeInteger(step))
      throw new Error(`step must be an integer, got ${step} for scalar "${tags[0]}" (${this.file})`);
    const summary = new ProtoWriter();
    for (const tag of tags) summary.bytesField(1, new ProtoWriter().string(1, tag).float(2, values[tag]).finish());
    const event = new ProtoWriter().double(1, wallTime).int64(2, step).bytesField(5, summary.finish()).finish();
    fs.appendFileSync(this.file, frame(event));
  }
}

// ---- reading ----

export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  /** The simple_value scalars of the event's summary (other summary kinds are skipped). */
  values: { tag: string; value: number }[];
}

export interface ScalarEvent {
  wallTime: number;
  step: number;
  tag: string;
  value: number;
}

function decodeEvent(data: Uint8Array, where: () => string): DecodedEvent {
  const event: DecodedEvent = { wallTime: 0, step: 0, values: [] };
  const r = new ProtoReader(data, where);
  while (!r.done()) {
    const { field, wire } = r.key();
    if (field === 1 && wire === FIXED64) event.wallTime = r.double();
    else if (field === 2 && wire === VARINT) event.step = Number(BigInt.asIntN(64, r.varint()));
    else if (field === 3 && wire === LENGTH_DELIMITED) event.fileVersion = new TextDecoder().decode(r.bytes());
    else if (field === 5 && wire === LENGTH_DELIMITED) {
      const summary = new ProtoReader(r.bytes(), where);
      while (!summary.done()) {
        const s = summary.key();
        if (s.field !== 1 || s.wire !== LENGTH_DELIMITED) {
          summary.skip(s.wire);
          continue;
        }
        const value = new ProtoReader(summary.bytes(), where);
        let tag = "";
        let simple: number | undefined;
        while (!value.done()) {
          const v = value.key();
          if (v.field === 1 && v.wire === LENGTH_DELIMITED) tag = new TextDecoder().decode(value.bytes());
          else if (v.field === 2 && v.wire === FIXED32) simple = value.float();
          else value.skip(v.wire);
        }
        if (simple !== undefined) event.values.push({ tag, value: simple });
      }
    } else r.skip(wire);
  }
  return event;
}

/** Every event of a file, CRCs checked; an error names the file and the byte offset of a bad or truncated record. */
export function readEventFile(file: string): DecodedEvent[] {
  const buf = new Uint8Array(fs.readFileSync(file));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const events: DecodedEvent[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const at = offset;
    const where = () => `${file}: record at byte ${at}`;
    if (offset + 12 > buf.length) throw new Error(`${where()}: truncated header (${buf.length - offset} of 12 bytes)`);
    if (view.getUint32(offset + 8, true) !== maskedCrc32c(buf.subarray(offset, offset + 8))) {
      throw new Error(`${where()}: length CRC mismatch (corrupted file)`);
    }
    const length = Number(view.getBigUint64(offset, true));
    const end = offset + 12 + length;
    if (end + 4 > buf.length)
      throw new Error(`${where()}: truncated data (${length} bytes announced, file ends first)`);
    const data = buf.subarray(offset + 12, end);
    if (view.getUint32(end, true) !== maskedCrc32c(data))
      throw new Error(`${where()}: data CRC mismatch (corrupted file)`);
    events.push(decodeEvent(data, where));
    offset = end + 4;
  }
  return events;
}

/** The scalars of an event file, in file order: `readEvents(file).filter((e) => e.tag === "loss/train")`. */
export function readEvents(file: string): ScalarEvent[] {
  return readEventFile(file).flatMap((e) =>
    e.values.map(({ tag, value }) => ({ wallTime: e.wallTime, step: e.step, tag, value })),
  );
}
