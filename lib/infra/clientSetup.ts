import { Duration } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import { type ClientSetupSettings, clientSetupHosts } from '../clientSetup/http.ts';
import { CLIENT_SETUP_ENV } from '../clientSetup/settings.ts';
import { postFunction } from './functions.ts';
import { acknowledgePublicDocumentsApi } from './nagAcknowledgements.ts';
import { ownedLogGroup, type Protection } from './protection.ts';

export interface ClientSetupFrontProps {
  readonly zone: route53.IHostedZone;
  readonly settings: ClientSetupSettings;
  readonly protection: Protection;
}

/**
 * The HTTPS front the TCP NLB cannot be: an API Gateway HTTP API on mta-sts., autoconfig. and autodiscover.<domain>
 * (one ACM certificate for the three, validated by DNS in the zone), every request to the clientconfig Lambda.
 * The Lambda reads nothing but its environment, so its role has only the basic logging rights.
 */
export class ClientSetupFront extends Construct {
  readonly fn: nodejs.NodejsFunction;
  readonly api: apigwv2.HttpApi;
  readonly certificate: acm.Certificate;
  readonly hostNames: readonly string[];

  constructor(scope: Construct, id: string, props: ClientSetupFrontProps) {
    super(scope, id);
    const { zone, settings } = props;
    const hosts = clientSetupHosts(settings.domain);
    this.hostNames = [hosts.mtaSts, hosts.autoconfig, hosts.autodiscover];

    this.certificate = new acm.Certificate(this, 'Certificate', {
      domainName: hosts.mtaSts,
      subjectAlternativeNames: [hosts.autoconfig, hosts.autodiscover],
      validation: acm.CertificateValidation.fromDns(zone),
    });

    this.fn = postFunction(this, 'ClientConfig', {
      protection: props.protection,
      memorySize: 128,
      timeout: Duration.seconds(5),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        [CLIENT_SETUP_ENV.domain]: settings.domain,
        [CLIENT_SETUP_ENV.host]: settings.host,
        [CLIENT_SETUP_ENV.mtaStsMode]: settings.mtaSts.mode,
        [CLIENT_SETUP_ENV.mtaStsMaxAge]: String(settings.mtaSts.maxAgeSeconds),
      },
    });

    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: `Postern client setup for ${settings.domain}: MTA-STS policy, autoconfig, autodiscover`,
      defaultIntegration: new HttpLambdaIntegration('ClientConfig', this.fn),
      // Only the custom domains: the execute-api name has no certificate for them.
      disableExecuteApiEndpoint: true,
      createDefaultStage: false,
    });
    acknowledgePublicDocumentsApi(this.api.node.findChild('DefaultRoute'));
    // Clients fetch these rarely; a bound keeps a flood from running up Lambda invocations.
    const stage = new apigwv2.HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 20, burstLimit: 40 },
      // who fetched what (cdk-nag APIG1): the default format, to a log group of the stack
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(ownedLogGroup(this, 'AccessLogs', props.protection)),
      },
    });

    for (const [name, host] of Object.entries(hosts)) {
      const domainName = new apigwv2.DomainName(this, `${name}Domain`, {
        domainName: host,
        certificate: this.certificate,
        securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
      });
      new apigwv2.ApiMapping(this, `${name}Mapping`, { api: this.api, domainName, stage });
      new route53.ARecord(this, `${name}Alias`, {
        zone,
        recordName: `${host}.`,
        target: route53.RecordTarget.fromAlias(
          new route53targets.ApiGatewayv2DomainProperties(
            domainName.regionalDomainName,
            domainName.regionalHostedZoneId,
          ),
        ),
      });
    }
  }
}
