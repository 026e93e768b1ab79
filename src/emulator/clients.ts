/**
 * The OAuth clients the emulator accepts. Without a list it accepts any
 * client id and secret, which is what sandbox mode needs (it has no Google
 * Cloud project); with a list it behaves like Google: unknown client,
 * wrong secret or unregistered redirect URI are refused.
 */
import type { EmulatedClient } from './types.ts'

export interface ClientRegistry {
  knows(clientId: string): boolean
  /** Google compares the redirect URI with the registered ones exactly. */
  allowsRedirect(clientId: string, redirectUri: string): boolean
  authenticate(clientId: string, clientSecret: string | undefined): boolean
}

export function createClientRegistry(clients: EmulatedClient[] | undefined): ClientRegistry {
  if (clients === undefined) {
    return { knows: () => true, allowsRedirect: () => true, authenticate: () => true }
  }
  const byId = new Map(clients.map((client) => [client.clientId, client]))
  return {
    knows: (clientId) => byId.has(clientId),
    allowsRedirect: (clientId, redirectUri) => {
      const allowed = byId.get(clientId)?.redirectUris
      return allowed === undefined || allowed.includes(redirectUri)
    },
    authenticate: (clientId, clientSecret) =>
      clientSecret !== undefined && byId.get(clientId)?.clientSecret === clientSecret,
  }
}
