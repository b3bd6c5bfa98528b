// A WebSocket echo server in Node.js whose protocol engine is sansws compiled to wasm32
// (src/lib.rs): Node owns the sockets, the clock and the application; the wasm module owns
// the handshake, framing, permessage-deflate, limits and close codes.
//
//   node examples/wasm_host/host.mjs 127.0.0.1:9501 [module.wasm]
//
// One module instance serves every socket (each socket is a connection handle in it); see
// memory.mjs for why. Importing this file gives `loadEngine` and `serve` without starting a
// server.

import net from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

export const DEFAULT_WASM = fileURLToPath(
  new URL('target/wasm32-unknown-unknown/release/sansws_wasm_host.wasm', import.meta.url),
);

// Event kinds returned by sansws_next_event (src/lib.rs).
const EVENT = { NONE: 0, UPGRADE: 1, TEXT: 2, BINARY: 3, PING: 4, PONG: 5, CLOSE: 6, ERROR: 7 };
// What sansws_transport says to do with the socket.
const TRANSPORT = { OPEN: 0, CLOSE: 1, AWAIT_PEER_CLOSE: 2 };

// Received bytes enter the engine in pieces of at most this size, half its default
// buffer_keep (64 KiB), so steady traffic reuses the engine's input buffer.
const RECEIVE_PIECE = 32 * 1024;
// Output is handed to the socket in pieces of at most this size, and only while the
// socket's own buffer is below its high-water mark: the rest stays in the engine, where
// pending_output_len is the backpressure signal.
const WRITE_PIECE = 64 * 1024;
// Stop reading the socket while more than this waits to be written.
const OUTPUT_HIGH_WATER = 1024 * 1024;
// How long a socket may take to flush its last bytes and see the peer close after the
// engine said to close it (the engine's close timeout is 5 s).
const FINAL_FLUSH_MS = 5000;

// The wasm module's exports, with the copies in and out of its memory.
export class Engine {
  constructor(instance) {
    this.x = instance.exports;
    this.memory = this.x.memory;
  }

  // A fresh view of the module's memory (views die when the memory grows).
  view(ptr, len) {
    return new Uint8Array(this.memory.buffer, ptr, len);
  }

  // Copies bytes into the scratch buffer; returns their length.
  put(bytes) {
    const ptr = this.x.sansws_scratch(bytes.length);
    this.view(ptr, bytes.length).set(bytes);
    return bytes.length;
  }

  // Encodes a string as UTF-8 into the scratch buffer; returns the byte length.
  putText(text) {
    const len = Buffer.byteLength(text, 'utf8');
    const ptr = this.x.sansws_scratch(len);
    return Buffer.from(this.memory.buffer, ptr, len).write(text, 'utf8');
  }

  // The last event's payload, copied out of the module.
  eventBytes() {
    return Buffer.from(this.view(this.x.sansws_event_ptr(), this.x.sansws_event_len()));
  }

  // The last event's payload as text (the engine checked it is UTF-8).
  eventText() {
    const ptr = this.x.sansws_event_ptr();
    return Buffer.from(this.memory.buffer, ptr, this.x.sansws_event_len()).toString('utf8');
  }
}

export async function loadEngine(wasmPath = DEFAULT_WASM) {
  const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
  return new Engine(instance);
}

// One socket driven through one engine connection.
class Connection {
  constructor(engine, socket, app) {
    this.engine = engine;
    this.x = engine.x;
    this.socket = socket;
    this.app = app;
    this.handle = this.x.sansws_server_new();
    this.timer = null;
    this.deadline = -1;
    this.closing = false;
    this.gone = false;

    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('end', () => {
      this.x.sansws_receive_eof(this.handle);
      this.service();
    });
    socket.on('drain', () => this.service());
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', () => this.dispose());
  }

  // --- for the application

  // Accepts the upgrade request (from onUpgrade).
  accept() {
    return this.x.sansws_accept(this.handle) === 0;
  }

  // Refuses the upgrade request with an HTTP status (from onUpgrade).
  reject(status) {
    return this.x.sansws_reject(this.handle, status) === 0;
  }

  // Sends a string as a text message, or bytes as a binary one; 0 when queued.
  send(data) {
    if (this.gone) return -1;
    const text = typeof data === 'string';
    const len = text ? this.engine.putText(data) : this.engine.put(data);
    return this.x.sansws_send(this.handle, text ? 0 : 1, len);
  }

