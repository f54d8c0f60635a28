// Uses the official X-Ray SDK for Node.js with its default centralized
// sampling, pointed at AWS_XRAY_DAEMON_ADDRESS (a roentgen daemon): waits
// until the SDK samples by the rule node-via-daemon (rules fetched through
// the daemon's TCP proxy), sends one trace over UDP and prints
// "<trace id> <rule>". Run by internal/e2e's TestDaemonNodeSDK.
const AWSXRay = require('aws-xray-sdk-core');

AWSXRay.setContextMissingStrategy('LOG_ERROR');
const sampler = AWSXRay.middleware.sampler;
const request = { host: 'node.example', httpMethod: 'GET', urlPath: '/orders', serviceName: 'node-daemon-e2e' };
const deadline = Date.now() + 15000;

function attempt() {
  const rule = sampler.shouldSample(request);
  if (rule === 'node-via-daemon') {
    const segment = new AWSXRay.Segment('node-daemon-e2e');
    segment.setMatchedSamplingRule(rule);
    const sub = segment.addNewSubsegment('inventory');
    sub.addAnnotation('via', 'daemon');
    sub.close();
    segment.close();
    console.log(segment.trace_id, rule);
    setTimeout(() => process.exit(0), 300);
    return;
  }
  if (Date.now() > deadline) {
    console.error('never sampled by node-via-daemon; last decision:', rule);
    process.exit(1);
  }
  setTimeout(attempt, 100);
}
attempt();
