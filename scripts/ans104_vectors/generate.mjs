// Writes tests/vectors/ans104.json: ANS-104 data items made by the real npm `@dha-team/arbundles` (the
// arbundles fork aoconnect depends on) and by the real aoconnect signer (`createDataItemSigner` with an
// `arweave` JWK, through aoconnect's own `signMessage`). Not run in CI: the committed JSON is what the
// Python tests read. Run: `npm ci && node generate.mjs ../../tests/vectors/ans104.json`.
import { writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import Arweave from "arweave";
import * as ArBundlesNs from "@dha-team/arbundles";
import * as ed from "@noble/ed25519";
import bs58 from "bs58";
import { connect, createDataItemSigner } from "@permaweb/aoconnect";
import { Wallet } from "@ethersproject/wallet";

const ArBundles = ArBundlesNs.default ?? ArBundlesNs;
const { createData, ArweaveSigner, SolanaSigner, EthereumSigner, DataItem } = ArBundles;

const out = process.argv[2] ?? "ans104.json";
const arweave = Arweave.init({});
const jwk = await arweave.wallets.generate();

const seed = Buffer.alloc(32, 7);
const pub = Buffer.from(await ed.getPublicKey(seed));
const solana = new SolanaSigner(bs58.encode(Buffer.concat([seed, pub])));
const rsa = new ArweaveSigner(jwk);
const ETH_KEY = "11".repeat(32);
const eth = new EthereumSigner(ETH_KEY);

const TARGET = Buffer.alloc(32, 0xab).toString("base64url");
const ANCHOR = "anchor-0123456789abcdef-01234567"; // 32 bytes

const vectors = [];

async function add(name, source, signer, data, opts) {
  const item = createData(data, signer, opts);
  await item.sign(signer);
  const raw = Buffer.from(item.getRaw());
  if (!(await DataItem.verify(raw))) throw new Error(`${name}: arbundles does not verify its own item`);
  vectors.push({
    name,
    source,
    signature_type: item.signatureType,
    raw: raw.toString("base64"),
    id: item.id,
    owner: item.owner,
    owner_address: createHash("sha256").update(item.rawOwner).digest("base64url"),
    target: item.target,
    anchor: item.anchor,
    tags: item.tags,
    data: Buffer.from(item.rawData).toString("base64"),
    signature_data: Buffer.from(await item.getSignatureData()).toString("base64"),
  });
}

const aoTags = [
  { name: "Data-Protocol", value: "ao" },
  { name: "Variant", value: "ao.TN.1" },
  { name: "Type", value: "Message" },
  { name: "Action", value: "Eval" },
];

await add("rsa-full", "@dha-team/arbundles ArweaveSigner", rsa, "1 + 1", {
  target: TARGET,
  anchor: ANCHOR,
  tags: aoTags,
});
await add("rsa-bare", "@dha-team/arbundles ArweaveSigner", rsa, "", {});
await add("rsa-process", "@dha-team/arbundles ArweaveSigner", rsa, "", {
  anchor: ANCHOR,
  tags: [
    { name: "Data-Protocol", value: "ao" },
    { name: "Variant", value: "ao.TN.1" },
    { name: "Type", value: "Process" },
    { name: "Module", value: Buffer.alloc(32, 1).toString("base64url") },
    { name: "Scheduler", value: Buffer.alloc(32, 2).toString("base64url") },
  ],
});
await add("ed25519-full", "@dha-team/arbundles SolanaSigner", solana, "hello", {
  target: TARGET,
  anchor: ANCHOR,
  tags: aoTags,
});
await add(
  "ed25519-binary-unicode",
  "@dha-team/arbundles SolanaSigner",
  solana,
  Buffer.from([0, 255, 1, 254, 128]),
  { tags: [{ name: "Ünïcødé", value: "値 ✓" }, { name: "Empty-Value", value: "" }] },
);
await add(
  "ed25519-128-tags",
  "@dha-team/arbundles SolanaSigner",
  solana,
  "x",
  { tags: Array.from({ length: 128 }, (_, i) => ({ name: `T${i}`, value: `v${i}` })) },
);
await add("ethereum", "@dha-team/arbundles EthereumSigner", eth, "eth", { tags: aoTags });
// AO shows an Ethereum signer by its EIP-55 address (ethers' Wallet.address).
vectors[vectors.length - 1].ethereum_address = new Wallet("0x" + ETH_KEY).address;

// The real aoconnect signer: createDataItemSigner(jwk) driven by aoconnect's own signMessage, which
// builds the item the way `message()` does (SDK tags, target = the process) without sending it.
const ao = connect({ MODE: "legacy", MU_URL: "http://127.0.0.1:9", CU_URL: "http://127.0.0.1:9", GATEWAY_URL: "http://127.0.0.1:9" });
const signed = await ao.signMessage({
  process: TARGET,
  tags: [{ name: "Action", value: "Eval" }],
  data: "return 1 + 1",
  anchor: ANCHOR,
  signer: createDataItemSigner(jwk),
});
const raw = Buffer.from(signed.raw);
const item = new DataItem(raw);
if (!(await DataItem.verify(raw))) throw new Error("aoconnect item does not verify");
vectors.push({
  name: "aoconnect-message",
  source: "@permaweb/aoconnect createDataItemSigner + signMessage",
  signature_type: item.signatureType,
  raw: raw.toString("base64"),
  id: signed.id,
  owner: item.owner,
  owner_address: createHash("sha256").update(item.rawOwner).digest("base64url"),
  target: item.target,
  anchor: item.anchor,
  tags: item.tags,
  data: Buffer.from(item.rawData).toString("base64"),
  signature_data: Buffer.from(await item.getSignatureData()).toString("base64"),
});

writeFileSync(
  out,
  JSON.stringify(
    {
      about:
        "ANS-104 data items made by npm @dha-team/arbundles and @permaweb/aoconnect (scripts/ans104_vectors/generate.mjs). raw, data, signature_data: standard base64; id, owner, owner_address, target: base64url.",
      versions: {
        "@dha-team/arbundles": "1.0.4",
        "@permaweb/aoconnect": "0.0.98",
        arweave: "1.15.7",
      },
      vectors,
    },
    null,
    1,
  ) + "\n",
);
console.log(`wrote ${vectors.length} vectors to ${out}`);
