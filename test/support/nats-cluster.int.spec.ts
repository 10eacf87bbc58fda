/**
 * The 3-node JetStream cluster helper (scale-out chaos runs): an EKM event stream created with
 * `replicas: 3` (what EKM_JS_REPLICAS=3 gives) keeps accepting and serving messages after its leader
 * node is SIGKILLed, and the node rejoins. A stream with one replica on the killed node would not.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { ensureStreams, eventStreamSpec } from '@ekm/event-store';
import { startNatsCluster, type NatsCluster } from './nats-cluster';

jest.setTimeout(90_000);

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
    // A new leader is elected among the two survivors; publishing works again once it is.
    for (let attempt = 1; ; attempt++) {
      try {
        await js.publish('ekm.events.clustertest.After', 'b', { timeout: 2000 });
        break;
      } catch (err) {
        if (attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const during = await cluster.streamState(spec.name);
    expect(during.leader).not.toBe(before.leader);
    expect((await jsm.streams.info(spec.name)).state.messages).toBe(2);

    await cluster.restartNode(before.leader!);
    expect(cluster.urls).toHaveLength(3);
  });
});
