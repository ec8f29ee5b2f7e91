import { UsageError } from '../errors.js';

/** `<module>[,key=value...]`: a device module and the options its factory is called with. */
export interface DeviceSpec {
  /** The text as given, for messages. */
  readonly text: string;
  /** A package specifier (`@acme/virtio-rng/device`) or a path (`./my-device.js`). */
  readonly module: string;
  readonly options: Record<string, string>;
}

/** Parses `--device` syntax; `where` names the place it came from, for the one-line error. */
export function parseDeviceSpec(text: string, where: string): DeviceSpec {
  const [module = '', ...items] = text.split(',');
  if (module.trim() === '') throw new UsageError(`uk run: ${where} ${text}: expected <module>[,key=value...], e.g. @acme/virtio-rng/device,seed=1`);
  const options: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`uk run: ${where} ${text}: ${item === '' ? 'an empty option' : `option ${item}`}: expected key=value`);
    options[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return { text, module: module.trim(), options };
}
