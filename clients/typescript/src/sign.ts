/**
 * aonode's IDs, canonical encodings, signatures and schedule verification (docs/ids.md), so a
 * TypeScript client computes the same bytes, digests and IDs as the node. Checked against
 * tests/vectors/ids.json by test/vectors.test.ts.
 *
 * Encodings are built by an append-only writer and read by a bounds-checked reader that refuses
 * truncation, trailing bytes, bad booleans and invalid UTF-8, so every byte string that decodes
 * re-encodes to itself (docs/ids.md §2.7). blake3 is @noble/hashes'; Ed25519, RSA-PSS and SHA-256 are
 * node:crypto's (OpenSSL), with aonode's extra Ed25519 refusals added here (docs/ids.md §5).
 */
import * as crypto from "node:crypto";
import { blake3 } from "@noble/hashes/blake3";

export const SCHEME_ED25519 = "ed25519";
export const SCHEME_RSA_PSS_SHA512 = "rsa-pss-sha512";

export interface Signature {
  scheme: string;
  owner: Uint8Array;
  value: Uint8Array;
}

export interface Tag {
  name: string;
  value: string;
}

/** An AO message; `target` is "" for a Process. */
export interface Message {
  target: string;
  anchor: string;
  tags: Tag[];
  data: Uint8Array;
  signature?: Signature;
}

/** A scheduler's statement that `message` holds `slot` of `process`. IDs are raw 32 bytes. */
export interface Assignment {
  process: Uint8Array;
  slot: bigint;
  message: Uint8Array;
  timestamp: bigint;
  blockHeight: bigint;
  blockHash: Uint8Array;
  epoch: bigint;
  hashChain: Uint8Array;
  signature?: Signature;
}

export interface Location {
  address: string;
  url: string;
  nonce: bigint;
  ttlMs: bigint;
  timestamp: bigint;
  signature?: Signature;
}

export interface Result {
  output: { data: string; prompt: string; print: boolean };
  messages: Message[];
  spawns: Message[];
  assignments: { processes: string[]; message: string }[];
  error: string;
  /** ao's GasUsed; absent or 0 for most results (docs/wasm.md). A non-zero value selects the AOR2 encoding. */
  gasUsed?: bigint;
}

export class DecodeError extends Error {}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

