/** What a tRPC call was refused with, for tests that assert refusals. */
import { TRPCClientError } from '@trpc/client'

/** The refusal a call got: its stable code, HTTP status and message; or 'OK'. */
export async function refusalOf(
  call: Promise<unknown>,
): Promise<{ code: string; httpStatus: number; message: string } | 'OK'> {
  try {
    await call
    return 'OK'
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error
    const data = error.data as { code: string; httpStatus: number }
    return { code: data.code, httpStatus: data.httpStatus, message: error.message }
  }
}
