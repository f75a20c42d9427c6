import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  crc32c,
  FILE_VERSION,
  maskedCrc32c,
  readEventFile,
  readEvents,
  TensorBoardWriter,
} from "../../lib/common/tensorboard";

const made: string[] = [];
const tmpdir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tensorboard-test-"));
  made.push(dir);
  return dir;
};
after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
const bytes = (s: string) => new TextEncoder().encode(s);
const f32 = (v: number) => Math.fround(v);

test("CRC32C known vectors (RFC 3720 B.4, TensorFlow's crc32c_test)", () => {
  assert.equal(crc32c(bytes("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

test("masked CRC matches a record from a real TensorFlow event file", () => {
  // Event(file_version="CRC test, one two"), checksum taken from a TF-written file (TensorBoard's rustboard tests)
  assert.equal(maskedCrc32c(bytes("\x1a\x11CRC test, one two")), 0x5794d08a);
});

/** A TFRecord framed by hand (not by the library), to read a known event. */
function handFramed(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + data.length);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, 0x5794d08a, true);
  return out;
}

test("reads a hand-framed file_version event", () => {
  const file = path.join(tmpdir(), "events.out.tfevents.0.test");
  fs.writeFileSync(file, handFramed(bytes("\x1a\x11CRC test, one two")));
  assert.deepEqual(readEventFile(file), [{ wallTime: 0, step: 0, fileVersion: "CRC test, one two", values: [] }]);
});

test("a scalar event is byte-for-byte the protobuf encoding of Event/Summary/Value", () => {
  const tb = new TensorBoardWriter(tmpdir());
  tb.scalar("a", 0.5, 2, 1);
  const file = fs.readFileSync(tb.file);
  const start = Number(file.readBigUInt64LE(0)) + 16; // skip the file_version record
  const data = file.subarray(start + 12, start + 12 + Number(file.readBigUInt64LE(start)));
  const expected = [
    0x09,
    0,
    0,
    0,
    0,
    0,
    0,
    0xf0,
    0x3f, // wall_time = 1.0: field 1, fixed64
    0x10,
    0x02, // step = 2: field 2, varint
    0x2a,
    0x0a, // summary: field 5, 10 bytes
    0x0a,
    0x08, // Summary.value: field 1, 8 bytes
    0x0a,
    0x01,
    0x61, // Value.tag = "a"
    0x15,
    0,
    0,
    0,
    0x3f, // Value.simple_value = 0.5f: field 2, fixed32
  ];
  assert.deepEqual([...data], expected);
});

test("writer: file name, file_version first, scalars round trip as float32", () => {
  const dir = path.join(tmpdir(), "nested", "run");
  const tb = new TensorBoardWriter(dir);
  assert.match(
    path.basename(tb.file),
    new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${os.hostname().replace(/\./g, "\\.")}$`),
  );
  const written = [
    { tag: "loss/train", value: 0.0123, step: 1, wallTime: 1700000000.25 },
    { tag: "loss/train", value: 0.0101, step: 2, wallTime: 1700000001.5 },
    { tag: "validation/auroc", value: 0.875, step: 2, wallTime: 1700000002 },
    { tag: "big step", value: -3.5e38, step: 2 ** 40, wallTime: 1700000003 },
    { tag: "négatif ✓", value: 7, step: -5, wallTime: 1700000004 },
  ];
  for (const w of written) tb.scalar(w.tag, w.value, w.step, w.wallTime);
  const events = readEventFile(tb.file);
  assert.equal(events[0].fileVersion, FILE_VERSION);
  assert.deepEqual(events[0].values, []);
  assert.ok(Math.abs(events[0].wallTime - Date.now() / 1000) < 60);
  assert.deepEqual(
    readEvents(tb.file),
    written.map((w) => ({ wallTime: w.wallTime, step: w.step, tag: w.tag, value: f32(w.value) })),
  );
});

test("scalars() writes several values in one event; NaN survives", () => {
  const tb = new TensorBoardWriter(tmpdir());
  tb.scalars({ a: 1, b: 2.5, c: NaN }, 3, 42);
  const events = readEventFile(tb.file);
  assert.equal(events.length, 2);
  assert.equal(events[1].step, 3);
  assert.equal(events[1].values.length, 3);
  const scalars = readEvents(tb.file);
  assert.deepEqual(scalars.slice(0, 2), [
    { wallTime: 42, step: 3, tag: "a", value: 1 },
    { wallTime: 42, step: 3, tag: "b", value: 2.5 },
  ]);
  assert.ok(Number.isNaN(scalars[2].value));
});

test("two writers in the same folder and second get different files", () => {
  const dir = tmpdir();
  const a = new TensorBoardWriter(dir);
  const b = new TensorBoardWriter(dir);
  assert.notEqual(a.file, b.file);
  a.scalar("x", 1, 1);
  b.scalar("x", 2, 1);
  assert.equal(readEvents(a.file)[0].value, 1);
  assert.equal(readEvents(b.file)[0].value, 2);
});

test("a corrupted byte, a corrupted length or a truncated file is an error naming the file and offset", () => {
  const tb = new TensorBoardWriter(tmpdir());
  tb.scalar("loss", 0.5, 1, 1);
  tb.scalar("loss", 0.25, 2, 2);
  const good = fs.readFileSync(tb.file);
  const firstLength = Number(good.readBigUInt64LE(0)) + 16;
  const secondLength = Number(good.readBigUInt64LE(firstLength)) + 16;
  const second = firstLength + secondLength; // start of the third record

  const dataFlip = Buffer.from(good);
  dataFlip[second + 12 + 3] ^= 0x01; // one bit of the third record's data
  fs.writeFileSync(tb.file, dataFlip);
  assert.throws(
    () => readEvents(tb.file),
    new RegExp(`${escapeText(tb.file)}: record at byte ${second}: data CRC mismatch`),
  );

  const lengthFlip = Buffer.from(good);
  lengthFlip[firstLength] ^= 0x10; // the second record's length
  fs.writeFileSync(tb.file, lengthFlip);
  assert.throws(() => readEvents(tb.file), new RegExp(`record at byte ${firstLength}: length CRC mismatch`));

  fs.writeFileSync(tb.file, good.subarray(0, good.length - 3));
  assert.throws(() => readEvents(tb.file), new RegExp(`record at byte ${second}: truncated data`));
  fs.writeFileSync(tb.file, good.subarray(0, firstLength + 5));
  assert.throws(() => readEvents(tb.file), new RegExp(`record at byte ${firstLength}: truncated header`));

  fs.writeFileSync(tb.file, good);
  assert.equal(readEvents(tb.file).length, 2);
});

test("writer errors: bad step, empty tag, non-number value, no scalars", () => {
  const tb = new TensorBoardWriter(tmpdir());
  assert.throws(() => tb.scalar("loss", 0.1, 1.5), /step must be an integer, got 1.5 for scalar "loss"/);
  assert.throws(() => tb.scalar("", 0.1, 1), /tag must be a non-empty string/);
  assert.throws(() => tb.scalar("loss", "0.1" as unknown as number, 1), /scalar "loss" must be a number, got string/);
  assert.throws(() => tb.scalars({}, 1), /no scalars given for step 1/);
  assert.equal(readEvents(tb.file).length, 0);
});

function escapeText(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
