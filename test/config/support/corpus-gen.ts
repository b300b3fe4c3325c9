/**
 * Seeded generator of xl.cfg files over every key colo-xl ports (PV, PVH and HVM, vif with its
 * COLO keys, channels, vfbs, spice, USB, platform flags...), each with good values and values xl
 * warns about or refuses. A uuid is always given, so xl's output is deterministic. Inputs on
 * which xl 4.17 itself crashes or reads uninitialised memory are left out: a MAC cut short at
 * the very end of a vif string, an empty bootloader_args string or channel spec, a list inside
 * viridian=, and out-of-range numbers beside a vif rate (glibc leaves errno set, which libxlu's
 * rate parser then reads).
 */

import { Rng } from './config-gen.js';

const q = (r: Rng, s: string): string => (r.chance(0.5) ? `"${s}"` : `'${s}'`);
const list = (r: Rng, items: string[]): string => `[ ${items.map((s) => q(r, s)).join(', ')} ]`;

const BOOL = ['0', '1', '"1"', '"0"', '"yes"', '["1"]'];
const NUM = ['0', '1', '2', '8', '64', '512', '0x20', '010', '"7"'];
const BAD_NUM = ['"-1"', '"12x"', '"abc"', '[3]'];
const BIG = ['99999999999999999999', '"-99999999999999999999"'];

const MACS = ['00:16:3e:01:02:03', '00:16:3E:AA:bb:cc', 'aa-bb-cc-dd-ee-ff', '0:1:2:3:4:5', '00:16:3e:1ff:00:00', 'zz:00:00:00:00:00', '00:16:3e:00:00:01:02', ' 0x1:2:3:4:5:6'];
const RATES = ['10Mb/s', '100MB/s@20ms', '1Gb/s@1s', '5KB/s@500us', '1B/s', '10Mb/s@', 'abc', '@10ms', '0Mb/s', '10Mb/s@0ms', '99999999999Mb/s', '10Mb/s@4295s', '010Mb/s@010ms', '10mb/s'];
const COLO_NIC_KEYS = [
  'forwarddev', 'colo_sock_mirror_id', 'colo_sock_mirror_ip', 'colo_sock_mirror_port', 'colo_sock_compare_pri_in_id',
  'colo_sock_compare_pri_in_ip', 'colo_sock_compare_pri_in_port', 'colo_sock_compare_sec_in_id', 'colo_sock_compare_sec_in_ip',
  'colo_sock_compare_sec_in_port', 'colo_sock_compare_notify_id', 'colo_sock_compare_notify_ip', 'colo_sock_compare_notify_port',
  'colo_sock_redirector0_id', 'colo_sock_redirector0_ip', 'colo_sock_redirector0_port', 'colo_sock_redirector1_id',
  'colo_sock_redirector1_ip', 'colo_sock_redirector1_port', 'colo_sock_redirector2_id', 'colo_sock_redirector2_ip',
  'colo_sock_redirector2_port', 'colo_filter_mirror_queue', 'colo_filter_mirror_outdev', 'colo_filter_redirector0_queue',
  'colo_filter_redirector0_indev', 'colo_filter_redirector0_outdev', 'colo_filter_redirector1_queue',
  'colo_filter_redirector1_indev', 'colo_filter_redirector1_outdev', 'colo_compare_pri_in', 'colo_compare_sec_in',
  'colo_compare_out', 'colo_compare_notify_dev', 'colo_sock_sec_redirector0_id', 'colo_sock_sec_redirector0_ip',
  'colo_sock_sec_redirector0_port', 'colo_sock_sec_redirector1_id', 'colo_sock_sec_redirector1_ip',
  'colo_sock_sec_redirector1_port', 'colo_filter_sec_redirector0_queue', 'colo_filter_sec_redirector0_indev',
  'colo_filter_sec_redirector0_outdev', 'colo_filter_sec_redirector1_queue', 'colo_filter_sec_redirector1_indev',
  'colo_filter_sec_redirector1_outdev', 'colo_filter_sec_rewriter0_queue', 'colo_checkpoint_host', 'colo_checkpoint_port',
];

