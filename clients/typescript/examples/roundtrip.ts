/**
 * The TypeScript client's end-to-end example: spawn a process running the node's built-in AOS runtime,
 * subscribe to its schedule live (verifying every assignment's signature and the hash chain), send it an
 * Eval with a random anchor, wait for that slot on the stream and compute it, checking the result digest.
 * Prints one JSON line; exits non-zero on any failure.
 *
 *   npm run build && node dist/examples/roundtrip.js --node 127.0.0.1:7400
 */
import { credentials, type ServiceError } from "@grpc/grpc-js";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { convert, node as nodeApi, process as processApi, scheduler as schedulerApi, sign } from "../src";

type Callback<T> = (err: ServiceError | null, reply: T) => void;

/** Promisifies one unary call of a grpc-js client: `call<Reply>((cb) => client.method(request, cb))`. */
function call<Res>(start: (cb: Callback<Res>) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => start((err, reply) => (err ? reject(err) : resolve(reply))));
}

// Without a random anchor, identical content gets the same ID, and the node answers with the slot the
// first copy got (deduplication) instead of a new one.
const randomAnchor = () => crypto.randomBytes(24).toString("base64url");
const AO_TAGS = [{ name: "Data-Protocol", value: "ao" }, { name: "Variant", value: "ao.TN.1" }];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
  const address = opt("--node", "127.0.0.1:7400");
  const code = opt("--eval", "return 6 * 7");
  const creds = credentials.createInsecure();
  // The node's retry policy (which calls are safe to repeat after UNAVAILABLE): clients/service_config.json.
  const serviceConfig = fs.readFileSync(path.join(__dirname, "..", "..", "..", "service_config.json"), "utf8");
  const options = { "grpc.service_config": serviceConfig };
  const nodeClient = new nodeApi.NodeServiceClient(address, creds, options);
  const scheduler = new schedulerApi.SchedulerServiceClient(address, creds, options);
  const processes = new processApi.ProcessServiceClient(address, creds, options);

  const info = await call<nodeApi.GetInfoResponse>((cb) => nodeClient.getInfo({}, cb));
  if (sign.address(info.owner) !== info.address) throw new Error("GetInfo: owner does not match address");
  const signer = sign.Ed25519Signer.random();

  // The Authority tag lets the process trust what the node relays to it (as aos trusts its MU).
  const spawn = signer.signMessage({
    target: "",
    anchor: randomAnchor(),
    tags: [
      ...AO_TAGS,
      { name: "Type", value: "Process" },
      { name: "Module", value: info.runtimeModule },
      { name: "Scheduler", value: info.address },
      { name: "Execution-Device", value: info.runtimeDevice },
      { name: "Authority", value: info.address },
    ],
    data: new Uint8Array(),
  });
  const pid = sign.messageId(spawn);
  const spawned = await call<schedulerApi.ScheduleResponse>((cb) =>
    scheduler.schedule({ message: convert.messageToPb(spawn) }, cb),
  );
  if (spawned.messageId !== sign.encodeId(pid)) throw new Error(`spawn: node says ${spawned.messageId}`);

  const stream = scheduler.subscribeSchedule({
    process: sign.encodeId(pid),
    fromSlot: 0n,
    includeMessages: true,
    format: schedulerApi.AssignmentFormat.ASSIGNMENT_FORMAT_CANONICAL,
  });

  const evalMessage = signer.signMessage({
    target: sign.encodeId(pid),
    anchor: randomAnchor(),
    tags: [...AO_TAGS, { name: "Type", value: "Message" }, { name: "Action", value: "Eval" }],
    data: new TextEncoder().encode(code),
  });
  const sent = await call<schedulerApi.ScheduleResponse>((cb) =>
    scheduler.schedule({ message: convert.messageToPb(evalMessage) }, cb),
  );
  const slot = sent.assignment!.slot;

  // Read the live stream until the Eval's slot arrives, verifying each assignment and its message.
  const verifier = new sign.ChainVerifier(pid, info.address);
  for await (const frame of stream as AsyncIterable<schedulerApi.SubscribeScheduleResponse>) {
    frame.encodedAssignments.forEach((raw, i) => {
      verifier.next(sign.decodeAssignment(raw), convert.messageOrItemFromPb(frame.messages[i]));
    });
    if (verifier.nextSlot > slot) break;
  }
  stream.cancel();
  if (sign.encodeId(verifier.chain) !== sent.assignment!.hashChain) throw new Error("hash chain differs from Schedule's");

  const computed = (
    await call<processApi.ComputeResponse>((cb) => processes.compute({ process: sign.encodeId(pid), slot }, cb))
  ).result!;
  const result = convert.resultFromPb(computed.result!);
  const digest = sign.encodeId(sign.resultDigest(result));
  if (digest !== computed.resultDigest) throw new Error(`result digest ${digest}, node says ${computed.resultDigest}`);
  if (verifier.nextSlot === slot + 1n && sign.encodeId(verifier.hashpath) !== computed.hashpath) {
    throw new Error("hashpath differs from the node's");
  }
  if (result.error) throw new Error(`slot ${slot} failed: ${result.error}`);
  console.log(JSON.stringify({
    process: sign.encodeId(pid),
    slot: Number(slot),
    output: result.output.data,
    hash_chain: sign.encodeId(verifier.chain),
    hashpath: computed.hashpath,
    verified_slots: Number(verifier.nextSlot),
  }));
  for (const c of [nodeClient, scheduler, processes]) c.close();
}

main().catch((err) => {
  console.error("roundtrip:", err instanceof Error ? err.message : err);
  process.exit(1);
});
