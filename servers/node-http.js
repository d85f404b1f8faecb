#!/usr/bin/env node
// A server on Node's own `http` module, set up to do what the HTTP stages do:
// answer every request with the stages' page, then close the connection (up
// to part 8), or keep it open with Node's own keep-alive (part 9 on).
// `node servers/node-http.js --port 5000`; it takes `--port N`,
// `--read-timeout SECONDS` and `--keep-alive-timeout SECONDS` (0, the
// default, closes every connection) as the stages do, so stage-check's
// --exec can start it. Everything else is Node's: its parser, its error answers, its
// framing. stage-check's tests hold it to what HTTP requires.
'use strict';
const http = require('node:http');

const PAGE = '<html><body>Hello World</body></html>';

let port = 5000;
let readTimeout = 30;
let keepAliveTimeout = 0;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2) {
  const value = Number(args[i + 1]);
  if (args[i] === '--port' && Number.isInteger(value)) port = value;
  else if (args[i] === '--read-timeout' && value > 0) readTimeout = value;
  else if (args[i] === '--keep-alive-timeout' && value >= 0) keepAliveTimeout = value;
  else {
    console.error(
      'usage: node-http.js [--port N] [--read-timeout SECONDS] [--keep-alive-timeout SECONDS]');
    process.exit(2);
  }
}

// Node checks connections for the timeouts below every 30 s unless told:
// check often, so that a quiet client gets its 408 soon after its time.
const options = { connectionsCheckingInterval: 100 };

const server = http.createServer(options, (request, response) => {
  // Node refuses a request with no Host, but lets two through: RFC 9112
  // (section 3.2) says a server must refuse both, so this one does.
  const hosts = request.rawHeaders.filter(
    (name, i) => i % 2 === 0 && name.toLowerCase() === 'host').length;
  if (hosts > 1) {
    response.writeHead(400, { 'Content-Type': 'text/plain', Connection: 'close' });
    response.end('Two Host headers.\n');
    return;
  }
  // Read the whole body before answering, as the stages do.
  request.resume();
  request.on('end', () => {
    const headers = {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': Buffer.byteLength(PAGE),
    };
    // With keep-alive, Node says what it does with the connection itself.
    if (keepAliveTimeout === 0) headers.Connection = 'close';
    response.writeHead(200, headers);
    response.end(request.method === 'HEAD' ? undefined : PAGE);
  });
});
// One request per connection (0), or how long an idle one stays open; and
// a bound on a quiet client.
server.keepAliveTimeout = keepAliveTimeout * 1000;
server.headersTimeout = readTimeout * 1000;
server.requestTimeout = readTimeout * 1000;
server.listen(port, '127.0.0.1', () => {
  console.log(`Listening on 127.0.0.1:${server.address().port}`);
});
