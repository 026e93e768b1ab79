/**
 * The start-up sentence for a DATA_DIR that cannot be used: the variable,
 * the folder, and the cause in words, from the OS error's code (Node and
 * Deno both give POSIX codes). Never a stack or the raw `EEXIST: …` text.
 */
import { stat } from 'node:fs/promises'
import { dirname } from 'node:path'

/** A DATA_DIR problem found at start; its message is the whole line after "Start failed: ". */
export class DataDirError extends Error {
  override readonly name = 'DataDirError'
  readonly code: string
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

const CAUSES: Record<string, string> = {
  EROFS: 'is on a read-only file system',
  EACCES: 'cannot be written: permission denied',
  EPERM: 'cannot be written: permission denied (it belongs to another user)',
  ENOSPC: 'cannot be written: the disk is full',
  EDQUOT: 'cannot be written: the disk quota is used up',
  ELOOP: 'cannot be reached: too many symbolic links',
  ENAMETOOLONG: 'cannot be used: the path is too long',
  EIO: 'cannot be written: the disk reports an I/O error',
}

/** The DataDirError for `error` met while creating (`create`) or preparing (`use`) `dir`. */
export async function describeDataDirProblem(
  dir: string,
  error: unknown,
  step: 'create' | 'use',
): Promise<DataDirError> {
  const code = (error as { code?: unknown })?.code
  const known = typeof code === 'string' ? code : 'UNKNOWN'
  const say = (words: string) => new DataDirError(`DATA_DIR ${dir} ${words}`, known, { cause: error })
  if (step === 'create' && (known === 'EACCES' || known === 'EPERM'))
    return say('cannot be created: permission denied')
  if (known === 'EEXIST' || known === 'ENOTDIR') {
    const blocker = await fileInTheWay(dir)
    if (blocker === dir) return say('is not a directory (a file is in the way)')
    if (blocker !== undefined) return say(`cannot be created: ${blocker} is a file, not a directory`)
    return say('is not a directory (a file is in the way)')
  }
  const cause = CAUSES[known]
  if (cause !== undefined) return say(cause)
  if (known === 'ENOENT') return say('cannot be created: a folder on its path is missing or cannot be made')
  return say(`cannot be used (${known === 'UNKNOWN' ? 'unknown error' : known})`)
}

/** The path itself or the nearest ancestor that exists and is not a directory. */
async function fileInTheWay(dir: string): Promise<string | undefined> {
  let path = dir
  for (;;) {
    const found = await stat(path).catch(() => undefined)
    if (found !== undefined) return found.isDirectory() ? undefined : path
    const parent = dirname(path)
    if (parent === path) return undefined
    path = parent
  }
}
