// What a connection costs in the wasm host, for the two ways of hosting the module: one
// instance for every socket (connection handles in one linear memory, what host.mjs does)
// or one instance per socket (isolated, but each brings its own linear memory, stack
// included). Each connection is driven in memory, no sockets: an upgrade request offering
// permessage-deflate, accepted, then one compressed text message echoed (so both codecs
// exist, as on a connection that has carried traffic); with `plain`, no extension is offered
// and nothing is sent after the upgrade (the fixed cost of a connection).
//
//   node --expose-gc examples/wasm_host/memory.mjs [connections] [deflate|plain]

import zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Engine, loadEngine, DEFAULT_WASM } from './host.mjs';

const N = Number(process.argv[2] ?? 200);
const DEFLATE = (process.argv[3] ?? 'deflate') === 'deflate';
const workload = DEFLATE ? 'deflate, one message each' : 'plain, idle';
const EVENT = { NONE: 0, UPGRADE: 1, TEXT: 2 };

const request = Buffer.from(
  'GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
    (DEFLATE ? 'Sec-WebSocket-Extensions: permessage-deflate\r\n' : '') +
    '\r\n',
);

function compressedText(text) {
  const out = zlib.deflateRawSync(Buffer.from(text), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const payload = out.subarray(0, out.length - 4);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]));
  return Buffer.concat([Buffer.from([0xc1, 0x80 | payload.length]), mask, body]);
}
const message = compressedText('a message that makes both codecs exist '.repeat(2));

/// Runs one connection through the upgrade and an echo; returns its handle (kept open).
function open(engine) {
  const x = engine.x;
  const h = x.sansws_server_new();
  const drain = () => {
    for (let kind; (kind = x.sansws_next_event(h)) !== EVENT.NONE; ) {
      if (kind === EVENT.UPGRADE) x.sansws_accept(h);
      if (kind === EVENT.TEXT) x.sansws_send(h, 0, engine.putText(engine.eventText()));
    }
    x.sansws_advance_output(h, x.sansws_pending_output_len(h));
  };
  x.sansws_receive(h, engine.put(request));
  drain();
  if (DEFLATE) {
    x.sansws_receive(h, engine.put(message));
    drain();
  }
  if (x.sansws_state(h) !== 1) throw new Error('connection did not open');
  return h;
}

function rss() {
  globalThis.gc?.();
  return process.memoryUsage().rss;
}

/// Address space reserved by the process (Linux), where wasm memories take their guard regions.
function virtualSize() {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(/VmSize:\s*(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
}

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

// Warm up first (compiling the module and this script's functions), so neither measurement
// below pays for it.
{
  const engine = await loadEngine();
  for (let i = 0; i < 200; i++) engine.x.sansws_drop(open(engine));
}

// One instance, N handles.
{
  const engine = await loadEngine();
  const empty = engine.memory.buffer.byteLength;
  const afterLoad = rss();
  const handles = [];
  for (let i = 0; i < N; i++) handles.push(open(engine));
  const grown = engine.memory.buffer.byteLength;
  const after = rss();
  console.log(`one instance, ${N} connections (${workload}):`);
  console.log(`  the instance: linear memory ${kib(empty)} at start`);
  const linear = kib((grown - empty) / N);
  console.log(`  per connection: ${kib((after - afterLoad) / N)} RSS, linear memory ${linear}`);
}

// N instances, one handle each.
{
  const module = new WebAssembly.Module(readFileSync(DEFAULT_WASM));
  const before = rss();
  const reserved = virtualSize();
  const engines = [];
  let linear = 0;
  for (let i = 0; i < N; i++) {
    let instance;
    try {
      instance = await WebAssembly.instantiate(module, {});
    } catch (e) {
      console.log(`  instance ${i + 1} failed: ${e.message}`);
      process.exit(1);
    }
    const engine = new Engine(instance);
    open(engine);
    engines.push(engine);
    linear += engine.memory.buffer.byteLength;
  }
  const after = rss();
  console.log(`one instance per connection, ${N} connections (${workload}):`);
  const space = ((virtualSize() - reserved) / N / 2 ** 30).toFixed(1);
  console.log(`  per connection: ${kib((after - before) / N)} RSS, linear memory ` +
      `${kib(linear / N)}, address space ${space} GiB`);
}

