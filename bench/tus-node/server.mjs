// The reference tus server for bench/bench_tus_upload.py: @tus/server + @tus/file-store on
// loopback, storing plaintext in a folder. Usage: node server.mjs <port> <directory>
import http from 'node:http';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

const [port, directory] = process.argv.slice(2);
const tus = new Server({ path: '/files', datastore: new FileStore({ directory }) });
http.createServer((req, res) => tus.handle(req, res)).listen(Number(port), '127.0.0.1');

// @tus/server 2.x on Node 20 throws "ReadableStream is already closed" when a client closes
// its connection after a GET has sent the whole file; the download itself is complete. Only
// that error is tolerated, so the peer stays up for the next measurement.
process.on('uncaughtException', (error) => {
  if (error && error.code === 'ERR_INVALID_STATE') return;
  console.error(error);
  process.exit(1);
});