function vifToken(r: Rng, withRate: boolean): string {
  switch (r.int(withRate ? 13 : 12)) {
    case 0: return `mac=${r.pick(MACS)}`;
    case 1: return `bridge=${r.pick(['xenbr0', 'br-colo', ''])}`;
    case 2: return `type=${r.pick(['vif', 'ioemu', 'ioemu', 'tap'])}`;
    case 3: return `model=${r.pick(['e1000', 'rtl8139', 'virtio-net'])}`;
    case 4: return r.pick(['ip=10.0.0.5', 'script=vif-bridge', 'backend=dom0', 'vifname=vif-colo', 'gatewaydev=eth0', 'netdev=eth1']);
    case 5: return `${r.pick(COLO_NIC_KEYS)}=${r.pick(['10.0.0.2', '9003', 'mirror0', 'eth1'])}`;
    case 6: return `${r.pick(['devid', 'mtu'])}=${r.pick(['0', '3', '1500', '9000', '12abc', 'x', '-2', '4294967295', '18446744073709551615'])}`;
    case 7: return r.pick(['trusted', 'untrusted', 'accel=x', 'foo=bar', 'unknown', ' bridge=spaced']);
    case 8: return `${r.pick(COLO_NIC_KEYS)}=v${r.int(9)}`;
    case 9: return 'mac=00:16:3e';
    case 10: return `type=${r.pick(['vif', 'ioemu'])}`;
    case 11: return `bridge=xenbr${r.int(3)}`;
    default: return `rate=${r.pick(RATES)}`;
  }
}

function vifSpec(r: Rng, withRate: boolean): string {
  const n = r.int(5);
  const toks = Array.from({ length: n }, () => vifToken(r, withRate));
  // A MAC cut short must not be the last token: C would read past the string's end.
  if (toks.length > 0 && toks[toks.length - 1] === 'mac=00:16:3e') toks.push('bridge=xenbr0');
  let s = toks.join(r.pick([',', ',', ', ', ',,']));
  if (/(^|,)mac=[^,]*$/.test(s) && !/mac=([^,:]+:){5}[^,]+$/.test(s)) s += ',bridge=b';
  return s;
}

const CHANNELS = [
  'name=org.qemu.guest_agent.0,connection=socket,path=/run/qga.sock', 'connection=pty,name=c1',
  'connection=pty, name = spaced ,backend=dom0', 'connection=socket,name=s', 'connection=tcp,name=x', 'name=n',
  'connection=pty,color=red', 'name==double==,connection=pty', 'noequals', 'connection=pty,path=',
];
const VFBS = ['vnc=1,vnclisten=0.0.0.0,vncdisplay=2', 'vnc=1,keymap=de,sdl=0,opengl=1', 'vncunused=0,vncpasswd=pw,display=:0,xauthority=/x', 'vnc=1,bogus,vncdisplay=5', 'type=vnc', ''];

