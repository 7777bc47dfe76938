import * as pulumi from "@pulumi/pulumi";
import { BUNDLE_FILE_NAME, bundleHandler, type HandlerName } from "../functions/bundle";

/**
 * A handler bundled in memory by esbuild, as the Lambda code archive: no build
 * step before `pulumi up`, and identical bytes (so no diff) while sources are unchanged.
 */
export function lambdaCodeArchive(handler: HandlerName): pulumi.Output<pulumi.asset.AssetArchive> {
  return pulumi.output(bundleHandler(handler)).apply(
    (code) => new pulumi.asset.AssetArchive({ [BUNDLE_FILE_NAME]: new pulumi.asset.StringAsset(code) }),
  );
}
