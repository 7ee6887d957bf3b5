// sign.ts against the repository's tests/vectors/ids.json (AONODE_VECTORS overrides the path).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as sign from "../src/sign";

const file = process.env.AONODE_VECTORS ?? path.join(__dirname, "..", "..", "..", "..", "tests", "vectors", "ids.json");
const V = JSON.parse(fs.readFileSync(file, "utf8"));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));

function sig(s: any): sign.Signature | undefined {
  return s ? { scheme: s.scheme, owner: unhex(s.owner_hex), value: unhex(s.value_hex) } : undefined;
}

function message(m: any): sign.Message {
  return { target: m.target, anchor: m.anchor, tags: m.tags, data: unhex(m.data_hex), signature: sig(m.signature) };
}

function checkEncoded(c: any, content: Uint8Array, digest: Uint8Array, full: Uint8Array, id: Uint8Array): void {
  assert.equal(hex(content), c.content_encoding_hex, `${c.name}: content encoding`);
  assert.equal(hex(digest), c.content_digest_hex, `${c.name}: content digest`);
  assert.equal(hex(full), c.encoding_hex, `${c.name}: encoding`);
  assert.equal(hex(id), c.id_hex, `${c.name}: id`);
  assert.equal(sign.encodeId(id), c.id_b64url, `${c.name}: id text`);
}

test("messages: encodings, digests, IDs, signatures, decoding", () => {
  const signer = new sign.Ed25519Signer(unhex(V.keys.ed25519.seed_hex));
  assert.equal(signer.address, V.keys.ed25519.address);
  assert.ok(V.messages.length > 0);
  for (const c of V.messages) {
    const m = message(c.message);
    checkEncoded(c, sign.messageContentEncoding(m), sign.messageContentDigest(m), sign.messageEncoding(m), sign.messageId(m));
    assert.equal(hex(sign.messageEncoding(sign.decodeMessage(sign.messageEncoding(m)))), c.encoding_hex);
    if (!m.signature) continue;
    assert.ok(sign.verifyMessage(m), `${c.name}: verifies`);
    assert.equal(sign.address(m.signature.owner), c.owner_address);
    if (m.signature.scheme === sign.SCHEME_ED25519) {
      const again = signer.signMessage({ ...m, signature: undefined });
      assert.equal(hex(again.signature!.value), c.message.signature.value_hex, `${c.name}: deterministic`);
    }
    const tampered = { ...m, data: new Uint8Array([...m.data, 120]) };
    assert.ok(!sign.verifyMessage(tampered), `${c.name}: tampered message verifies`);
  }
});

test("assignments, hash chain and hashpath", () => {
  const pid = sign.decodeId(V.hash_chain.process_id_b64url);
  const verifier = new sign.ChainVerifier(pid);
  V.assignments.forEach((c: any, i: number) => {
    const f = c.assignment;
    const a: sign.Assignment = {
      process: sign.decodeId(f.process_b64url),
      slot: BigInt(f.slot),
      message: sign.decodeId(f.message_b64url),
      timestamp: BigInt(f.timestamp),
      blockHeight: BigInt(f.block_height),
      blockHash: unhex(f.block_hash_hex),
      epoch: BigInt(f.epoch),
      hashChain: sign.decodeId(f.hash_chain_b64url),
      signature: sig(f.signature),
    };
    checkEncoded(c, sign.assignmentContentEncoding(a), sign.assignmentContentDigest(a), sign.assignmentEncoding(a), sign.assignmentId(a));
    verifier.next(sign.decodeAssignment(unhex(c.encoding_hex)));
    assert.equal(sign.encodeId(verifier.chain), V.hash_chain.steps[i].hash_chain_b64url);
    assert.equal(sign.encodeId(verifier.hashpath), V.hashpath.steps[i].hashpath_b64url);
  });
  assert.equal(verifier.nextSlot, 3n);
  const skipping = new sign.ChainVerifier(pid);
  assert.throws(() => skipping.next(sign.decodeAssignment(unhex(V.assignments[1].encoding_hex))), /expected slot 0/);
});

test("locations and results", () => {
  assert.ok(V.locations.length > 0 && V.results.length > 0);
  for (const c of V.locations) {
    const f = c.location;
    const l: sign.Location = {
      address: f.address, url: f.url, nonce: BigInt(f.nonce), ttlMs: BigInt(f.ttl_ms),
      timestamp: BigInt(f.timestamp), signature: sig(f.signature),
    };
    checkEncoded(c, sign.locationContentEncoding(l), sign.locationContentDigest(l), sign.locationEncoding(l), sign.locationId(l));
    assert.ok(sign.verifyLocation(l));
    assert.ok(!sign.verifyLocation({ ...l, address: V.keys.rsa.address }));
    assert.equal(hex(sign.locationEncoding(sign.decodeLocation(sign.locationEncoding(l)))), c.encoding_hex);
  }
  for (const c of V.results) {
    const f = c.result;
    const r: sign.Result = {
      output: f.output, messages: f.messages.map(message), spawns: f.spawns.map(message),
      assignments: f.assignments, error: f.error, gasUsed: BigInt(f.gas_used ?? 0),
    };
    assert.equal(hex(sign.resultEncoding(r)), c.encoding_hex, c.name);
    assert.equal(hex(sign.resultDigest(r)), c.digest_hex, c.name);
    assert.equal(hex(sign.resultEncoding(sign.decodeResult(unhex(c.encoding_hex)))), c.encoding_hex);
  }
});

test("IDs and addresses", () => {
  assert.ok(V.ids.valid.length > 0);
  for (const c of V.ids.valid) {
    assert.equal(hex(sign.decodeId(c.text)), c.hex);
    assert.equal(sign.encodeId(unhex(c.hex)), c.text);
  }
  assert.ok(V.ids.invalid.length > 0);
  for (const c of V.ids.invalid) assert.throws(() => sign.decodeId(c.text), Error, `${JSON.stringify(c.text)}: ${c.why}`);
  assert.equal(V.addresses.length, 2);
  for (const a of V.addresses) assert.equal(sign.address(Buffer.from(a.owner_b64url, "base64url")), a.address);
});

test("decoding refuses malformed input; small-order keys never verify", () => {
  const good = sign.messageEncoding({ target: "", anchor: "", tags: [{ name: "A", value: "b" }], data: unhex("78") });
  const bad = {
    truncated: good.slice(0, -1),
    trailing: new Uint8Array([...good, 0]),
    prefix: new Uint8Array([...Buffer.from("AOM2"), ...good.slice(4)]),
    bool: new Uint8Array([...good.slice(0, 4), 2, ...good.slice(5)]),
  };
  for (const [name, b] of Object.entries(bad)) assert.throws(() => sign.decodeMessage(b), sign.DecodeError, name);
  const identity = new Uint8Array(32);
  identity[0] = 1;
  const forged = new Uint8Array(64);
  forged.set(identity);
  assert.ok(!sign.verifyEd25519(identity, forged, new Uint8Array(32)));
});