function value(r: Rng, key: string, withRate: boolean): string {
  switch (key) {
    case 'name': return q(r, r.pick(['pv-guest', 'colo-vm', 'a b']));
    case 'uuid': return r.chance(0.97) ? q(r, '12345678-1234-1234-1234-123456789abc') : q(r, 'not-a-uuid');
    case 'type': return q(r, r.chance(0.95) ? r.pick(['hvm', 'pv', 'pvh', 'pv', 'pvh', 'h', 'p']) : 'xen');
    case 'builder': return q(r, r.pick(['hvm', 'generic', 'linux']));
    case 'kernel': return q(r, r.pick(['/boot/vmlinuz-6.1', '/usr/lib/xen-4.17/boot/hvmloader', 'hvmloader', '/k']));
    case 'ramdisk': return q(r, '/boot/initrd.img-6.1');
    case 'cmdline': case 'root': case 'extra': return q(r, r.pick(['console=hvc0', '/dev/xvda1 ro', 'quiet']));
    case 'bootloader': return q(r, r.pick(['pygrub', '/usr/lib/xen-4.17/bin/pygrub']));
    case 'bootloader_args': return r.chance(0.5) ? list(r, r.pick([['-q'], ['--kernel=/vmlinuz', '--ramdisk=/initrd'], []])) : q(r, r.pick(['-q', '  -q --x\t-y ', '--args=a']));
    case 'firmware': return q(r, r.pick(['pvgrub64', 'pvgrub32', 'pvgrub', 'ovmf', 'seabios', 'uefi', 'bios', 'u', '/srv/fw.bin', 'OVMF']));
    case 'pvshim_path': case 'pvshim_cmdline': case 'pvshim_extra': return q(r, r.pick(['/shim.gz', 'loglvl=all']));
    case 'pool': return q(r, 'Pool-0');
    case 'tsc_mode': case 'timer_mode': case 'altp2m':
      return r.chance(0.5) ? r.pick(['0', '1', '2', '3', '4', '"-1"']) : q(r, r.pick(['default', 'native', 'always_emulate', 'native_paravirt', 'NATIVE', 'delay_for_missed_ticks', 'no_delay_for_missed_ticks', 'one_missed_tick_pending', 'mixed', 'external', 'limited', 'bogus']));
    case 'passthrough': return q(r, r.pick(['default', 'disabled', 'enabled', 'sync_pt', 'share_pt', 'Enabled', 'on']));
    case 'bios': return q(r, r.pick(['rombios', 'seabios', 'ovmf', 'OVMF', 'coreboot']));
    case 'viridian': return r.chance(0.5) ? r.pick(BOOL) : list(r, r.pick([['defaults'], ['all', '!hcall_ipi'], ['base', 'freq', '!base'], ['bogus'], [], ['defaults', 'crash_ctl', 'STIMER', '!synic']]));
    case 'mmio_hole': return r.pick(['256', '1024', '3840', '255', '3841', '"x"']);
    case 'rtc_timeoffset': return r.pick(['0', '3600', '"-3600"', '"x"']);
    case 'max_grant_frames': case 'max_maptrack_frames': case 'max_grant_version': return r.pick(['0', '32', '64', '"-1"', '"x"', '2147483648', '[1]']);
    case 'acpi_firmware': case 'smbios_firmware': case 'firmware_override': case 'bios_path_override': case 'device_model_override':
    case 'stubdomain_kernel': case 'stubdomain_ramdisk': case 'device_tree': return q(r, r.pick(['/srv/fw/acpi.bin', '/usr/bin/qemu-system-i386']));
    case 'stubdomain_cmdline': case 'device_model_user': case 'soundhw': case 'spicehost': case 'spicepasswd': case 'keymap': case 'vnclisten':
    case 'spice_image_compression': case 'spice_streaming_video': case 'vncpasswd': case 'display': case 'xauthority':
      return r.chance(0.9) ? q(r, r.pick(['hda', '0.0.0.0', 'auto_glz', 'filter', 'de', 'pw', '127.0.0.1:2'])) : '["l"]';
    case 'device_model': return q(r, r.pick(['/usr/lib/xen/bin/stubdom-dm', 'qemu-dm']));
    case 'device_model_version': return q(r, r.pick(['qemu-xen', 'qemu-xen-traditional', 'qemu']));
    case 'device_model_args': case 'device_model_args_pv': case 'device_model_args_hvm':
      return r.chance(0.85) ? list(r, r.pick([['-monitor', 'none'], ['-global', 'x=y'], []])) : q(r, '-x');
    case 'vga': return q(r, r.pick(['stdvga', 'cirrus', 'none', 'qxl', 'std']));
    case 'hdtype': return q(r, r.pick(['ide', 'ahci', 'AHCI', 'scsi']));
    case 'gfx_passthru': return r.pick(['0', '1', '"igd"', '"IGD"', '"default"', '"amd"']);
    case 'serial': case 'usbdevice': return r.pick(['"pty"', '"tablet"', '["pty", "null"]', '[]', '["mouse", ["x"], "tablet"]']);
    case 'vendor_device': return q(r, r.pick(['xenserver', 'none', 'XenServer', 'citrix']));
    case 'boot': return q(r, r.pick(['c', 'dc', 'n']));
    case 'vif': {
      if (r.chance(0.08)) return q(r, 'bridge=xenbr0');
      const n = 1 + r.int(3);
      return `[ ${Array.from({ length: n }, () => q(r, vifSpec(r, withRate))).join(', ')} ]`;
    }
    case 'vif2': return r.pick(['["bridge=x"]', '"x"', '[]']);
    case 'channel': return r.chance(0.9) ? list(r, Array.from({ length: 1 + r.int(2) }, () => r.pick(r.chance(0.7) ? CHANNELS.slice(0, 3) : CHANNELS))) : q(r, 'connection=pty');
    case 'vfb': return list(r, Array.from({ length: r.int(3) }, () => r.pick(VFBS)));
    case 'usbctrl': return list(r, Array.from({ length: r.int(3) }, () => r.pick(['type=qusb,version=2,ports=4', 'type=devicemodel,version=3', 'type=PV', 'ports=15', '', 'version=x', 'type=bogus', 'speed=1'])));
    case 'usbdev': return list(r, Array.from({ length: r.int(3) }, () => r.pick(['type=hostdev,hostbus=1,hostaddr=3', 'type=hostdev,hostbus=0x300,hostaddr=010,controller=0,port=1', 'port=2', '', 'type=usb', 'hostbus'])));
    case 'seclabel': case 'init_seclabel': case 'device_model_stubdomain_seclabel':
      return r.chance(0.9) ? q(r, r.pick(['system_u:system_r:domU_t', 'system_u:system_r:dm_dom_t'])) : '["x"]';
    case 'vuart': return q(r, r.pick(['sbsa_uart', 'SBSA_UART', 'unknown', 'pl011']));
    case 'gic_version': return r.chance(0.9) ? q(r, r.pick(['v2', 'v3', 'default', 'V3', 'v4'])) : '["v2"]';
    case 'tee': return r.chance(0.9) ? q(r, r.pick(['none', 'optee', 'OPTEE', 'ffa'])) : '["optee"]';
    case 'dtdev': return list(r, Array.from({ length: r.int(3) }, () => r.pick(['/soc/serial@1c090000', '/smmu@2b400000'])));
    case 'ioports': return r.chance(0.9) ? list(r, Array.from({ length: r.int(4) }, () => r.pick(['3f8-3ff', '2f8', '0x60', '1x0', '200-1ff', 'g', '10-x', 'ffffffff', '3f8 ']))) : '"3f8"';
    case 'irqs': return r.chance(0.9) ? list(r, Array.from({ length: r.int(4) }, () => r.pick(['4', '10', '0x10', '4294967295', '', '7a']))) : '"4"';
    case 'mca_caps': return r.chance(0.9) ? list(r, r.pick([['lmce'], [], ['lmce', 'lmce'], ['cmci']])) : '"lmce"';
    // "generate" is random: the unit tests check its shape.
    case 'ms_vm_genid': return r.chance(0.9) ? q(r, r.pick(['none', 'None', 'gen'])) : '["none"]';
    case 'p9': return list(r, Array.from({ length: r.int(3) }, () => r.pick(['tag=share,security_model=none,path=/srv/share', 'tag=t2,security_model=mapped,path=/p,backend=dom0', 'backend=dom0', 'path=/only', 'tag=x,bogus=1', 'tag=a,x'])));
    case 'vtpm': return list(r, Array.from({ length: r.int(3) }, () => r.pick(['backend=vtpmmgr', 'backend=d,uuid=AB345678-1234-1234-1234-123456789abc', 'uuid=zz,backend=x', 'backend=x,model=y', '', 'backend=x,junk'])));
    case 'pvcalls': return list(r, Array.from({ length: r.int(3) }, () => r.pick(['backend=dom0', '', 'x', 'backend=a,backend=b', 'foo=1'])));
    case 'disk': return list(r, r.pick([['vdev=xvda,format=raw,target=/srv/a.img'], ['/srv/b.img,raw,xvdb,rw', 'vdev=hdc,devtype=cdrom,format=raw,access=ro,target=/srv/boot.iso'], r.chance(0.2) ? ['hda:/bad'] : ['phy:/dev/vg/guest,xvda,w']]));
    case 'on_poweroff': case 'on_reboot': case 'on_crash': case 'on_watchdog': case 'on_soft_reset':
      return q(r, r.pick(['destroy', 'restart', 'preserve', 'coredump-destroy', 'rename-restart', 'soft-reset', 'reboot']));
    default: break;
  }
  if (BOOL_KEYS.includes(key)) return r.pick(BOOL);
  if (r.chance(0.85)) return r.pick(NUM);
  return r.pick(withRate ? BAD_NUM : [...BAD_NUM, ...BIG]);
}

