/**
 * A network's bridge at berthd's start. Normally still there: bridges outlive berthd
 * (BridgeDriver.park), so their routes kept the subnets reserved from other engines
 * meanwhile. One that is gone (a reboot, an admin) may have had its subnet taken by
 * another engine since (SubnetTaken): as dockerd does with a network it cannot restore,
 * that network stays down with a logged error and berthd still starts (its containers
 * cannot start; attach brings the bridge up once the subnet is free again). The default
 * bridge, like dockerd's, is not tied to a subnet: with no container on it, it moves to
 * a free pool instead.
 */
import { SubnetTaken, type BridgeDriver } from './bridge-driver.js';
import { cidrText, intToIp, type Cidr } from './ipam.js';
import type { NetworkRecord } from './types.js';

export interface BringUpDeps {
  driver: BridgeDriver;
  /** Has the network endpoints (of containers that kept running)? */
  inUse(n: NetworkRecord): boolean;
  freeSubnet(): Promise<Cidr>;
  save(): Promise<void>;
  log?(line: string): void;
}

export async function bringUp(n: NetworkRecord, d: BringUpDeps): Promise<void> {
  const log = d.log ?? ((l: string) => process.stderr.write(l + '\n'));
  try {
    await d.driver.ensure(n);
    return;
  } catch (err) {
    if (!(err instanceof SubnetTaken)) throw err;
    if (n.Name !== 'bridge' || d.inUse(n)) {
      log(`berthd: ${err.message}; remove the other one, then start this network's containers again`);
      return;
    }
    const cfg = n.IPAM.Config[0]!;
    const subnet = await d.freeSubnet();
    log(`berthd: the default bridge moves from ${cfg.Subnet} to ${cidrText(subnet)}: ${err.message}`);
    n.IPAM.Config[0] = { Subnet: cidrText(subnet), Gateway: intToIp(subnet.base + 1) };
    await d.save();
    await d.driver.ensure(n);
  }
}
