// ans104Id and ChainVerifier's item form against the repository's tests/vectors/ans104.json (items made by
// npm arbundles and aoconnect).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as sign from "../src/sign";

const file = path.join(__dirname, "..", "..", "..", "..", "tests", "vectors", "ans104.json");
const V = JSON.parse(fs.readFileSync(file, "utf8"));

test("ANS-104 IDs are sha256 of the signature", () => {
  assert.ok(V.vectors.length >= 3);
  for (const v of V.vectors) {
    const raw = new Uint8Array(Buffer.from(v.raw, "base64"));
    assert.equal(sign.encodeId(sign.ans104Id(raw)), v.id, v.name);
  }
  assert.throws(() => sign.ans104Id(new Uint8Array([9, 0, 1])), /not an ANS-104 item/);
});
