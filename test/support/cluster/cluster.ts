/**
 * A two-node Pacemaker+Corosync cluster from Debian's packages, each node in its own network,
 * mount, UTS and PID namespaces (node.sh), joined by a veth pair that carries 127.0.100.0/24
 * (loopback-range addresses, routed off `lo` thanks to route_localnet; nothing leaves the pair).
 * Everything it makes is undone by stop(): the nodes' PID 1s are killed (which ends corosync,
 * Pacemaker and the agents' QEMUs) and the network namespaces are deleted.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_SH = join(dirname(fileURLToPath(import.meta.url)), 'node.sh');
export const SUBNET = '127.0.100';

export interface ClusterNode {
  name: string;
  addr: string;
  ns: string;
  dir: string;
  proc: ChildProcess;
  /** PID (in our namespace) of the node's PID 1, for nsenter. */
  pid1: number;
}

function corosyncConf(names: string[], logDir: string): string {
  const nodes = names.map((n, i) => `\tnode {\n\t\tring0_addr: ${SUBNET}.${i + 1}\n\t\tname: ${n}\n\t\tnodeid: ${i + 1}\n\t}\n`).join('');
  return (
    // knet over the veth, no crypto (a test pair); two_node keeps quorum with one node left
    `totem {\n\tversion: 2\n\tcluster_name: coloxl\n\ttransport: knet\n\tcrypto_cipher: none\n\tcrypto_hash: none\n\ttoken: 1000\n}\n` +
    `nodelist {\n${nodes}}\n` +
    `quorum {\n\tprovider: corosync_votequorum\n\ttwo_node: 1\n}\n` +
    `logging {\n\tto_logfile: yes\n\tlogfile: ${logDir}/corosync.log\n\tto_syslog: no\n\tto_stderr: no\n\ttimestamp: on\n}\n`
  );
}

/**
 * The seed CIB: a short dc-deadtime (the controller otherwise waits 20 s for a DC before its first
 * election) and no fencing (the test cluster has no fencing device).
 */
const SEED_CIB =
  '<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config>' +
  '<cluster_property_set id="cib-bootstrap-options"><nvpair id="opt-dc-deadtime" name="dc-deadtime" value="2s"/>' +
  '<nvpair id="opt-stonith" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>' +
  '<nodes/><resources/><constraints/></configuration><status/></cib>\n';

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Cluster {
  readonly nodes: ClusterNode[] = [];
  private readonly tag = `cx${process.pid}`;

  private constructor(readonly dir: string) {}

  /** Builds the namespaces and starts corosync + pacemakerd on each node; `agent` is the OCF agent installed as ocf:colo-xl:colo-xl. */
  static async start(dir: string, agent: string, names = ['n1', 'n2']): Promise<Cluster> {
    const c = new Cluster(dir);
    try {
      await c.boot(agent, names);
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  private async boot(agent: string, names: string[]): Promise<void> {
    const nss = names.map((_, i) => `${this.tag}-${i + 1}`);
    for (const ns of nss) {
      run('ip', ['netns', 'add', ns]);
      this.nsCreated.push(ns);
    }
    const veth = names.map((_, i) => `${this.tag}e${i + 1}`);
    run('ip', ['link', 'add', veth[0]!, 'netns', nss[0]!, 'type', 'veth', 'peer', 'name', veth[1]!, 'netns', nss[1]!]);
    names.forEach((name, i) => {
      const ns = nss[i]!;
      const addr = `${SUBNET}.${i + 1}`;
      // 127.0.0.1/8 on lo would claim the whole range as local: keep only 127.0.0.1 there
      const script = [
        'ip link set lo up',
        'ip addr del 127.0.0.1/8 dev lo',
        'ip addr add 127.0.0.1/32 dev lo',
        `sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.${veth[i]}.route_localnet=1`,
        `ip addr add ${addr}/24 dev ${veth[i]}`,
        `ip link set ${veth[i]} up`,
      ].join(' && ');
      run('ip', ['netns', 'exec', ns, 'sh', '-c', script]);
      const ndir = join(this.dir, name);
      mkdirSync(ndir, { recursive: true });
      writeFileSync(join(ndir, 'corosync.conf'), corosyncConf(names, ndir));
      writeFileSync(join(ndir, 'cib.xml'), SEED_CIB);
      const proc = spawn('ip', ['netns', 'exec', ns, 'unshare', '-m', '-u', '-p', '-f', '--kill-child', '--mount-proc', NODE_SH, name, ndir, agent], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => (out += d));
      proc.stderr!.on('data', (d: Buffer) => (out += d));
      proc.on('exit', () => writeFileSync(join(ndir, 'node.out'), out));
      this.nodes.push({ name, addr, ns, dir: ndir, proc, pid1: 0 });
    });
    for (const n of this.nodes) {
      const deadline = Date.now() + 15_000;
      while (!existsSync(join(n.dir, 'ready'))) {
        if (n.proc.exitCode !== null || Date.now() > deadline) throw new Error(`node ${n.name} did not start: ${this.logTail(n)}`);
        await sleep(100);
      }
      // unshare -f: the node's PID 1 is unshare's only child
      const kids = readFileSync(`/proc/${n.proc.pid}/task/${n.proc.pid}/children`, 'utf8').trim().split(/\s+/);
      n.pid1 = Number(kids[0]);
    }
  }

  private readonly nsCreated: string[] = [];

  node(name: string): ClusterNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** Runs a command inside all of a node's namespaces. */
  exec(name: string, cmd: string[], timeout = 30_000): { status: number | null; out: string } {
    const r = spawnSync('nsenter', ['-t', String(this.node(name).pid1), '-a', ...cmd], { encoding: 'utf8', timeout });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  }

  /** Like exec, but throws on failure. */
  must(name: string, cmd: string[]): string {
    const r = this.exec(name, cmd);
    if (r.status !== 0) throw new Error(`[${name}] ${cmd.join(' ')} failed (${r.status}): ${r.out}`);
    return r.out;
  }

  /** crm_mon's one-shot text status, seen from a node. */
  status(name = this.nodes[0]!.name): string {
    return this.exec(name, ['crm_mon', '-1', '-r']).out;
  }

  /** Polls until pred(status) holds; returns the elapsed ms. */
  async waitFor(what: string, pred: (status: string) => boolean, timeoutMs: number, from = this.nodes[0]!.name): Promise<number> {
    const t0 = Date.now();
    let st = '';
    while (Date.now() - t0 < timeoutMs) {
      st = this.status(from);
      if (pred(st)) return Date.now() - t0;
      await sleep(250);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; crm_mon:\n${st}\n${this.logTail(this.node(from))}`);
  }

  logTail(n: ClusterNode, lines = 30): string {
    const f = join(n.dir, 'pacemaker.log');
    if (!existsSync(f)) return '(no pacemaker.log)';
    return readFileSync(f, 'utf8').split('\n').filter((l) => /error|warning|notice/.test(l)).slice(-lines).join('\n');
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) {
      if (n.proc.exitCode === null && n.proc.signalCode === null) {
        const gone = new Promise((r) => n.proc.once('exit', r));
        n.proc.kill('SIGKILL');
        await Promise.race([gone, sleep(5000)]);
      }
    }
    for (const ns of this.nsCreated.splice(0)) spawnSync('ip', ['netns', 'del', ns]);
  }
}
