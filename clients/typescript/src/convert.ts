/**
 * Between the generated gRPC types (src/gen, ts-proto) and sign.ts's values: the SignatureScheme enum
 * maps to the scheme names of the canonical encoding, IDs travel as 43-character text in gRPC and as raw
 * bytes in encodings, and a FIELDS-format assignment's block_hash is unpadded base64url.
 */
import * as pb from "./gen/aonode/v1/types";
import * as sign from "./sign";

const SCHEMES: [pb.SignatureScheme, string][] = [
  [pb.SignatureScheme.SIGNATURE_SCHEME_ED25519, sign.SCHEME_ED25519],
  [pb.SignatureScheme.SIGNATURE_SCHEME_RSA_PSS_SHA512, sign.SCHEME_RSA_PSS_SHA512],
];

export function signatureToPb(s: sign.Signature | undefined): pb.Signature | undefined {
  if (!s) return undefined;
  const scheme = SCHEMES.find(([, name]) => name === s.scheme)?.[0] ?? pb.SignatureScheme.SIGNATURE_SCHEME_UNSPECIFIED;
  return { scheme, owner: Buffer.from(s.owner), value: Buffer.from(s.value) };
}

export function signatureFromPb(s: pb.Signature | undefined): sign.Signature | undefined {
  if (!s) return undefined;
  const name = SCHEMES.find(([scheme]) => scheme === s.scheme)?.[1];
  if (!name) throw new Error(`unknown signature scheme ${s.scheme}`);
  return { scheme: name, owner: new Uint8Array(s.owner), value: new Uint8Array(s.value) };
}

export function messageToPb(m: sign.Message): pb.Message {
  return {
    target: m.target,
    anchor: m.anchor,
    tags: m.tags,
    data: Buffer.from(m.data),
    signature: signatureToPb(m.signature),
    ans104: Buffer.alloc(0),
  };
}

/** An ANS-104 data item's exact bytes, sent as they are (the node decodes and verifies them). */
export function itemToPb(raw: Uint8Array): pb.Message {
  return { target: "", anchor: "", tags: [], data: Buffer.alloc(0), signature: undefined, ans104: Buffer.from(raw) };
}

/** A message in aonode's fields, or an ANS-104 item's bytes (the node answers items in that form). */
export function messageOrItemFromPb(m: pb.Message): sign.Message | Uint8Array {
  return m.ans104.length > 0 ? new Uint8Array(m.ans104) : messageFromPb(m);
}

export function messageFromPb(m: pb.Message): sign.Message {
  if (m.ans104.length > 0) throw new Error("an ANS-104 item: use messageOrItemFromPb");
  return {
    target: m.target,
    anchor: m.anchor,
    tags: m.tags.map((t) => ({ name: t.name, value: t.value })),
    data: new Uint8Array(m.data),
    signature: signatureFromPb(m.signature),
  };
}

/** The signed assignment rebuilt from SubscribeSchedule's FIELDS format (or Schedule's answer). */
export function assignmentFromPb(a: pb.Assignment): sign.Assignment {
  return {
    process: sign.decodeId(a.process),
    slot: a.slot,
    message: sign.decodeId(a.message),
    timestamp: a.timestamp,
    blockHeight: a.blockHeight,
    blockHash: new Uint8Array(Buffer.from(a.blockHash, "base64url")),
    epoch: a.epoch,
    hashChain: sign.decodeId(a.hashChain),
    signature: signatureFromPb(a.signature),
  };
}

/** A Compute answer's result, whose resultDigest must equal its `result_digest`. */
export function resultFromPb(r: pb.Result): sign.Result {
  return {
    output: { data: r.output?.data ?? "", prompt: r.output?.prompt ?? "", print: r.output?.print ?? false },
    messages: r.messages.map(messageFromPb),
    spawns: r.spawns.map(messageFromPb),
    assignments: r.assignments.map((a) => ({ processes: a.processes, message: a.message })),
    error: r.error,
    gasUsed: r.gasUsed,
  };
}
