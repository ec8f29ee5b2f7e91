/**
 * The virtio entropy device (virtio 1.2 §5.4), as both sides of this package read it: device
 * ID 4, one virtqueue (requestq), no feature bits, no configuration space. The driver offers
 * device-writable buffers only; the device writes one or more random bytes into each and may
 * use less than the whole buffer, so the driver reads the used length to know how many it got.
 */

/** §5.4.2: the one virtqueue, where the driver puts buffers to be filled. */
export const REQUEST_QUEUE = 0;

/** §5.4.3: no device-specific feature bits are defined. */
export const ENTROPY_FEATURES = 0n;

/** §5.4.4: no configuration space. */
export const ENTROPY_CONFIG_BYTES = 0;
