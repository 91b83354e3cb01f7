import { strict as assert } from 'assert';
import { mkdtempSync, rmSync } from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';

import { createLogger } from '../lib/log/logger';
import { FileStore } from '../lib/storage/file-store';
import { GalleryServer, startGalleryServer } from '../stages/publish/gallery-server';
import { escapeHtml, jsonForScript } from '../stages/publish/gallery/html';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sends a raw request path, unnormalised, so that traversal attempts reach the server as-is. */
function request(server: GalleryServer, rawPath: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      { host: '127.0.0.1', port: server.port, path: rawPath, method },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('gallery server', () => {
  let root: string;
  let server: GalleryServer;

  before(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'fashion-gan-server-'));
    const store = new FileStore(root);
    await store.put('gallery/index.html', '<p>index</p>');
    await store.put('gallery/releases/r1/index.html', '<p>r1</p>');
    await store.put('gallery/style.css', 'body {}');
    await store.put('releases/latest.json', '{"secret": true}');
    server = await startGalleryServer(store, { port: 0, logger: createLogger('gallery') });
  });

  after(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('listens on loopback only', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves index.html for the root', async () => {
    const reply = await request(server, '/');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, '<p>index</p>');
    assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
  });

  it('serves files with their content type', async () => {
    const reply = await request(server, '/style.css?v=1');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'text/css; charset=utf-8');
  });

  it('redirects a folder to its trailing slash', async () => {
    const reply = await request(server, '/releases/r1');
    assert.equal(reply.status, 301);
    assert.equal(reply.headers.location, 'r1/');
  });

  it('returns 404 for a missing file', async () => {
    assert.equal((await request(server, '/releases/r2/index.html')).status, 404);
  });

  it('serves nothing outside the gallery prefix', async () => {
    for (const attempt of ['/../releases/latest.json', '/%2e%2e/releases/latest.json', '/..%2freleases%2flatest.json']) {
      const reply = await request(server, attempt);
      assert.equal(reply.status, 404, attempt);
      assert.ok(!reply.body.includes('secret'), attempt);
    }
  });

  it('rejects methods other than GET and HEAD', async () => {
    const reply = await request(server, '/index.html', 'POST');
    assert.equal(reply.status, 405);
    assert.equal(reply.headers.allow, 'GET, HEAD');
  });
});

describe('gallery HTML escaping', () => {
  it('escapes markup characters', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('keeps script JSON from closing its element', () => {
    const text = jsonForScript({ name: '</script><script>alert(1)</script>' });
    assert.ok(!text.includes('</script>'));
    assert.deepEqual(JSON.parse(text), { name: '</script><script>alert(1)</script>' });
  });
});
