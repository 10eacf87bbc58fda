/**
 * The 3-node JetStream cluster helper (scale-out chaos runs): an EKM event stream created with
 * `replicas: 3` (what EKM_JS_REPLICAS=3 gives) keeps accepting and serving messages after its leader
 * node is SIGKILLed, and the node rejoins. A stream with one replica on the killed node would not.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { ensureStreams, eventStreamSpec } from '@ekm/event-store';
import { startNatsCluster, type NatsCluster } from './nats-cluster';
import { scaled, waitFor } from './wait-for';

// Three nats-servers, a leader election and a catch-up: the budget scales with the machine's load.
jest.setTimeout(scaled(90_000));

describe('startNatsCluster', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;

  beforeAll(async () => {
    cluster = await startNatsCluster();
    nc = await connect({ servers: cluster.urls, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  });

  afterAll(async () => {
    await nc?.close();
    await cluster?.stop();
  });

  it('an R3 event stream survives the loss of its leader node', async () => {
    const jsm = await jetstreamManager(nc);
    const spec = eventStreamSpec('clustertest', { replicas: 3 });
    expect((await ensureStreams(jsm, [spec])).streams[0]!.outcome).toBe('created');
    const js = jetstream(nc);
    await js.publish('ekm.events.clustertest.Before', 'a');
    const before = await cluster.streamState(spec.name);
    expect(before.replicas).toBe(3);
    expect(before.leader).toBeDefined();

    await cluster.killNode(before.leader!);
    // A new leader is elected among the two survivors; publishing works again once it is. Until then a
    // publish times out or finds no responders: retry it (same msgID, so a late first ack cannot duplicate).
    await waitFor(() => js.publish('ekm.events.clustertest.After', 'b', { timeout: scaled(2000), msgID: 'after-leader-loss' }),
      { what: 'a publish to the new stream leader', timeoutMs: 60_000, intervalMs: 250, retryOnError: true });
    const during = await waitFor(async () => {
      const st = await cluster.streamState(spec.name);
      return st.leader !== undefined ? st : null;
    }, { what: 'the new leader in the stream info', timeoutMs: 30_000, retryOnError: true });
    expect(during.leader).not.toBe(before.leader);
    expect((await jsm.streams.info(spec.name)).state.messages).toBe(2);

    await cluster.restartNode(before.leader!);
    expect(cluster.urls).toHaveLength(3);
    // The restarted node rejoins and catches up: all three replicas current again.
    await waitFor(async () => (await cluster.streamState(spec.name)).current === 3, { what: 'the restarted node to catch up', timeoutMs: 30_000, intervalMs: 250, retryOnError: true });
  });
});
