/** `admin.keys.*`: API keys made, listed and revoked at run time. */
import { router } from './init.ts'

export const adminKeysRouter = router({})
