import { bootDevices, type BootDevice } from '../../shared/model.js';
import { isIsoFileName, maxIsoFileNameLength } from '../../shared/iso-files.js';
import { invalid } from './errors.js';

/** The id of every VM's one CD-ROM drive, as oVirt gives it. */
export const cdromId = '00000000-0000-0000-0000-000000000000';

/** A VM's boot devices as its row stores them: comma-separated, in order. */
export function storedBootDevices(devices: readonly BootDevice[]): string {
  return devices.join(',');
}

export function bootDevicesOf(stored: string): BootDevice[] {
  return stored.split(',').filter((device): device is BootDevice => (bootDevices as readonly string[]).includes(device));
}

/** Refuses a boot order that is empty or names a device twice. */
export function checkBootDevices(devices: readonly BootDevice[], where: string): BootDevice[] {
  if (devices.length === 0) throw invalid(`${where} must name at least one boot device (${bootDevices.join(', ')})`);
  const repeated = devices.find((device, index) => devices.indexOf(device) !== index);
  if (repeated) throw invalid(`${where} names ${repeated} more than once`);
  return [...devices];
}

/** Refuses a name that cannot name a file of a storage domain's ISO directory. */
export function checkIsoFileName(name: string, where: string): string {
  if (!isIsoFileName(name)) {
    throw invalid(`${where} "${name}" is not an ISO file name: it must be the name of a file in a storage domain's ISO directory, without a path, of letters, digits and ". _ + -", not starting with "." or "-", at most ${maxIsoFileNameLength} characters`);
  }
  return name;
}
