import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../support/fake-dir.js';
import { cli as runColoXl } from '../support/cli.js';
import { domainConfigToJson } from '../../lib/libxl/json.js';
import { parseConfigData, XlExit } from '../../lib/xl/parse.js';
import { YajlGen, yajlEncodeString } from '../../lib/json/yajl.js';

describe('yajl generator (yajl 2 beautify, as libxl prints)', () => {
  it('indents, separates and closes like yajl, empty containers included', () => {
    const g = new YajlGen();
    g.mapOpen().string('a').integer(1).string('m').mapOpen().mapClose().string('l').arrayOpen().integer(0).string('x/y').arrayClose();
    g.string('e').arrayOpen().arrayClose().string('d').defbool(false).mapClose();
    assert.equal(
      g.result(),
      '{\n    "a": 1,\n    "m": {\n\n    },\n    "l": [\n        0,\n        "x/y"\n    ],\n    "e": [\n\n    ],\n    "d": "False"\n}\n',
    );
    assert.throws(() => g.integer(2), /complete/);
    assert.throws(() => new YajlGen().mapOpen().integer(3), /keys must be strings/);
  });

  it('escapes strings like yajl_string_encode', () => {
    assert.equal(yajlEncodeString('q"b\\n\n\r\t\b\f\x01\x1f/é'), '"q\\"b\\\\n\\n\\r\\t\\b\\f\\u0001\\u001F/é"');
    assert.equal(new YajlGen(false).mapOpen().string('k').string('v').mapClose().result(), '{"k":"v"}');
  });
});

describe('parse_config_data', () => {
  const uuid = 'uuid="12345678-1234-1234-1234-123456789abc"';

  it('lists the keys xl reads and colo-xl does not port, with their lines; keys xl never reads are ignored as xl ignores them', () => {
    const d = parseConfigData('t.cfg', `name="a"\ntype="hvm"\n${uuid}\ncpuid=['x']\npci=[]\ncpuid+=['y']\nparallel="pty"\n`, { err: () => undefined });
    assert.deepEqual(d.unsupported, [{ name: 'cpuid', line: 6 }, { name: 'pci', line: 5 }]);
  });

  it('generates a uuid when none is given, and exits like xl on refused values', () => {
    const d = parseConfigData('t.cfg', 'name="a"\ntype="hvm"\n', { err: () => undefined });
    assert.match(d.c_info.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    let err = '';
    assert.throws(() => parseConfigData('t.cfg', 'name="a"\ntype="hvm"\nhdtype="scsi"\n', { err: (t) => (err += t) }), (e) => e instanceof XlExit && e.status === 1);
    assert.equal(err, 'ERROR: invalid value "scsi" for "hdtype"\n');
    assert.throws(() => parseConfigData('t.cfg', 'name="a"\ntype="hvm"\ndisk=["hda:/x"]\n', { err: () => undefined }), XlExit);
  });

  it('an XlExit carries what xl printed before it exited, and its status', () => {
    const cfg = 'name="a"\ntype="hvm"\nvcpus=[1]\nhdtype="scsi"\n';
    let err = '';
    assert.throws(() => parseConfigData('t.cfg', cfg, { err: (t) => (err += t) }), (e) => {
      assert.ok(e instanceof XlExit);
      assert.deepEqual([e.code, e.status, e.report, e.message], ['XL_EXIT', 1, err, 'xl exits with status 1: ERROR: invalid value "scsi" for "hdtype"']);
      return true;
    });
    assert.match(err, /warning: parameter `vcpus' is a list but should be a single value\n/);
  });

  it('ms_vm_genid = "generate" makes 16 random bytes, as libxl_ms_vm_genid_generate does', () => {
    const d = parseConfigData('t.cfg', `name="a"\ntype="hvm"\n${uuid}\nms_vm_genid="generate"\n`, { err: () => undefined });
    assert.equal(d.b_info.hvm.ms_vm_genid.length, 16);
    assert.ok(d.b_info.hvm.ms_vm_genid.some((b) => b !== 0));
    assert.match(domainConfigToJson(d), /"ms_vm_genid": \[\n( {16}\d+,\n){15} {16}\d+\n {12}\]/);
  });

  it('prints the JSON xl prints (hand-checked against Xen 4.17 for this config)', () => {
    const d = parseConfigData('t.cfg', `name="a"\ntype="hvm"\n${uuid}\nmemory=64\nvcpus=2\nvnc=0\nserial=["pty"]\n`, { err: () => undefined });
    assert.equal(
      domainConfigToJson(d),
      `{
    "c_info": {
        "type": "hvm",
        "name": "a",
        "uuid": "12345678-1234-1234-1234-123456789abc",
        "run_hotplug_scripts": "True"
    },
    "b_info": {
        "max_vcpus": 2,
        "avail_vcpus": [
            0,
            1
        ],
        "max_memkb": 65536,
        "target_memkb": 65536,
        "sched_params": {

        },
        "claim_mode": "True",
        "type.hvm": {
            "vga": {

            },
            "vnc": {
                "enable": "False"
            },
            "sdl": {

            },
            "spice": {

            },
            "serial_list": [
                "pty"
            ],
            "rdm": {

            }
        },
        "arch_arm": {

        },
        "arch_x86": {

        }
    },
    "on_reboot": "restart",
    "on_soft_reset": "soft_reset"
}
`,
    );
  });
});

describe('colo-xl -N create', () => {
  const scratch = scratchDir('colo-xl-cfg-');

  it('reports keys it does not support on stderr instead of dropping them silently', async () => {
    const cfg = join(scratch.path, 'u.cfg');
    writeFileSync(cfg, 'name="a"\ntype="hvm"\nuuid="12345678-1234-1234-1234-123456789abc"\npci=[]\n');
    const io = await runColoXl(['-N', 'create', cfg]);
    assert.equal(io.status, 0);
    assert.equal(io.stderr, `Parsing config from ${cfg}\ncolo-xl: ${cfg}:4: \`pci' is not supported by colo-xl and was ignored\n`);
    assert.ok(io.stdout.startsWith('{\n    "c_info": {'));
  });

  it('without -N it says a Xen host is needed; -h prints help', async () => {
    const cfg = join(scratch.path, 'u.cfg');
    const io = await runColoXl(['create', cfg]);
    assert.equal(io.status, 3);
    assert.match(io.stderr, /needs a Xen host/);
    const io2 = await runColoXl(['create', '-h']);
    assert.equal(io2.status, 0);
    assert.match(io2.stdout, /^Usage: colo-xl \[-N\] create/);
  });
});
