import { execFile } from 'node:child_process'
import type { TestContext } from 'node:test'
import { promisify } from 'node:util'
import { createCluster, type RedisClusterType } from 'redis'
import { startRedis, type RedisServer } from './redis-server.js'

const run = promisify(execFile)

/**
 * A real Redis Cluster of three masters (no replicas) on free loopback ports, each node a redis-server of its own,
 * joined by `redis-cli --cluster create`; stopped after the test.
 */
export interface RedisCluster {
  readonly nodes: readonly RedisServer[]
  /** A connected node-redis cluster client, closed after the test. */
  client: () => Promise<RedisClusterType>
}

export async function startRedisCluster (t: TestContext): Promise<RedisCluster> {
  const nodes: RedisServer[] = []
  for (let i = 0; i < 3; i++) {
    nodes.push(await startRedis(t, { args: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`, '--cluster-node-timeout', '5000'] }))
  }
  await run('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20_000 })
  // Every node must agree that all 16384 slots are served before a client can route a command.
  const deadline = Date.now() + 15_000
  for (const node of nodes) {
    while ((await node.info('cluster')).get('cluster_enabled') !== '1' || !(await clusterOk(node))) {
      if (Date.now() > deadline) throw new Error('the Redis Cluster did not become ready')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  const clients: RedisClusterType[] = []
  t.after(async () => {
    for (const client of clients) await client.close().catch(() => {})
  })
  return {
    nodes,
    client: async () => {
      const client: RedisClusterType = createCluster({ rootNodes: nodes.map((node) => ({ url: node.url })) })
      client.on('error', () => {})
      clients.push(client)
      await client.connect()
      return client
    }
  }
}

async function clusterOk (node: RedisServer): Promise<boolean> {
  const { stdout } = await run('redis-cli', ['-p', String(node.port), 'cluster', 'info'])
  return /cluster_state:ok/.test(stdout)
}
