/**
 * What the package exports to other CDK apps: the construct, its props and the types of its members.
 * DigestGuardStack stays out: it registers cdk-nag for this repository's app, and an app that installs the
 * construct runs its own checks.
 */
export * from './digest-guard';
