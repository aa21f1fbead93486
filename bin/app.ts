/**
 * The CDK app: `npx cdk synth -c alertEmail=ops@example.com [-c repositories=app,api] [-c tagPrefix=…]
 * [-c dryRun=true] [-c reconcile=false | -c reconcileSchedule="rate(6 hours)" -c releaseAfterDays=30]
 * [-c watchLifecycleExpiry=true (needs a CloudTrail trail)] [-c lookupPushers=true]`.
 * Deploys one guard into the account and region of the current credentials.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, configFromContext } from '../lib/config';
import { DigestGuardStack } from '../lib/digest-guard-stack';

const app = new App();

let config;
try {
  config = configFromContext((key) => app.node.tryGetContext(key));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

new DigestGuardStack(app, 'EcrDigestGuard', {
  config,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

// Every finding fails the synth; each accepted one is acknowledged, with its reason, where it arises.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

app.synth();
