/**
 * The `local` driver, the embedded default: no cloud needed. Each node instance is a process group
 * on this machine, started detached so it outlives the command that built it, with:
 * - its directory `<base>/<infra_id>/<node_id>/` (mode 0700; base = `drivers.local.base_dir` or
 *   `~/.occopus/local`) as working directory and HOME, holding `instance.json` and `output.log`;
 * - its own address from `drivers.local.address_range` on Linux (127.0.0.1 elsewhere), in
 *   `OCCOPUS_NODE_IP`, next to `OCCOPUS_NODE_ID`, `OCCOPUS_NODE_NAME`, `OCCOPUS_INFRA_ID`.
 *
 * What runs: the docker form (`command` string via `/bin/sh -c`, list executed directly; `env`
 * entries added), or cloud-init user data: a `#!` script, or a `#cloud-config` with `write_files`
 * (path, content, permissions, encoding, append; placed under `<dir>/root/`) and `runcmd`; other
 * cloud-config keys are ignored with one warning. Without a command the node idles like a booted
 * VM. State: process alive → ready, exited → shutdown, directory gone → unknown. Drop: SIGTERM to
 * the group, `stop_grace` seconds, SIGKILL, then the directory and the address are released.
 */
import type { ResourceDriver } from '../resource-handler.js';
import { parseAddressRange } from './addresses.js';
import { LocalResourceHandler } from './handler.js';
import { localBaseDir } from './instance-dir.js';

export { listLocalInstances, localBaseDir, type LocalInstance, type LocalInstanceFile } from './instance-dir.js';
export { LocalResourceHandler, type LocalHandlerOptions } from './handler.js';

const localDriver: ResourceDriver = {
  type: 'local',
  createHandler(_resource, context) {
    const settings = context.config.drivers.local;
    return new LocalResourceHandler({
      baseDir: localBaseDir(settings.base_dir),
      // Only Linux answers on every 127/8 address without setup; elsewhere instances share 127.0.0.1.
      range: process.platform === 'linux' ? parseAddressRange(settings.address_range) : null,
      stopGraceMs: settings.stop_grace * 1000,
      store: context.store,
      log: context.log,
    });
  },
};

export default localDriver;
