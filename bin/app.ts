/**
 * The CDK app: `npx cdk synth -c alertEmail=ops@example.com [-c repositories=app,api] [-c tagPrefix=…]
 * [-c dryRun=true] [-c reconcile=false | -c reconcileSchedule="rate(6 hours)" -c releaseAfterDays=30]
 * [-c watchLifecycleExpiry=true (needs a CloudTrail trail)] [-c lookupPushers=true]`.
 * Deploys one guard into the account and region of the current credentials. `npx cdk destroy` needs no context.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { guardStackFromContext } from '../lib/digest-guard-stack';

const app = new App();

// Configuration problems become error annotations on the stack rather than an exception, so that
// `cdk destroy` and `cdk ls` need no configuration while `cdk synth` and `cdk deploy` list every problem.
guardStackFromContext(app, 'EcrDigestGuard', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

// Every finding fails the synth; each accepted one is acknowledged, with its reason, where it arises.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

app.synth();
