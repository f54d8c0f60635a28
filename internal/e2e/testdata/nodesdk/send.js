// Sends one trace with the official X-Ray SDK for Node.js to
// AWS_XRAY_DAEMON_ADDRESS over UDP, as an instrumented service would, and
// prints its trace id. Run by internal/e2e's TestNodeSDK.
const AWSXRay = require('aws-xray-sdk-core');

AWSXRay.setContextMissingStrategy('LOG_ERROR');
AWSXRay.middleware.disableCentralizedSampling();

const segment = new AWSXRay.Segment('node-e2e');
segment.addAnnotation('lang', 'node');
segment.addAnnotation('items', 3);
segment.setUser('node-user');
segment.addMetadata('order', { id: 'o-1', lines: 2 });
segment.http = { request: { method: 'POST', url: 'http://node.example/orders' }, response: { status: 502 } };
segment.addFaultFlag();

const sub = segment.addNewSubsegment('inventory');
sub.namespace = 'remote';
sub.http = { request: { method: 'GET', url: 'http://inventory.internal/stock' }, response: { status: 503 } };
sub.addError(new Error('inventory unavailable'), true);
sub.close();

segment.close();
console.log(segment.trace_id);
// The SDK sends on close; give the datagram time to leave before exiting.
setTimeout(() => process.exit(0), 300);
