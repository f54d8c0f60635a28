// The traces the browser tests look for, made fresh for each run.
import { hex, traceId } from './server.mjs';

export const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>"><svg onload=window.__xss=3>';
export const EXCEPTION_TEXT = 'e2e: card network timeout after 3 retries';

const now = () => Date.now() / 1000;

// A checkout with every kind of call: local work, DynamoDB, a traced
// downstream service, SQL; a fault with an exception and stack frames.
export function checkoutTrace() {
  const t0 = now() - 30;
  const id = traceId(t0);
  const payCall = hex(16);
  const root = {
    name: 'e2e-checkout', id: hex(16), trace_id: id, start_time: t0, end_time: t0 + 0.5, origin: 'AWS::EC2::Instance', fault: true, user: 'e2e-user',
    http: { request: { method: 'POST', url: 'https://shop.e2e/checkout' }, response: { status: 502 } },
    annotations: { order_id: 'E2E-1001', amount: 42.5, express: true },
    metadata: { default: { cart: { items: 3 } } },
    subsegments: [
      { name: 'validate-cart', id: hex(16), start_time: t0 + 0.001, end_time: t0 + 0.01 },
      { name: 'DynamoDB', id: hex(16), namespace: 'aws', start_time: t0 + 0.011, end_time: t0 + 0.03,
        aws: { operation: 'PutItem', table_name: 'orders-e2e', region: 'eu-west-1', request_id: 'REQ1' }, http: { response: { status: 200 } } },
      { name: 'e2e-payments', id: payCall, namespace: 'remote', start_time: t0 + 0.031, end_time: t0 + 0.45, fault: true,
        http: { request: { method: 'POST', url: 'http://e2e-payments/charge', traced: true }, response: { status: 500 } } },
      { name: 'orders@pg.e2e', id: hex(16), namespace: 'remote', start_time: t0 + 0.451, end_time: t0 + 0.49,
        sql: { url: 'postgresql://pg.e2e/orders', database_type: 'PostgreSQL', sanitized_query: 'SELECT * FROM orders WHERE id = $1' } },
    ],
  };
  const pay = {
    name: 'e2e-payments', id: hex(16), trace_id: id, parent_id: payCall, start_time: t0 + 0.032, end_time: t0 + 0.449, fault: true,
    http: { request: { method: 'POST', url: 'http://e2e-payments/charge' }, response: { status: 500 } },
    cause: { working_directory: '/srv', exceptions: [{ id: hex(16), type: 'GatewayTimeout', message: EXCEPTION_TEXT,
      stack: [{ label: 'charge', path: 'payments/gateway.go', line: 88 }, { label: 'handle', path: 'payments/server.go', line: 21 }] }] },
    subsegments: [{ name: 'card-network', id: hex(16), start_time: t0 + 0.04, end_time: t0 + 0.44, fault: true }],
  };
  return { id, docs: [pay, root], names: ['e2e-checkout', 'validate-cart', 'DynamoDB', 'e2e-payments', 'orders@pg.e2e', 'card-network'] };
}

// Markup and script in every user-supplied string the console shows.
export function xssTrace() {
  const t0 = now() - 20;
  const id = traceId(t0);
  const root = {
    name: 'e2e-xss', id: hex(16), trace_id: id, start_time: t0, end_time: t0 + 0.2, error: true, user: XSS,
    http: { request: { method: 'GET', url: 'https://xss.e2e/' + XSS }, response: { status: 400 } },
    annotations: { payload: XSS },
    metadata: { default: { html: XSS }, [XSS]: { key: XSS } },
    subsegments: [{
      name: XSS, id: hex(16), start_time: t0 + 0.01, end_time: t0 + 0.1, error: true, annotations: { payload: XSS },
      cause: { exceptions: [{ id: hex(16), type: XSS, message: XSS, stack: [{ label: XSS, path: XSS, line: 1 }] }] },
    }],
  };
  return { id, docs: [root] };
}

// One trace of 5,000 subsegments: 50 independent subsegments of 100 each.
export function bulkTrace() {
  const t0 = now() - 40;
  const id = traceId(t0);
  const rootId = hex(16);
  const docs = [{ name: 'e2e-bulk', id: rootId, trace_id: id, start_time: t0, end_time: t0 + 6, http: { request: { method: 'POST', url: 'https://bulk.e2e/import' }, response: { status: 200 } } }];
  for (let i = 0; i < 50; i++) {
    const s = t0 + i * 0.1;
    const kids = [];
    for (let j = 0; j < 99; j++) kids.push({ name: `row-${i * 99 + j + 1}`, id: hex(16), start_time: s + j * 0.001, end_time: s + j * 0.001 + 0.0008, ...(j % 37 === 0 ? { error: true } : {}) });
    docs.push({ name: `batch-${i}`, id: hex(16), trace_id: id, parent_id: rootId, type: 'subsegment', start_time: s, end_time: s + 0.1, subsegments: kids });
  }
  return { id, docs, count: 1 + 50 * 100, last: 'row-4950' };
}

// 1,000 small traces of one service, for the traces-list timing.
export function perfTraces(n = 1000) {
  const end = now() - 5;
  const docs = [];
  for (let i = 0; i < n; i++) {
    const t0 = end - 300 + (i * 290) / n;
    const status = i % 23 === 0 ? 500 : i % 11 === 0 ? 404 : 200;
    docs.push({
      name: 'e2e-perf', id: hex(16), trace_id: traceId(t0), start_time: t0, end_time: t0 + 0.005 + (i % 97) / 1000,
      http: { request: { method: i % 3 ? 'GET' : 'POST', url: `https://perf.e2e/items/${i}` }, response: { status } },
      ...(status === 500 ? { fault: true } : status === 404 ? { error: true } : {}),
      annotations: { n: i, shard: `s${i % 7}` },
    });
  }
  return docs;
}

// An hour of a small app's traffic, then a database failing for the last
// eight minutes (its faults reach the web service's users): the insights
// detector finds it as soon as it evaluates the group these traces are in
// (its first evaluation covers the last hour). Sent with past times, in
// one request, so that no evaluation sees only part of it.
export function insightTraces() {
  const end = Math.floor(now() / 60) * 60 - 60;
  const docs = [];
  let k = 0;
  for (let m = end - 70 * 60; m < end; m += 60) {
    const incident = m >= end - 8 * 60;
    for (let i = 0; i < 10; i++, k++) {
      const t0 = m + i * 5 + 0.5;
      const fault = incident ? i % 10 < 6 : k % 50 === 0;
      docs.push({
        name: 'e2e-ins-web', id: hex(16), trace_id: traceId(t0), start_time: t0, end_time: t0 + 0.2, fault,
        http: { request: { method: 'GET', url: 'https://ins.e2e/' }, response: { status: fault ? 500 : 200 } },
        subsegments: [{ name: 'e2e-ins-db', id: hex(16), namespace: 'remote', start_time: t0 + 0.01, end_time: t0 + 0.15, fault,
          http: { request: { method: 'POST', url: 'http://e2e-ins-db/query' }, response: { status: fault ? 503 : 200 } } }],
      });
    }
  }
  return docs;
}
