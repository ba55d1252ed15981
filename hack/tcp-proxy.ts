// A TCP forwarder: listen LISTEN_HOST:LISTEN_PORT, connect each client to TARGET_HOST:TARGET_PORT.
// The real node's pods reach the API server (which listens on 127.0.0.1 only) through the
// `kubernetes` Service, whose endpoint is the node's bridge address: this process listens there.
//   node --import tsx hack/tcp-proxy.ts 10.123.0.1:6443 127.0.0.1:6443
import { connect, createServer } from 'node:net';

const [listen, target] = process.argv.slice(2).map((a) => {
  const i = a.lastIndexOf(':');
  return { host: a.slice(0, i), port: Number(a.slice(i + 1)) };
});
if (!listen?.port || !target?.port) {
  console.error('usage: tcp-proxy.ts LISTEN_HOST:PORT TARGET_HOST:PORT');
  process.exit(2);
}
const server = createServer((client) => {
  const upstream = connect(target.port, target.host);
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
});
server.listen(listen.port, listen.host, () =>
  console.log(`forwarding ${listen.host}:${listen.port} to ${target.host}:${target.port}`),
);
process.on('SIGTERM', () => process.exit(0));
