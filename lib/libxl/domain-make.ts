/**
 * The xenstore half of creating a domain (libxl__domain_make in libxl_create.c): its home under
 * /local/domain, its /vm node, libxl's private /libxl node, and the configuration xl saves as
 * userdata. The hypervisor half (the domain itself) is not colo-xl's to make.
 */
import { yajlStringify } from '../json/value.js';
import type { XsPerm } from '../xenstore/messages.js';
import type { LibxlCtx } from './ctx.js';
import { domainPath, libxlPath, setDomainConfiguration } from './domain.js';
import type { DomainType } from './types/domain-config.js';
import { withDomainUserdataLock } from './userdata.js';

export interface DomainMakeInfo {
  domid: number;
  name: string;
  uuid: string;
  type: DomainType;
  /** The saved configuration (libxl_domain_config JSON); by default one with no devices. */
  configJson?: string;
}

// libxl__domain_make (the xenstore nodes) and libxl__domain_rename (the name)
export async function domainMake(ctx: LibxlCtx, info: DomainMakeInfo): Promise<void> {
  const { domid } = info;
  const dom = domainPath(domid);
  const vm = `/vm/${info.uuid}`;
  const lx = libxlPath(domid);
  // the guest may read its home and /vm; what it may write, it owns
  const roperm: XsPerm[] = [
    { domid: 0, access: 'none' },
    { domid, access: 'read' },
  ];
  const rwperm: XsPerm[] = [{ domid, access: 'none' }];
  const noperm: XsPerm[] = [{ domid: 0, access: 'none' }];

  await ctx.xs.transaction(async (tx) => {
    const mknod = async (path: string, perms: XsPerm[]): Promise<void> => {
      await tx.write(path, '');
      await tx.setPerms(path, perms);
    };
    for (const [path, perms] of [[dom, roperm], [vm, roperm], [lx, noperm]] as const) {
      if (await tx.exists(path)) await tx.rm(path);
      await mknod(path, [...perms]);
    }
    await mknod(`${lx}/device`, noperm);
    await tx.write(`${dom}/vm`, vm);
    await tx.write(`${dom}/name`, info.name);
    await tx.write(`${dom}/domid`, String(domid));
    await mknod(`${dom}/device`, roperm);
    await mknod(`${dom}/control`, roperm);
    for (const node of ['control/shutdown', 'control/feature-poweroff', 'control/feature-reboot', 'control/feature-suspend', 'data', 'drivers', 'feature', 'attr', 'error']) {
      await mknod(`${dom}/${node}`, rwperm);
    }
    await tx.write(`${vm}/uuid`, info.uuid);
    await tx.write(`${vm}/name`, info.name);
    await tx.write(`${lx}/type`, info.type);
  });
  const config = info.configJson ?? yajlStringify({ c_info: { type: info.type, name: info.name, uuid: info.uuid } });
  // libxl_create.c:domcreate_complete saves it under the userdata lock, as every writer must
  await withDomainUserdataLock(ctx, domid, (uuid) => setDomainConfiguration(ctx, domid, config, uuid), { uuid: info.uuid });
}
