import * as pulumi from "@pulumi/pulumi";
import { BUNDLE_FILE_NAME, bundleHandler, type HandlerName } from "../functions/bundle";

// Sources do not change while a program runs: several components in one program bundle each handler once.
const bundles = new Map<HandlerName, Promise<string>>();
const bundleOnce = (handler: HandlerName) => bundles.get(handler) ?? bundles.set(handler, bundleHandler(handler)).get(handler)!;

/**
 * A handler bundled in memory by esbuild, as the Lambda code archive: no build
 * step before `pulumi up`, and identical bytes (so no diff) while sources are unchanged.
 */
export function lambdaCodeArchive(handler: HandlerName): pulumi.Output<pulumi.asset.AssetArchive> {
  return pulumi.output(bundleOnce(handler)).apply(
    (code) => new pulumi.asset.AssetArchive({ [BUNDLE_FILE_NAME]: new pulumi.asset.StringAsset(code) }),
  );
}
