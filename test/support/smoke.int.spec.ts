import { Client } from 'pg';
import { connect } from '@nats-io/transport-node';

describe('private test servers', () => {
  it('postgres and nats-server answer', async () => {
    const pg = new Client({ connectionString: process.env.EKM_TEST_PG_URL });
    await pg.connect();
    const { rows } = await pg.query('select current_setting(\'server_version_num\')::int as v');
    expect(rows[0].v).toBeGreaterThanOrEqual(150000);
    await pg.end();
    const nc = await connect({ servers: process.env.EKM_TEST_NATS_URL });
    const rtt = await nc.rtt();
    expect(rtt).toBeGreaterThanOrEqual(0);
    await nc.close();
  });
});
