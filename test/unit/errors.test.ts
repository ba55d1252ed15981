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
import { FakeApiServer, closedPort, status } from '../fixtures/api-server.ts';

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

  it('a watch refused by the server: the code and Status of the answer', async () => {
    const api = await new FakeApiServer().start();
    api.handler = (_req, res) => {
      res.writeHead(410, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(status(410, 'Expired', 'too old resource version: 1 (2)')));
    };
    try {
      const client = new KubeClient(api.config(), { writes: bucket, events: bucket });
      const err = await new Promise<unknown>((resolve) => {
        void client.watch('/api/v1/pods', { resourceVersion: '1' }, () => {}, resolve);
      });
      expect(err).to.be.instanceOf(KubeApiError);
      expect(apiErrorFields(err)).to.deep.equal({
        code: 410,
        reason: 'Expired',
        message: 'too old resource version: 1 (2)',
      });
      expect(httpStatus(err)).to.equal(410);
    } finally {
      await api.stop();
    }
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