class Writer {
  private parts: Uint8Array[] = [];
  private size = 0;
  raw(b: Uint8Array): void {
    this.parts.push(b);
    this.size += b.length;
  }
  u8(v: number): void {
    this.raw(Uint8Array.of(v));
  }
  u32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v);
    this.raw(b);
  }
  u64(v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v);
    this.raw(b);
  }
  bytes32(b: Uint8Array): void {
    this.u32(b.length);
    this.raw(b);
  }
  str32(s: string): void {
    this.bytes32(utf8.encode(s));
  }
  bytes64(b: Uint8Array): void {
    this.u64(BigInt(b.length));
    this.raw(b);
  }
  str64(s: string): void {
    this.bytes64(utf8.encode(s));
  }
  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }
  sigHead(s: Signature | undefined): void {
    if (!s) return this.u8(0);
    this.u8(1);
    this.str32(s.scheme);
    this.bytes32(s.owner);
  }
  sigTail(s: Signature | undefined): void {
    if (s) this.bytes32(s.value);
  }
  done(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

class Reader {
  private at = 0;
  private view: DataView;
  constructor(private b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  left(): number {
    return this.b.length - this.at;
  }
  take(n: number | bigint): Uint8Array {
    if (BigInt(n) > BigInt(this.left())) throw new DecodeError(`truncated: need ${n} bytes, ${this.left()} left`);
    const out = this.b.slice(this.at, this.at + Number(n));
    this.at += Number(n);
    return out;
  }
  u8(): number {
    return this.take(1)[0];
  }
  u32(): number {
    this.take(4);
    return this.view.getUint32(this.at - 4);
  }
  u64(): bigint {
    this.take(8);
    return this.view.getBigUint64(this.at - 8);
  }
  bytes32(): Uint8Array {
    return this.take(this.u32());
  }
  bytes64(): Uint8Array {
    return this.take(this.u64());
  }
  text(b: Uint8Array): string {
    try {
      return utf8Strict.decode(b);
    } catch {
      throw new DecodeError("invalid UTF-8");
    }
  }
  str32(): string {
    return this.text(this.bytes32());
  }
  str64(): string {
    return this.text(this.bytes64());
  }
  bool(): boolean {
    const v = this.u8();
    if (v > 1) throw new DecodeError(`bool byte ${v}`);
    return v === 1;
  }
  /** A u32 count, refused when the bytes left could not hold that many items of minSize bytes. */
  count(minSize: number): number {
    const n = this.u32();
    if (n * minSize > this.left()) throw new DecodeError(`count ${n} exceeds the ${this.left()} bytes left`);
    return n;
  }
  prefix(p: string): void {
    const got = new TextDecoder().decode(this.take(4));
    if (got !== p) throw new DecodeError(`prefix ${JSON.stringify(got)}, want ${p}`);
  }
  sigHead(): Signature | undefined {
    if (!this.bool()) return undefined;
    return { scheme: this.str32(), owner: this.bytes32(), value: new Uint8Array() };
  }
  sigTail(s: Signature | undefined): void {
    if (s) s.value = this.bytes32();
  }
  id32(what: string): Uint8Array {
    const b = this.bytes32();
    if (b.length !== 32) throw new DecodeError(`${what}: ${b.length} bytes, want 32`);
    return b;
  }
  end(): void {
    if (this.left() !== 0) throw new DecodeError(`${this.left()} trailing bytes`);
  }
}

function blake(b: Uint8Array): Uint8Array {
  return blake3(b);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// ---- IDs (docs/ids.md §1) ----

const ID_RE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** The 43-character unpadded base64url text of a 32-byte ID. */
export function encodeId(id: Uint8Array): string {
  return Buffer.from(id).toString("base64url");
}

/** Parses an ID strictly: 43 base64url characters whose unused trailing bits are zero. */
export function decodeId(text: string): Uint8Array {
  if (!ID_RE.test(text)) throw new Error(`not a 43-character base64url ID (got ${JSON.stringify(text)})`);
  return new Uint8Array(Buffer.from(text, "base64url"));
}

export function isId(text: string): boolean {
  return ID_RE.test(text);
}

/** base64url(sha256(owner)) (docs/ids.md §6). */
export function address(owner: Uint8Array): string {
  return encodeId(crypto.createHash("sha256").update(owner).digest());
}

/** blake3(prev ‖ next): the step of both the hash chain and the hashpath. */
function fold(prev: Uint8Array, next: Uint8Array): Uint8Array {
  return blake(concat(prev, next));
}

/** hash_chain(n) = blake3(hash_chain(n-1) ‖ message_id(n)); hash_chain(-1) = process ID. */
export function nextHashChain(prev: Uint8Array, messageId: Uint8Array): Uint8Array {
  return fold(prev, messageId);
}

/** hashpath(n) = blake3(hashpath(n-1) ‖ assignment_id(n)); hashpath(-1) = process ID. */
export function nextHashpath(prev: Uint8Array, assignmentId: Uint8Array): Uint8Array {
  return fold(prev, assignmentId);
}

// ---- Encodings (docs/ids.md §2) ----

const te = (s: string) => utf8.encode(s);

function messageContentWriter(m: Message): Writer {
  const w = new Writer();
  w.raw(te("AOM1"));
  w.sigHead(m.signature);
  w.str32(m.target);
  w.str32(m.anchor);
  w.u32(m.tags.length);
  for (const t of m.tags) {
    w.str32(t.name);
    w.str32(t.value);
  }
  w.bytes64(m.data);
  return w;
}

export function messageContentEncoding(m: Message): Uint8Array {
  return messageContentWriter(m).done();
}

export function messageEncoding(m: Message): Uint8Array {
  const w = messageContentWriter(m);
  w.sigTail(m.signature);
  return w.done();
}

export function messageContentDigest(m: Message): Uint8Array {
  return blake(messageContentEncoding(m));
}

/** blake3 of the signature value when signed, else the content digest (docs/ids.md §3). */
function idOf(signature: Signature | undefined, contentDigest: () => Uint8Array): Uint8Array {
  return signature ? blake(signature.value) : contentDigest();
}

export function messageId(m: Message): Uint8Array {
  return idOf(m.signature, () => messageContentDigest(m));
}

function assignmentContentWriter(a: Assignment): Writer {
  const w = new Writer();
  w.raw(te("AOA1"));
  w.sigHead(a.signature);
  w.bytes32(a.process);
  w.u64(a.slot);
  w.bytes32(a.message);
  w.u64(a.timestamp);
  w.u64(a.blockHeight);
  w.bytes32(a.blockHash);
  w.u64(a.epoch);
  w.bytes32(a.hashChain);
  return w;
}

export function assignmentContentEncoding(a: Assignment): Uint8Array {
  return assignmentContentWriter(a).done();
}

export function assignmentEncoding(a: Assignment): Uint8Array {
  const w = assignmentContentWriter(a);
  w.sigTail(a.signature);
  return w.done();
}

export function assignmentContentDigest(a: Assignment): Uint8Array {
  return blake(assignmentContentEncoding(a));
}

export function assignmentId(a: Assignment): Uint8Array {
  return idOf(a.signature, () => assignmentContentDigest(a));
}

function locationContentWriter(l: Location): Writer {
  const w = new Writer();
  w.raw(te("AOL1"));
  w.sigHead(l.signature);
  w.str32(l.address);
  w.str32(l.url);
  w.u64(l.nonce);
  w.u64(l.ttlMs);
  w.u64(l.timestamp);
  return w;
}

export function locationContentEncoding(l: Location): Uint8Array {
  return locationContentWriter(l).done();
}

export function locationEncoding(l: Location): Uint8Array {
  const w = locationContentWriter(l);
  w.sigTail(l.signature);
  return w.done();
}

export function locationContentDigest(l: Location): Uint8Array {
  return blake(locationContentEncoding(l));
}

export function locationId(l: Location): Uint8Array {
  return idOf(l.signature, () => locationContentDigest(l));
}

export function resultEncoding(r: Result): Uint8Array {
  const w = new Writer();
  const gas = r.gasUsed ?? 0n;
  w.raw(te(gas !== 0n ? "AOR2" : "AOR1"));
  w.str64(r.output.data);
  w.str32(r.output.prompt);
  w.bool(r.output.print);
  for (const list of [r.messages, r.spawns]) {
    w.u32(list.length);
    for (const m of list) w.bytes64(messageEncoding(m));
  }
  w.u32(r.assignments.length);
  for (const a of r.assignments) {
    w.u32(a.processes.length);
    for (const p of a.processes) w.str32(p);
    w.str32(a.message);
  }
  w.str32(r.error);
  if (gas !== 0n) w.u64(gas);
  return w.done();
}

/** Names a slot's result: blake3 of its encoding (SlotResult.result_digest). */
export function resultDigest(r: Result): Uint8Array {
  return blake(resultEncoding(r));
}

function readMessage(r: Reader): Message {
  r.prefix("AOM1");
  const signature = r.sigHead();
  const target = r.str32();
  const anchor = r.str32();
  const tags: Tag[] = [];
  for (let n = r.count(8); n > 0; n--) tags.push({ name: r.str32(), value: r.str32() });
  const data = r.bytes64();
  r.sigTail(signature);
  return { target, anchor, tags, data, signature };
}

export function decodeMessage(b: Uint8Array): Message {
  const r = new Reader(b);
  const m = readMessage(r);
  r.end();
  return m;
}

/** Parses a full assignment encoding (SubscribeSchedule's CANONICAL format, `encoded_assignments`). */
export function decodeAssignment(b: Uint8Array): Assignment {
  const r = new Reader(b);
  r.prefix("AOA1");
  const signature = r.sigHead();
  const a: Assignment = {
    process: r.id32("process"),
    slot: r.u64(),
    message: r.id32("message"),
    timestamp: r.u64(),
    blockHeight: r.u64(),
    blockHash: r.bytes32(),
    epoch: r.u64(),
    hashChain: r.id32("hash chain"),
    signature,
  };
  r.sigTail(signature);
  r.end();
  return a;
}

export function decodeLocation(b: Uint8Array): Location {
  const r = new Reader(b);
  r.prefix("AOL1");
  const signature = r.sigHead();
  const l: Location = {
    address: r.str32(),
    url: r.str32(),
    nonce: r.u64(),
    ttlMs: r.u64(),
    timestamp: r.u64(),
    signature,
  };
  r.sigTail(signature);
  r.end();
  return l;
}

export function decodeResult(b: Uint8Array): Result {
  const r = new Reader(b);
  const withGas = b.length >= 4 && new TextDecoder().decode(b.slice(0, 4)) === "AOR2";
  r.prefix(withGas ? "AOR2" : "AOR1");
  const output = { data: r.str64(), prompt: r.str32(), print: r.bool() };
  const lists: Message[][] = [[], []];
  for (const list of lists) {
    for (let n = r.count(8); n > 0; n--) list.push(decodeMessage(r.bytes64()));
  }
  const assignments: Result["assignments"] = [];
  for (let n = r.count(8); n > 0; n--) {
    const processes: string[] = [];
    for (let k = r.count(4); k > 0; k--) processes.push(r.str32());
    assignments.push({ processes, message: r.str32() });
  }
  const error = r.str32();
  let gasUsed = 0n;
  if (withGas) {
    gasUsed = r.u64();
    if (gasUsed === 0n) throw new DecodeError("gas used 0 must be encoded as AOR1");
  }
  r.end();
  return { output, messages: lists[0], spawns: lists[1], assignments, error, gasUsed };
}

// ---- Signatures (docs/ids.md §5) ----

const P = (1n << 255n) - 19n;
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
// y-coordinates of small-order points (libsodium's list).
const SMALL_ORDER_Y = new Set([
  0n,
  1n,
  P - 1n,
  P,
  P + 1n,
  2707385501144840649318225287225658788936804267575313519463743609750303402022n,
  55188659117513257062467267217118295137698188065244968500265048394206261417927n,
]);

function littleEndian(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

function yOf(point: Uint8Array): bigint {
  return littleEndian(point) & ((1n << 255n) - 1n);
}

const ED25519_SPKI = Buffer.from("302a300506032b6570032100", "hex");
const ED25519_PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex");

/** Pure Ed25519 plus aonode's refusals: non-canonical or small-order owners, small-order R, S ≥ L. */
export function verifyEd25519(owner: Uint8Array, value: Uint8Array, digest: Uint8Array): boolean {
  if (owner.length !== 32 || value.length !== 64) return false;
  const y = yOf(owner);
  if (y >= P || SMALL_ORDER_Y.has(y) || SMALL_ORDER_Y.has(yOf(value.subarray(0, 32)))) return false;
  if (littleEndian(value.subarray(32)) >= L) return false;
  try {
    const key = crypto.createPublicKey({ key: Buffer.concat([ED25519_SPKI, owner]), format: "der", type: "spki" });
    return crypto.verify(null, digest, key, value);
  } catch {
    return false;
  }
}

/** rsa-pss-sha512: owner is the modulus (2048–4096 bits, odd, exponent 65537); any salt length. */
export function verifyRsaPss(owner: Uint8Array, value: Uint8Array, digest: Uint8Array): boolean {
  if (owner.length === 0 || owner[0] === 0 || value.length !== owner.length || (owner[owner.length - 1] & 1) === 0) {
    return false;
  }
  const bits = owner.length * 8 - Math.clz32(owner[0]) + 24;
  if (bits < 2048 || bits > 4096) return false;
  try {
    const key = crypto.createPublicKey({
      key: { kty: "RSA", n: Buffer.from(owner).toString("base64url"), e: "AQAB" },
      format: "jwk",
    });
    return crypto.verify("sha512", digest, {
      key,
      padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
      saltLength: crypto.constants.RSA_PSS_SALTLEN_AUTO,
    }, value);
  } catch {
    return false;
  }
}

/** Verifies a signature over a 32-byte content digest; unknown schemes never verify. */
export function verify(sig: Signature | undefined, digest: Uint8Array): boolean {
  if (!sig) return false;
  if (sig.scheme === SCHEME_ED25519) return verifyEd25519(sig.owner, sig.value, digest);
  if (sig.scheme === SCHEME_RSA_PSS_SHA512) return verifyRsaPss(sig.owner, sig.value, digest);
  return false;
}

export const verifyMessage = (m: Message) => verify(m.signature, messageContentDigest(m));
export const verifyAssignment = (a: Assignment) => verify(a.signature, assignmentContentDigest(a));
/** Also requires the record's address to be the signer's. */
export const verifyLocation = (l: Location) =>
  !!l.signature && address(l.signature.owner) === l.address && verify(l.signature, locationContentDigest(l));

/** Signs with a 32-byte Ed25519 seed (a wallet's "d"). */
export class Ed25519Signer {
  private key: crypto.KeyObject;
  readonly owner: Uint8Array;
  constructor(seed: Uint8Array) {
    if (seed.length !== 32) throw new Error("an Ed25519 seed is 32 bytes");
    this.key = crypto.createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: "der", type: "pkcs8" });
    const jwk = crypto.createPublicKey(this.key).export({ format: "jwk" });
    this.owner = new Uint8Array(Buffer.from(jwk.x as string, "base64url"));
  }
  static random(): Ed25519Signer {
    return new Ed25519Signer(crypto.randomBytes(32));
  }
  get address(): string {
    return address(this.owner);
  }
  /** Fills in scheme and owner, signs the content digest, stores the value (docs/ids.md §2.2). */
  signMessage(m: Message): Message {
    const signed: Message = { ...m, signature: { scheme: SCHEME_ED25519, owner: this.owner, value: new Uint8Array() } };
    signed.signature!.value = new Uint8Array(crypto.sign(null, messageContentDigest(signed), this.key));
    return signed;
  }
}

// ---- ANS-104 items (docs/ans104.md) ----

const ANS104_SIGNATURE_LENGTHS: Record<number, number> = { 1: 512, 2: 64, 3: 65 };

/**
 * The ID of an ANS-104 data item (a message the node holds in AO's own format, the `ans104` field of a
 * gRPC Message): sha256 of its signature. This does not verify the item (use npm arbundles for that).
 */
export function ans104Id(raw: Uint8Array): Uint8Array {
  const type = raw.length >= 2 ? raw[0] | (raw[1] << 8) : -1;
  const length = ANS104_SIGNATURE_LENGTHS[type];
  if (length === undefined || raw.length < 2 + length) throw new Error(`not an ANS-104 item (signature type ${type})`);
  return new Uint8Array(crypto.createHash("sha256").update(raw.subarray(2, 2 + length)).digest());
}

// ---- Schedule verification ----

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Checks a process's schedule as it streams in from slot 0: each assignment must be the next slot of
 * the process, be signed (by `scheduler`, an address, when given), carry
 * hash_chain(n) = blake3(hash_chain(n-1) ‖ message_id(n)) and, when the message is given, name it (an
 * ANS-104 item, given as its bytes, by its ID only). It also folds the hashpath, which names the state
 * after each slot.
 */
export class ChainVerifier {
  nextSlot = 0n;
  chain: Uint8Array;
  hashpath: Uint8Array;
  constructor(readonly process: Uint8Array, readonly scheduler = "") {
    this.chain = process;
    this.hashpath = process;
  }
  next(a: Assignment, m?: Message | Uint8Array): void {
    const at = `slot ${a.slot}`;
    if (!equal(a.process, this.process)) throw new Error(`${at}: assignment is for process ${encodeId(a.process)}`);
    if (a.slot !== this.nextSlot) throw new Error(`${at}: expected slot ${this.nextSlot}`);
    if (!verifyAssignment(a)) throw new Error(`${at}: bad assignment signature`);
    if (this.scheduler && address(a.signature!.owner) !== this.scheduler) {
      throw new Error(`${at}: signed by ${address(a.signature!.owner)}, not the scheduler ${this.scheduler}`);
    }
    if (m instanceof Uint8Array) {
      // An ANS-104 item: its ID is checked, its signature is not (see ans104Id).
      if (!equal(ans104Id(m), a.message)) throw new Error(`${at}: message ID differs from the assignment's`);
    } else if (m) {
      if (!equal(messageId(m), a.message)) throw new Error(`${at}: message ID differs from the assignment's`);
      if (m.signature && !verifyMessage(m)) throw new Error(`${at}: bad message signature`);
    }
    const chain = nextHashChain(this.chain, a.message);
    if (!equal(chain, a.hashChain)) throw new Error(`${at}: hash chain ${encodeId(a.hashChain)}, expected ${encodeId(chain)}`);
    this.chain = chain;
    this.hashpath = nextHashpath(this.hashpath, assignmentId(a));
    this.nextSlot += 1n;
  }
}
