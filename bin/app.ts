/**
 * The CDK app: `npx cdk synth -c alertEmail=ops@example.com [-c repositories=app,api] [-c tagPrefix=…]
 * [-c dryRun=true] [-c reconcile=false | -c reconcileSchedule="rate(6 hours)" -c releaseAfterDays=30]
 * [-c watchLifecycleExpiry=true (needs a CloudTrail trail)] [-c lookupPushers=true]`.
 * Deploys one guard into the account and region of the current credentials. `npx cdk destroy` needs no context.
 * Several accounts: add `-c workloadAccounts=111111111111,222222222222 [-c workloadRegions=eu-west-1,us-east-1]
 * -c guardAccount=<registry account> -c guardRegion=<registry region>`; the app then also has the stack
 * `EcrDigestGuardWorkload`, which each workload account deploys once with its own credentials and the same context.
 */
import { App } from 'aws-cdk-lib';
import { configureGuardApp } from '../lib/digest-guard-stack';

const app = new App();
configureGuardApp(app);
app.synth();
