'use strict';
// A test peer built on Node's `ws` (permessage-deflate on Node's zlib), for
// tests/interop_node.rs. Installed by scripts/setup-test-peers.sh into tests/peers/node/.
//
//   node ws_peer.js server OPTIONS BIG       echo server on 127.0.0.1 (ephemeral port); prints
//                                            "READY <port>", serves one connection, then exits
//   node ws_peer.js client URL OPTIONS BIG   scripted client; exits 0 only if every check passed
//
// OPTIONS is JSON: null for no permessage-deflate, or ws's own `perMessageDeflate` options
// (serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits,
// clientMaxWindowBits, threshold, ...). `threshold` defaults to 0 here (compress everything).
// BIG is the size in bytes of the script's three large messages (1 MiB in the full script).
//
// Both modes use the message script below, which tests/common/interop.rs generates the same
// way, and print what they saw, one line each, for the Rust side to assert on:
//   EXT <negotiated parameters as JSON, or null>
//   PING <payload> / PONG <payload>    control frames received
//   CLOSE <code> <reason>              the close frame received (server: the client's;
//                                      client: the server's answer)
//   OK <n> / FAIL <why>                the verdict
//
// The server verifies every message against the script and echoes it (messages 1, 4, 7, ...
// in three fragments); on a mismatch it answers "MISMATCH <i> ..." instead. The client sends
// the script (messages 1, 4, 7, ... in three fragments), one message at a time, and checks
// each echo; it pings the server first, then closes with 4001 "client done ✓".

const path = require('path');
const WebSocket = require(path.join(__dirname, 'node', 'node_modules', 'ws'));

// ---- the message script (keep in step with tests/common/interop.rs) ----

function xorshift32(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const WORDS = ['alpha', 'beta', 'γάμμα', 'δέλτα', '€', '𝄞', '{"id":', '"name":', 'true,', 'null', '日本語', 'ok'];

/** Words from WORDS joined by spaces until the UTF-8 length reaches `n` bytes. */
function words(seed, n) {
  const next = xorshift32(seed);
  const parts = [];
  let len = 0;
  while (len < n) {
    const w = WORDS[next() % WORDS.length];
    parts.push(w);
    len += Buffer.byteLength(w) + 1;
  }
  return Buffer.from(parts.join(' '));
}

function random(seed, n) {
  const next = xorshift32(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = next() & 0xff;
  return b;
}

/** A random block of `block` bytes repeated up to `n` bytes: matches only `block` back. */
function blocks(seed, block, n) {
  const one = random(seed, block);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += block) one.copy(b, i, 0, Math.min(block, n - i));
  return b;
}

function script(big) {
  const bytes256 = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) bytes256[i] = i;
  return [
    [false, Buffer.alloc(0)],
    [true, Buffer.alloc(0)],
    [false, Buffer.from('héllo, wörld — κόσμε — 你好 — 🎉𝄞')],
    [true, bytes256],
    [false, words(4, 64 * 1024)],
    [true, random(5, 64 * 1024)],
    [false, words(6, big)],
    [true, random(7, big)],
    [true, blocks(8, 3000, big)],
    [false, Buffer.from('the end €'.repeat(50))],
  ].map(([binary, data]) => ({ binary, data }));
}

/** Messages 1, 4, 7, ... go in three fragments (the middle one may be empty). */
function fragmented(i) {
  return i % 3 === 1;
}

function sendFragmented(ws, m) {
  const a = Math.floor(m.data.length / 3);
  const b = Math.floor((2 * m.data.length) / 3);
  ws.send(m.data.subarray(0, a), { binary: m.binary, fin: false });
  ws.send(m.data.subarray(a, b), { binary: m.binary, fin: false });
  ws.send(m.data.subarray(b), { binary: m.binary, fin: true });
}

function send(ws, i, m) {
  if (fragmented(i)) sendFragmented(ws, m);
  else ws.send(m.data, { binary: m.binary });
}