const BOOL_KEYS = [
  'hap', 'oos', 'pvshim', 'e820_host', 'nomigrate', 'localtime', 'driver_domain', 'acpi', 'nestedhvm', 'pae', 'acpi_s3',
  'acpi_s4', 'acpi_laptop_slate', 'nx', 'hpet', 'vpt_align', 'apic', 'altp2mhvm', 'device_model_stubdomain_override',
  'vnc', 'vncunused', 'sdl', 'opengl', 'dm_restrict', 'spice', 'spicedisable_ticketing', 'spiceagent_mouse', 'spicevdagent',
  'spice_clipboard_sharing', 'nographic', 'usb', 'vkb_device', 'xen_platform_pci', 'xend_suspend_evtchn_compat',
  'msr_relaxed', 'vpmu', 'stdvga',
];
const NUM_KEYS = [
  'cpu_weight', 'cap', 'period', 'slice', 'latency', 'extratime', 'memory', 'maxmem', 'vcpus', 'maxvcpus', 'shadow_memory',
  'videoram', 'max_event_channels', 'vncviewer', 'vncdisplay', 'spiceport', 'spicetls_port', 'spiceusbredirection',
  'usbversion', 'stubdomain_memory', 'rdm_mem_boundary', 'vmtrace_buf_kb',
];
const OTHER_KEYS = [
  'builder', 'kernel', 'ramdisk', 'cmdline', 'root', 'extra', 'bootloader', 'bootloader_args', 'firmware', 'pvshim_path',
  'pvshim_cmdline', 'pvshim_extra', 'pool', 'tsc_mode', 'timer_mode', 'altp2m', 'passthrough', 'bios', 'viridian',
  'mmio_hole', 'rtc_timeoffset', 'max_grant_frames', 'max_maptrack_frames', 'max_grant_version', 'acpi_firmware',
  'smbios_firmware', 'firmware_override', 'bios_path_override', 'device_model_override', 'stubdomain_kernel',
  'stubdomain_ramdisk', 'device_tree', 'stubdomain_cmdline', 'device_model_user', 'soundhw', 'spicehost', 'spicepasswd',
  'keymap', 'vnclisten', 'spice_image_compression', 'spice_streaming_video', 'vncpasswd', 'display', 'xauthority',
  'device_model', 'device_model_version', 'device_model_args', 'device_model_args_pv', 'device_model_args_hvm', 'vga',
  'hdtype', 'gfx_passthru', 'serial', 'usbdevice', 'vendor_device', 'boot', 'vif', 'vif2', 'channel', 'vfb', 'disk',
  'usbctrl', 'usbdev', 'seclabel', 'init_seclabel', 'device_model_stubdomain_seclabel', 'vuart', 'gic_version', 'tee',
  'dtdev', 'ioports', 'irqs', 'mca_caps', 'ms_vm_genid', 'p9', 'vtpm', 'pvcalls',
  'on_poweroff', 'on_reboot', 'on_crash', 'on_watchdog', 'on_soft_reset',
];
/** Every key the corpus draws from (besides name, uuid, type). */
export const CORPUS_KEYS = [...BOOL_KEYS, ...NUM_KEYS, ...OTHER_KEYS];
// Common keys come up more often, so that most files get far enough to be printed.
const COMMON = new Set(['kernel', 'bootloader', 'vif', 'memory', 'vcpus', 'cmdline', 'ramdisk', 'extra', 'root', 'disk', 'channel']);

/** One config file's text. */
export function generateCorpusConfig(r: Rng): string {
  const withRate = r.chance(0.3);
  const keys = ['name', 'uuid', 'type', ...CORPUS_KEYS.filter((k) => r.chance(COMMON.has(k) ? 0.45 : k === 'builder' ? 0.03 : 0.06))];
  if (r.chance(0.02)) keys.splice(0, 1);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
  }
  let text = '';
  for (const k of keys) {
    const v = value(r, k, withRate);
    // An empty bootloader_args string makes xl 4.17 crash.
    if (k === 'bootloader_args' && /^["']\s*["']$/.test(v)) continue;
    text += `${k}${r.pick([' = ', '='])}${v}${r.pick(['\n', '\n', ';\n', ' # c\n'])}`;
    if (k === 'vif' && r.chance(0.1)) text += `vif += [ ${q(r, vifSpec(r, withRate))} ]\n`;
  }
  return text;
}