  // Starts the closing handshake; 0 when queued.
  close(code = 1000, reason = '') {
    if (this.gone) return -1;
    return this.x.sansws_close(this.handle, code, this.engine.putText(reason));
  }

  // --- driving the engine

  onData(chunk) {
    for (let at = 0; at < chunk.length && !this.gone; at += RECEIVE_PIECE) {
      const len = this.engine.put(chunk.subarray(at, at + RECEIVE_PIECE));
      this.x.sansws_receive(this.handle, len);
      this.dispatch();
    }
    this.service();
  }

  // Hands every decoded event to the application.
  dispatch() {
    const { engine, x, app } = this;
    for (;;) {
      const kind = x.sansws_next_event(this.handle);
      switch (kind) {
        case EVENT.NONE:
          return;
        case EVENT.UPGRADE:
          app.onUpgrade(this, engine.eventText());
          break;
        case EVENT.TEXT:
          app.onText(this, engine.eventText());
          break;
        case EVENT.BINARY:
          app.onBinary(this, engine.eventBytes());
          break;
        case EVENT.CLOSE:
          app.onClose?.(this, x.sansws_event_code(), engine.eventText());
          break;
        case EVENT.ERROR:
          app.onError?.(this, x.sansws_event_code(), engine.eventText());
          break;
        default: // pings (answered by the engine), pongs
          break;
      }
      if (this.gone) return;
    }
  }

  // After any input, send or timer: events, output, the transport's fate, the next timer.
  service() {
    if (this.gone) return;
    this.dispatch();
    if (this.gone) return;
    this.flush();
    const transport = this.x.sansws_transport(this.handle);
    if (transport === TRANSPORT.CLOSE && !this.closing) {
      // The final flush ignores the socket's high-water mark: it is bounded by what the
      // engine holds, and the destroy timer bounds how long it may take.
      this.closing = true;
      this.flush(true);
      this.socket.end();
      setTimeout(() => this.socket.destroy(), FINAL_FLUSH_MS).unref();
    }
    // Read again once the output went down (or the connection no longer reads anyway).
    const pending = this.x.sansws_pending_output_len(this.handle);
    if (pending > OUTPUT_HIGH_WATER && !this.closing) {
      this.socket.pause();
    } else if (this.socket.isPaused()) {
      this.socket.resume();
    }
    this.armTimer();
  }

  // Moves pending output to the socket, while it takes it (or all of it when `all`).
  flush(all = false) {
    const { x, engine, socket } = this;
    if (socket.destroyed || socket.writableEnded) return;
    while (all || !socket.writableNeedDrain) {
      const len = x.sansws_pending_chunk_len(this.handle);
      if (len === 0) return;
      const n = Math.min(len, WRITE_PIECE);
      const bytes = Buffer.from(engine.view(x.sansws_pending_output_ptr(this.handle), n));
      x.sansws_advance_output(this.handle, n);
      socket.write(bytes);
    }
  }

  // One timer per connection, at the engine's next deadline.
  armTimer() {
    const deadline = this.x.sansws_poll_timeout(this.handle, performance.now());
    if (deadline === this.deadline) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.deadline = deadline;
    if (deadline >= 0) {
      const delay = Math.max(0, Math.ceil(deadline - performance.now()));
      this.timer = setTimeout(() => {
        this.timer = null;
        this.deadline = -1;
        this.x.sansws_handle_timeout(this.handle, performance.now());
        this.service();
      }, delay);
    }
  }

  dispose() {
    if (this.gone) return;
    this.gone = true;
    clearTimeout(this.timer);
    this.x.sansws_drop(this.handle);
  }
}

// The application: accept every upgrade, echo every message.
export const echo = {
  onUpgrade: (conn) => conn.accept(),
  onText: (conn, text) => conn.send(text),
  onBinary: (conn, bytes) => conn.send(bytes),
};

// Starts a TCP server on `host:port` whose sockets run `app` through `engine`.
export function serve(engine, address, app = echo) {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  const port = Number(address.slice(at + 1));
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    new Connection(engine, socket, app);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const address = process.argv[2] ?? '127.0.0.1:9501';
  const engine = await loadEngine(process.argv[3] ?? DEFAULT_WASM);
  await serve(engine, address);
  console.error(`wasm host listening on ${address}`);
}