function deflateOptions(json) {
  const opts = JSON.parse(json);
  if (opts === null) return false;
  return { threshold: 0, ...opts };
}

function negotiated(ws) {
  const ext = ws._extensions && ws._extensions['permessage-deflate'];
  return JSON.stringify(ext ? ext.params : null);
}

function describe(data, isBinary) {
  return `${isBinary ? 'binary' : 'text'} of ${data.length} bytes`;
}

// ---- server ----

function runServer(options, big) {
  const expected = script(big);
  const wss = new WebSocket.Server({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: deflateOptions(options),
    maxPayload: 64 << 20,
  });
  wss.on('listening', () => console.log(`READY ${wss.address().port}`));
  wss.once('connection', (ws) => {
    console.log(`EXT ${negotiated(ws)}`);
    let i = 0;
    let failed = null;
    ws.on('ping', (p) => console.log(`PING ${p.toString()}`));
    ws.on('pong', (p) => console.log(`PONG ${p.toString()}`));
    ws.on('message', (data, isBinary) => {
      const want = expected[i];
      if (!want) {
        failed = `message ${i} beyond the script`;
        ws.send(`MISMATCH ${i} beyond the script`);
      } else if (want.binary !== isBinary || !want.data.equals(data)) {
        failed = `message ${i}: got ${describe(data, isBinary)}, want ${describe(want.data, want.binary)}`;
        ws.send(`MISMATCH ${failed}`);
      } else {
        send(ws, i, want);
      }
      i++;
    });
    ws.on('close', (code, reason) => {
      console.log(`CLOSE ${code} ${reason.toString()}`);
      if (failed) console.log(`FAIL ${failed}`);
      else if (i !== expected.length) console.log(`FAIL ${i} of ${expected.length} messages`);
      else console.log(`OK ${i}`);
      wss.close();
    });
    ws.on('error', (e) => console.log(`FAIL error ${e.message}`));
    ws.ping('ping from ws server');
  });
}

// ---- client ----

function runClient(url, options, big) {
  const expected = script(big);
  const ws = new WebSocket(url, { perMessageDeflate: deflateOptions(options), maxPayload: 64 << 20 });
  let i = 0;
  let pongs = 0;
  let failed = null;
  const fail = (why) => {
    if (!failed) failed = why;
    console.log(`FAIL ${why}`);
  };
  ws.on('open', () => {
    console.log(`EXT ${negotiated(ws)}`);
    ws.ping('ping from ws client');
    send(ws, 0, expected[0]);
  });
  ws.on('ping', (p) => console.log(`PING ${p.toString()}`));
  ws.on('pong', (p) => {
    console.log(`PONG ${p.toString()}`);
    if (p.toString() !== 'ping from ws client') fail(`unexpected pong ${p.toString()}`);
    pongs++;
  });
  ws.on('message', (data, isBinary) => {
    const want = expected[i];
    if (!want || want.binary !== isBinary || !want.data.equals(data)) {
      fail(`echo ${i}: got ${describe(data, isBinary)}, want ${want ? describe(want.data, want.binary) : 'nothing'}`);
      ws.close(4400, 'mismatch');
      return;
    }
    i++;
    if (i < expected.length) send(ws, i, expected[i]);
    else ws.close(4001, 'client done ✓');
  });
  ws.on('close', (code, reason) => {
    console.log(`CLOSE ${code} ${reason.toString()}`);
    if (pongs !== 1) fail(`${pongs} pongs`);
    if (i !== expected.length) fail(`${i} of ${expected.length} echoes`);
    if (!failed) console.log(`OK ${i}`);
    process.exitCode = failed ? 1 : 0;
  });
  ws.on('error', (e) => fail(`error ${e.message}`));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'server' && args.length === 2) runServer(args[0], +args[1]);
else if (mode === 'client' && args.length === 3) runClient(args[0], args[1], +args[2]);
else {
  console.error('usage: ws_peer.js server OPTIONS BIG | client URL OPTIONS BIG');
  process.exit(2);
}
