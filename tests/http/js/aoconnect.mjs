// Drives a node with the real @permaweb/aoconnect, as an AO user would, and prints one JSON document of
// what came back (tests/http/test_aoconnect.py checks it).
//
//   node aoconnect.mjs MODE NODE_URL SCHEDULER MODULE_ID [WALLET.json]
//
// MODE is `legacy` (MU_URL = CU_URL = GATEWAY_URL = the node) or `mainnet` (URL = the node, SCHEDULER =
// its address). The wallet is an Arweave JWK made by `arweave` when none is given.
import { readFileSync } from 'node:fs'
import Arweave from 'arweave'
import { connect, createDataItemSigner, createSigner } from '@permaweb/aoconnect'

const [mode, url, scheduler, module, walletFile] = process.argv.slice(2)
const jwk = walletFile
  ? JSON.parse(readFileSync(walletFile, 'utf8'))
  : await Arweave.init({}).wallets.generate()

const ao = mode === 'mainnet'
  ? connect({ MODE: 'mainnet', URL: url, SCHEDULER: scheduler, signer: createSigner(jwk) })
  : connect({ MODE: 'legacy', MU_URL: url, CU_URL: url, GATEWAY_URL: url })
const signer = mode === 'mainnet' ? createSigner(jwk) : createDataItemSigner(jwk)

const out = { mode }
const pid = await ao.spawn({ module, scheduler, signer, tags: [{ name: 'Authority', value: scheduler }] })
out.process = pid

// message() answers the message ID (legacy) or the slot (mainnet); result() takes either.
async function send (tags, data) {
  const sent = await ao.message({ process: pid, signer, tags, data })
  return mode === 'mainnet' ? { process: pid, slot: String(sent) } : { process: pid, message: sent }
}

const evalRef = await send([{ name: 'Action', value: 'Eval' }], 'X = 41; return X + 1')
out.eval = await ao.result(evalRef)

await ao.result(await send([{ name: 'Action', value: 'Eval' }],
  'Handlers.add("ping", "Ping", function (msg) msg.reply({ Data = "pong " .. tostring(X) }) end); ' +
  'Handlers.add("get", "Get", function (msg) print("X is " .. tostring(X)) end); return "ok"'))
const pingRef = await send([{ name: 'Action', value: 'Ping' }], 'ping')
out.ping = await ao.result(pingRef)
out.results = await ao.results({ process: pid, sort: 'DESC', limit: 5 })
out.dryrun = await ao.dryrun({ process: pid, tags: [{ name: 'Action', value: 'Get' }], data: 'x' })
if (mode === 'legacy') {
  out.monitor = await ao.monitor({ process: pid, signer })
  out.unmonitor = await ao.unmonitor({ process: pid, signer })
  // assign(): the Ping (sent to pid) assigned to a second process, which did not declare it assignable.
  const other = await ao.spawn({ module, scheduler, signer, tags: [{ name: 'Authority', value: scheduler }] })
  out.assignment = await ao.assign({ process: other, message: pingRef.message })
  out.assignedAgain = await ao.assign({ process: other, message: pingRef.message })
  out.assigned = await ao.result({ process: other, message: pingRef.message })
}
out.wallet = await Arweave.init({}).wallets.jwkToAddress(jwk)
console.log(JSON.stringify(out))
