import { expect } from 'chai';
import { createServer } from 'node:net';
import { ApiException } from '@kubernetes/client-node';
import {
  apiErrorFields,
  errorMessage,
  httpStatus,
  isAlreadyExists,
  isConflict,
  isNotFound,
  isRefused,
} from '../../src/kube/errors.ts';

// What client-node v2 throws for a refused request: the body is the response's text.
const forbiddenBody = JSON.stringify({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'pods is forbidden: User "system:serviceaccount:rt:limited" cannot list resource "pods" in API group ""',
  reason: 'Forbidden',
  details: { kind: 'pods' },
  code: 403,
});
const headers = { 'content-type': 'application/json', 'audit-id': '1f1b0c1e' };

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('API errors', () => {
  it('an ApiException: the Status code, reason and message, not the dump', () => {
    const e = new ApiException(403, 'Unknown API Status Code!', forbiddenBody, headers);
    expect(e.message).to.include('HTTP-Code: 403'); // what the logs used to print
    expect(apiErrorFields(e)).to.deep.equal({
      code: 403,
      reason: 'Forbidden',
      message: 'pods is forbidden: User "system:serviceaccount:rt:limited" cannot list resource "pods" in API group ""',
    });
    expect(httpStatus(e)).to.equal(403);
    expect(isRefused(e)).to.equal(true);
    expect(errorMessage(e)).to.equal(apiErrorFields(e).message);
  });

  it('an ApiException for an existing object is a conflict that already exists', () => {
    const body = JSON.stringify({
      kind: 'Status',
      status: 'Failure',
      message: 'pods "c-master" already exists',
      reason: 'AlreadyExists',
      code: 409,
    });
    const e = new ApiException(409, 'Unknown API Status Code!', body, headers);
    expect(apiErrorFields(e)).to.deep.equal({
      code: 409,
      reason: 'AlreadyExists',
      message: 'pods "c-master" already exists',
    });
    expect(isConflict(e) && isAlreadyExists(e)).to.equal(true);
  });

  it('an ApiException without a Status: its text, or the HTTP status name without a body', () => {
    const proxy = new ApiException(502, 'Unknown API Status Code!', 'upstream connect error\n', headers);
    expect(apiErrorFields(proxy)).to.deep.equal({ code: 502, message: 'upstream connect error' });
    const unauthorized = new ApiException(401, 'Unauthorized', undefined, headers);
    expect(apiErrorFields(unauthorized)).to.deep.equal({ code: 401, message: 'Unauthorized' });
  });

  it('a watch error: statusCode and the status text', () => {
    // client-node's Watch: new Error(statusText) with statusCode set.
    const e = Object.assign(new Error('Gone'), { statusCode: 410 });
    expect(apiErrorFields(e)).to.deep.equal({ code: 410, message: 'Gone' });
    expect(httpStatus(e)).to.equal(410);
  });

  it('a plain Error, and values that are not errors', () => {
    expect(apiErrorFields(new Error('boom'))).to.deep.equal({ message: 'boom' });
    expect(apiErrorFields('just a string')).to.deep.equal({ message: 'just a string' });
    expect(apiErrorFields(undefined)).to.deep.equal({ message: 'undefined' });
    expect(isNotFound(new Error('boom'))).to.equal(false);
  });

  it('a network error: no code, and the cause that fetch() hides', async () => {
    const port = await closedPort();
    const e = await fetch(`http://127.0.0.1:${port}/api`).then(
      () => expect.fail('connected to a closed port'),
      (err: unknown) => err,
    );
    const fields = apiErrorFields(e);
    expect(fields).to.have.all.keys('message');
    expect(fields.message).to.match(/^fetch failed: .*ECONNREFUSED/);
    // A Node system error's `code` is a string ('ECONNREFUSED'), not an HTTP status.
    const sys = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    expect(apiErrorFields(sys)).to.deep.equal({ message: 'connect ECONNREFUSED 127.0.0.1:6443' });
    expect(httpStatus(sys)).to.equal(undefined);
  });
});
