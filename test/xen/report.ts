/** What the rig's tests print: timings and milestones, on stderr, beside mocha's own output. */
import { ensureImage, type RigImage } from './image.js';

export function say(line: string): void {
  process.stderr.write(`      xen rig: ${line}\n`);
}

/** ensureImage, saying what it built and how long it took (the issue asks for the figure). */
export async function imageForTests(): Promise<RigImage> {
  const t0 = performance.now();
  const image = await ensureImage({ onStage: (s) => say(`building: ${s}`) });
  const total = (performance.now() - t0) / 1000;
  say(image.rootfsSeconds || image.imageSeconds
    ? `image built in ${total.toFixed(1)} s (root tree ${image.rootfsSeconds.toFixed(1)} s, image ${image.imageSeconds.toFixed(1)} s)`
    : `image from the cache (${total.toFixed(1)} s)`);
  return image;
}
