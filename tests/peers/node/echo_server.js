'use strict';
// An echo server on Node's `ws` with `perMessageDeflate: true` (ws's defaults for it: context
// takeover, 15-bit windows, zlib's default memory level; messages under 1 KiB go
// uncompressed), for scripts/idle_memory.py: the figure a Node operator gets by switching
// compression on. Installed with its dependency by scripts/setup-test-peers.sh.
//
//   node echo_server.js PORT     serves ws://127.0.0.1:PORT, echoes every message

const { WebSocketServer } = require('ws');

const port = Number(process.argv[2]);
if (!Number.isInteger(port)) {
  console.error('usage: node echo_server.js PORT');
  process.exit(2);
}
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: true });
wss.on('listening', () => console.log('READY'));
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', (e) => console.error(`connection error: ${e.message}`));
});
