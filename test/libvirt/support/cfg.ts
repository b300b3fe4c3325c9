import { parseConfigData } from '../../../lib/xl/parse.js';
import type { DomainConfig } from '../../../lib/libxl/types/domain-config.js';

export const TEST_UUID = '6c3ed3ea-2e3b-4b38-9d8b-2b1c4e9c8f00';

/** xl's parse_config_data with a pinned uuid; a refused config fails with xl's message. */
export function parseCfg(cfg: string): DomainConfig {
  let errors = '';
  try {
    return parseConfigData('test.cfg', cfg, { err: (t) => void (errors += t), generateUuid: () => TEST_UUID });
  } catch (e) {
    throw new Error(`xl.cfg refused: ${errors}\n${cfg}`, { cause: e });
  }
}
