/** mailauth's signer class, which its package types do not export; dkimSigner.ts gives it its shape. */
declare module 'mailauth/lib/dkim/dkim-signer.js' {
  export const DkimSigner: unknown;
}
