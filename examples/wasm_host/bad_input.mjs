// Hostile input through the wasm host gets the same answer as through the native conformance
// example: the same close code, sent once, after the echo of what came before it correctly,
// then the server closes the TCP connection.
//
//   node examples/wasm_host/bad_input.mjs [path/to/autobahn_server]
//
// Starts the wasm host in this process and the native example (built by
// `cargo build --release --example autobahn_server`; default
// target/release/examples/autobahn_server) as a child, both on free loopback ports, runs
// every case against both with a raw-socket client, and exits non-zero on any difference.
// Then one case for the wasm host's timers: it closes first and the peer stays silent.

import net from 'node:net';
import zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { echo, loadEngine, serve } from './host.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const nativeServer = process.argv[2] ?? `${root}/target/release/examples/autobahn_server`;
// Fails the case if the server has not closed by then (a bound against hanging, not a
// timing check: every case normally ends in milliseconds).
const CASE_LIMIT_MS = 30_000;
const MAX_FRAME = 64 << 20; // examples/common/settings.rs

/// A masked client frame; `declared` overrides the payload length in the header.
function frame(opcode, payload, { fin = true, rsv1 = false, declared } = {}) {
  const len = declared ?? payload.length;
  const b0 = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  let head;
  if (len < 126) {
    head = Buffer.from([b0, 0x80 | len]);
  } else if (len < 65536) {
    head = Buffer.alloc(4);
    head.writeUInt16BE(len, 2);
    head[0] = b0;
    head[1] = 0x80 | 126;
  } else {
    head = Buffer.alloc(10);
    head.writeBigUInt64BE(BigInt(len), 2);
    head[0] = b0;
    head[1] = 0x80 | 127;
  }
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

/// A permessage-deflate payload (RFC 7692 §7.2.1: sync flush, the last 4 bytes removed).
function deflate(bytes) {
  const out = zlib.deflateRawSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

function inflate(bytes) {
  return zlib.inflateRawSync(Buffer.concat([bytes, Buffer.from([0, 0, 0xff, 0xff])]), {
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
}

const TEXT = 1;
const GOOD = 'before the bad input';

const cases = [
  {
    name: 'frame longer than max_frame_size (header only)',
    bytes: () => frame(TEXT, [], { declared: MAX_FRAME + 1 }),
    code: 1009,
  },
  {
    name: 'text that is not UTF-8',
    bytes: () => frame(TEXT, Buffer.from([0x68, 0x69, 0xed, 0xa0, 0x80])),
    code: 1007,
  },
  {
    name: 'text not UTF-8 across fragments',
    bytes: () =>
      Buffer.concat([
        frame(TEXT, Buffer.from([0xce]), { fin: false }),
        frame(0, Buffer.from([0x41])),
      ]),
    code: 1007,
  },
  {
    name: 'decompression bomb: 80 KB inflating past max_message_size',
    bytes: () => frame(TEXT, deflate(Buffer.alloc(MAX_FRAME + (16 << 20), 0x61)), { rsv1: true }),
    code: 1009,
  },
  {
    name: 'corrupt compressed data',
    bytes: () => frame(TEXT, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]), { rsv1: true }),
    code: 1007,
  },
  {
    name: 'reserved opcode',
    bytes: () => frame(3, Buffer.from('x')),
    code: 1002,
  },
];

/// Connects, upgrades with permessage-deflate, sends a good message and the bad bytes in one
/// write, and collects what the server answers until it closes the connection.
function probe(port, bad) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const result = { messages: [], closes: [], eof: false, extension: '' };
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const limit = setTimeout(() => {
      socket.destroy();
      const seen = JSON.stringify(result);
      reject(new Error(`server did not close within ${CASE_LIMIT_MS} ms: ${seen}`));
    }, CASE_LIMIT_MS);
    socket.on('connect', () => {
      socket.write(
        'GET /bad HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
          'Sec-WebSocket-Version: 13\r\n' +
          'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n',
      );
    });
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 4);
        if (!head.startsWith('HTTP/1.1 101')) {
          reject(new Error(`no upgrade: ${head.split('\r\n')[0]}`));
          socket.destroy();
          return;
        }
        result.extension = /sec-websocket-extensions: *([^\r]*)/i.exec(head)?.[1] ?? '';
        upgraded = true;
        socket.write(Buffer.concat([frame(TEXT, Buffer.from(GOOD)), bad]));
      }
      // Server frames: unmasked, unfragmented here; compressed ones each stand alone
      // (server_no_context_takeover).
      while (buf.length >= 2) {
        let len = buf[1] & 0x7f;
        let at = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          at = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          at = 10;
        }
        if (buf.length < at + len) return;
        const opcode = buf[0] & 0x0f;
        const compressed = (buf[0] & 0x40) !== 0;
        const payload = buf.subarray(at, at + len);
        buf = buf.subarray(at + len);
        if (opcode === 8) {
          const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          result.closes.push({ code, reason: payload.subarray(2).toString() });
        } else if (opcode === 1) {
          result.messages.push((compressed ? inflate(payload) : payload).toString());
        }
      }
    });
    socket.on('end', () => {
      result.eof = true;
      socket.end();
    });
    socket.on('error', () => {}); // a reset after the close frame is judged by what arrived
    socket.on('close', () => {
      clearTimeout(limit);
      resolve(result);
    });
  });
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`native server exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`native server not listening on ${port}`);
}

if (!existsSync(nativeServer)) {
  console.error(`bad_input: ${nativeServer} is missing; build it with`);
  console.error('  cargo build --release --example autobahn_server');
  process.exit(2);
}

const engine = await loadEngine();
const wasmServer = await serve(engine, '127.0.0.1:0');
const nativePort = await freePort();
const native = spawn(nativeServer, [`127.0.0.1:${nativePort}`], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
let failures = 0;
try {
  await waitForPort(nativePort, native);
  const hosts = { wasm: wasmServer.address().port, native: nativePort };
  for (const c of cases) {
    const bytes = c.bytes();
    const seen = {};
    for (const [host, port] of Object.entries(hosts)) {
      const r = await probe(port, bytes);
      const problems = [];
      if (!/permessage-deflate/.test(r.extension)) {
        problems.push(`extension not negotiated: "${r.extension}"`);
      }
      if (r.messages.length !== 1 || r.messages[0] !== GOOD) {
        problems.push(`echo lost: ${JSON.stringify(r.messages)}`);
      }
      if (r.closes.length !== 1) {
        problems.push(`${r.closes.length} close frames`);
      } else if (r.closes[0].code !== c.code) {
        problems.push(`close ${r.closes[0].code}, expected ${c.code}`);
      }
      if (!r.eof) problems.push('connection reset instead of closed');
      seen[host] = r.closes.map((f) => `${f.code} "${f.reason}"`).join(', ');
      if (problems.length) {
        failures++;
        console.error(`FAIL ${host}: ${c.name}: ${problems.join('; ')}`);
      }
    }
    if (seen.wasm !== seen.native) {
      failures++;
      console.error(`FAIL ${c.name}: wasm answered ${seen.wasm}, native ${seen.native}`);
    }
    const verdict = seen.wasm === seen.native ? 'same' : 'DIFFERENT';
    console.log(`${verdict}  ${c.name}: wasm ${seen.wasm} | native ${seen.native}`);
  }

  // Timers: the server closes first and the peer never answers. Only the close timeout
  // (poll_timeout -> setTimeout -> handle_timeout) ends this connection; without it the
  // case would hang until CASE_LIMIT_MS.
  const closer = await serve(engine, '127.0.0.1:0', {
    ...echo,
    onText: (conn, text) => {
      conn.send(text);
      conn.close(1000, 'closing first');
    },
  });
  const started = performance.now();
  const r = await probe(closer.address().port, Buffer.alloc(0));
  closer.close();
  const took = ((performance.now() - started) / 1000).toFixed(1);
  const closed = r.closes.map((f) => `${f.code} "${f.reason}"`).join(', ');
  if (r.messages[0] !== GOOD || r.closes.length !== 1 || r.closes[0].code !== 1000 || !r.eof) {
    failures++;
    console.error(`FAIL wasm: silent peer after our close: ${JSON.stringify(r)}`);
  }
  console.log(`wasm  silent peer after our close: ${closed}, then closed by the timer (${took} s)`);
} finally {
  native.kill();
  wasmServer.close();
}
if (failures) {
  console.error(`bad_input: ${failures} failure(s)`);
  process.exit(1);
}
console.log(`bad_input: ${cases.length} cases closed with their code, the same on both hosts; ` +
    'the close timeout ended a silent peer');
process.exit(0);
