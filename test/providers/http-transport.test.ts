/**
 * The providers' HTTP transport (src/providers/http.ts) against a local server: keep-alive reuse, a body cut off
 * mid-way, an aborted request, and a body whose multi-byte characters straddle chunks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { HttpClient, readText } from '../../src/providers/http.ts';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

test('http transport: posts JSON with its length, reuses one keep-alive connection, reads the body whole', async () => {
  const sockets = new Set<unknown>();
  const seen: { length: string | undefined; body: string; path: string | undefined }[] = [];
  const server = createServer((req, res) => {
    sockets.add(req.socket);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ length: req.headers['content-length'], body, path: req.url });
      res.writeHead(201, { 'x-served-by': 'test' });
      res.write(Buffer.from([0xe2, 0x82])); // "€" split across two writes
      setTimeout(() => res.end(Buffer.from([0xac, 0x21])), 5);
    });
  });
  const base = await listen(server);
  const client = new HttpClient(1);
  try {
    for (let i = 0; i < 3; i++) {
      const r = await client.post(`${base}/v1/chat?x=1`, '{"q":"é"}', { 'content-type': 'application/json' });
      assert.equal(r.status, 201);
      assert.equal(r.headers['x-served-by'], 'test');
      assert.equal(await readText(r.body), '€!');
    }
    assert.deepEqual(seen[0], { length: '10', body: '{"q":"é"}', path: '/v1/chat?x=1' });
    assert.equal(sockets.size, 1, 'one keep-alive connection for three requests');
  } finally {
    client.close();
    server.close();
  }
});

test('http transport: a body cut off mid-way and an aborted request reject; a refused connection rejects', async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"partial":');
      if (req.url === '/cut') setTimeout(() => res.socket?.destroy(), 5);
    });
  });
  const base = await listen(server);
  const client = new HttpClient(2);
  try {
    const cut = await client.post(`${base}/cut`, '{}', {});
    await assert.rejects(readText(cut.body));
    const ac = new AbortController();
    const hanging = await client.post(`${base}/hang`, '{}', {}, ac.signal);
    const reading = readText(hanging.body);
    ac.abort();
    await assert.rejects(reading);
    await assert.rejects(client.post(`${base}/x`, '{}', {}, AbortSignal.abort()), { name: 'AbortError' });
  } finally {
    client.close();
    server.close();
  }
  await assert.rejects(new HttpClient(1).post('http://127.0.0.1:1/x', '{}', {}), { code: 'ECONNREFUSED' });
  assert.throws(() => new HttpClient(1).post('ftp://127.0.0.1/x', '{}', {}), /unsupported protocol ftp:/);
});
