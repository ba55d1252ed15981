import { createServer } from 'node:net';
import { expect } from 'chai';
import { KubeClient } from '../../src/kube/client.ts';
import { connect } from '../../src/kube/config.ts';
import {
  KubeApiError,
  KubeRequestError,
  apiErrorFields,
  errorMessage,
  httpStatus,
  isAlreadyExists,
  isConflict,
  isNotFound,
  isRefused,
} from '../../src/kube/errors.ts';

const status = (code: number, reason: string, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  code,
});

// What the API server answers a refused request with: a metav1.Status.
const forbiddenBody = JSON.stringify({
  ...status(
    403,
    'Forbidden',
    'pods is forbidden: User "system:serviceaccount:rt:limited" cannot list resource "pods" in API group ""',
  ),
  details: { kind: 'pods' },
});
const bucket = { acquire: async () => {} };

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('API errors', () => {
  it('a KubeApiError: the Status code, reason and message, not the body', () => {
    const e = new KubeApiError(403, forbiddenBody, 'GET /api/v1/pods');
    expect(apiErrorFields(e)).to.deep.equal({
      code: 403,
      reason: 'Forbidden',
      message: 'pods is forbidden: User "system:serviceaccount:rt:limited" cannot list resource "pods" in API group ""',
    });
    expect(e.message).to.not.include('{'); // never the JSON dump
    expect(httpStatus(e)).to.equal(403);
    expect(isRefused(e)).to.equal(true);
    expect(errorMessage(e)).to.equal(apiErrorFields(e).message);
  });

  it('a KubeApiError for an existing object is a conflict that already exists', () => {
    const e = new KubeApiError(
      409,
      JSON.stringify(status(409, 'AlreadyExists', 'pods "c-master" already exists')),
      'POST',
    );
    expect(apiErrorFields(e)).to.deep.equal({
      code: 409,
      reason: 'AlreadyExists',
      message: 'pods "c-master" already exists',
    });
    expect(isConflict(e) && isAlreadyExists(e)).to.equal(true);
    const stale = new KubeApiError(409, JSON.stringify(status(409, 'Conflict', 'the object has been modified')), 'PUT');
    expect(isConflict(stale) && !isAlreadyExists(stale)).to.equal(true);
  });

  it('a KubeApiError without a Status: its text, or the HTTP status name without a body', () => {
    const proxy = new KubeApiError(502, 'upstream connect error\n', 'GET /api');
    expect(apiErrorFields(proxy)).to.deep.equal({ code: 502, message: 'upstream connect error' });
    expect(apiErrorFields(new KubeApiError(401, '', 'GET /api'))).to.deep.equal({ code: 401, message: 'Unauthorized' });
    const html = new KubeApiError(503, `<html>${'x'.repeat(2000)}</html>`, 'GET /api');
    expect(apiErrorFields(html).message).to.have.length(500);
    expect(isNotFound(new KubeApiError(404, '', 'GET'))).to.equal(true);
  });

  it('a plain Error, and values that are not errors', () => {
    expect(apiErrorFields(new Error('boom'))).to.deep.equal({ message: 'boom' });
    expect(apiErrorFields('just a string')).to.deep.equal({ message: 'just a string' });
    expect(apiErrorFields(undefined)).to.deep.equal({ message: 'undefined' });
    expect(isNotFound(new Error('boom'))).to.equal(false);
  });

  it('a network error: no code; the request, and the cause underneath', async () => {
    const port = await closedPort();
    const client = new KubeClient(
      connect({ origin: 't', server: `http://127.0.0.1:${port}`, insecureSkipTlsVerify: false }),
      {
        writes: bucket,
        events: bucket,
      },
    );
    const e = await client.readLease('ns', 'l').then(
      () => expect.fail('connected to a closed port'),
      (err: unknown) => err,
    );
    expect(e).to.be.instanceOf(KubeRequestError);
    const fields = apiErrorFields(e);
    expect(fields).to.have.all.keys('message');
    expect(fields.message).to.match(
      /^GET \/apis\/coordination.k8s.io\/v1\/namespaces\/ns\/leases\/l failed: .*ECONNREFUSED/,
    );
    expect(errorMessage(e)).to.equal(fields.message);
    // A Node system error's `code` is a string ('ECONNREFUSED'), not an HTTP status.
    const sys = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    expect(apiErrorFields(sys)).to.deep.equal({ message: 'connect ECONNREFUSED 127.0.0.1:6443' });
    expect(httpStatus(sys)).to.equal(undefined);
  });
});
