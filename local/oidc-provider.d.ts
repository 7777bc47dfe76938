// oidc-provider ships no type declarations; local/openIdProvider.ts uses a small, typed part of it.
declare module "oidc-provider";
