// Copies a directory tree with `cp -a` (modes, owners, symlinks, timestamps), into a temporary
// sibling first, so an interrupted copy never looks like a finished one.
import { execFile } from 'node:child_process';
import { rmSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function copyTree(source: string, destination: string): Promise<void> {
  const temporary = join(dirname(destination), `.partial-${basename(destination)}`);
  rmSync(temporary, { recursive: true, force: true });
  try {
    await run('/bin/cp', ['-a', '--', source, temporary]);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
  renameSync(temporary, destination);
}
