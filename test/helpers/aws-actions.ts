/**
 * Names AWS calls seen on the wire and renders AWS errors in each protocol's shape, for the fault
 * proxy. The REST tables cover what scalr-serverless calls; their paths are copied from the SDK v3
 * operation schemas (`@aws-sdk/client-{lambda,api-gateway}/dist-es/schemas`).
 */

/** The wire protocol of a service: how its action is named and how its errors look. */
export type AwsProtocol = 'ec2' | 'query' | 'json' | 'rest-json';

/** One identified AWS call. */
export interface AwsCallId {
  service: string;
  action: string;
  protocol: AwsProtocol;
  /** False for Describe*, Get*, List* and any GET/HEAD request. */
  write: boolean;
}

/** An AWS error to answer with; the caller picks the code, the protocol decides the body. */
export interface AwsErrorSpec {
  status: number;
  code: string;
  message: string;
}

type RestRoute = [method: string, template: string, action: string];

const LAMBDA_ROUTES: RestRoute[] = [
  ['POST', '/2015-03-31/functions', 'CreateFunction'],
  ['GET', '/2015-03-31/functions', 'ListFunctions'],
  ['GET', '/2015-03-31/functions/{FunctionName}', 'GetFunction'],
  ['DELETE', '/2015-03-31/functions/{FunctionName}', 'DeleteFunction'],
  ['GET', '/2015-03-31/functions/{FunctionName}/configuration', 'GetFunctionConfiguration'],
  ['PUT', '/2015-03-31/functions/{FunctionName}/configuration', 'UpdateFunctionConfiguration'],
  ['PUT', '/2015-03-31/functions/{FunctionName}/code', 'UpdateFunctionCode'],
  ['POST', '/2015-03-31/functions/{FunctionName}/policy', 'AddPermission'],
  ['GET', '/2015-03-31/functions/{FunctionName}/policy', 'GetPolicy'],
  ['DELETE', '/2015-03-31/functions/{FunctionName}/policy/{StatementId}', 'RemovePermission'],
  ['POST', '/2015-03-31/functions/{FunctionName}/invocations', 'Invoke'],
  ['PUT', '/2017-10-31/functions/{FunctionName}/concurrency', 'PutFunctionConcurrency'],
  ['DELETE', '/2017-10-31/functions/{FunctionName}/concurrency', 'DeleteFunctionConcurrency'],
  ['GET', '/2019-09-30/functions/{FunctionName}/concurrency', 'GetFunctionConcurrency'],
  ['GET', '/2017-03-31/tags/{Resource}', 'ListTags'],
  ['POST', '/2017-03-31/tags/{Resource}', 'TagResource'],
  ['DELETE', '/2017-03-31/tags/{Resource}', 'UntagResource'],
];

const METHOD = '/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}';
const API_GATEWAY_ROUTES: RestRoute[] = [
  ['POST', '/restapis', 'CreateRestApi'],
  ['GET', '/restapis', 'GetRestApis'],
  ['GET', '/restapis/{restApiId}', 'GetRestApi'],
  ['PATCH', '/restapis/{restApiId}', 'UpdateRestApi'],
  ['DELETE', '/restapis/{restApiId}', 'DeleteRestApi'],
  ['GET', '/restapis/{restApiId}/resources', 'GetResources'],
  ['POST', '/restapis/{restApiId}/resources/{parentId}', 'CreateResource'],
  ['GET', '/restapis/{restApiId}/resources/{resourceId}', 'GetResource'],
  ['DELETE', '/restapis/{restApiId}/resources/{resourceId}', 'DeleteResource'],
  ['PUT', METHOD, 'PutMethod'],
  ['GET', METHOD, 'GetMethod'],
  ['PATCH', METHOD, 'UpdateMethod'],
  ['DELETE', METHOD, 'DeleteMethod'],
  ['PUT', `${METHOD}/integration`, 'PutIntegration'],
  ['GET', `${METHOD}/integration`, 'GetIntegration'],
  ['PATCH', `${METHOD}/integration`, 'UpdateIntegration'],
  ['DELETE', `${METHOD}/integration`, 'DeleteIntegration'],
  ['PUT', `${METHOD}/responses/{statusCode}`, 'PutMethodResponse'],
  ['PUT', `${METHOD}/integration/responses/{statusCode}`, 'PutIntegrationResponse'],
  ['POST', '/restapis/{restApiId}/deployments', 'CreateDeployment'],
  ['GET', '/restapis/{restApiId}/deployments', 'GetDeployments'],
  ['DELETE', '/restapis/{restApiId}/deployments/{deploymentId}', 'DeleteDeployment'],
  ['POST', '/restapis/{restApiId}/stages', 'CreateStage'],
  ['GET', '/restapis/{restApiId}/stages', 'GetStages'],
  ['GET', '/restapis/{restApiId}/stages/{stageName}', 'GetStage'],
  ['PATCH', '/restapis/{restApiId}/stages/{stageName}', 'UpdateStage'],
  ['DELETE', '/restapis/{restApiId}/stages/{stageName}', 'DeleteStage'],
  ['POST', '/apikeys', 'CreateApiKey'],
  ['GET', '/apikeys', 'GetApiKeys'],
  ['GET', '/apikeys/{apiKey}', 'GetApiKey'],
  ['PATCH', '/apikeys/{apiKey}', 'UpdateApiKey'],
  ['DELETE', '/apikeys/{apiKey}', 'DeleteApiKey'],
  ['POST', '/usageplans', 'CreateUsagePlan'],
  ['GET', '/usageplans', 'GetUsagePlans'],
  ['GET', '/usageplans/{usagePlanId}', 'GetUsagePlan'],
  ['PATCH', '/usageplans/{usagePlanId}', 'UpdateUsagePlan'],
  ['DELETE', '/usageplans/{usagePlanId}', 'DeleteUsagePlan'],
  ['POST', '/usageplans/{usagePlanId}/keys', 'CreateUsagePlanKey'],
  ['GET', '/usageplans/{usagePlanId}/keys', 'GetUsagePlanKeys'],
  ['DELETE', '/usageplans/{usagePlanId}/keys/{keyId}', 'DeleteUsagePlanKey'],
  ['GET', '/tags/{resourceArn}', 'GetTags'],
  ['PUT', '/tags/{resourceArn}', 'TagResource'],
  ['DELETE', '/tags/{resourceArn}', 'UntagResource'],
];

type CompiledRoute = { method: string; pattern: RegExp; action: string };

function compile(routes: RestRoute[]): CompiledRoute[] {
  return routes.map(([method, template, action]) => ({
    method,
    // Path labels are URL-encoded by the SDK (an ARN's slashes become %2F), so one label is one segment.
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
    action,
  }));
}

const REST_ROUTES: Record<string, CompiledRoute[]> = {
  lambda: compile(LAMBDA_ROUTES),
  apigateway: compile(API_GATEWAY_ROUTES),
};

/** The service name in a SigV4 `Authorization` header's credential scope (`.../us-east-1/ec2/aws4_request`). */
export function serviceFromAuthorization(authorization: string | undefined): string {
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  return scope?.[1] ?? 'unknown';
}

/** Identifies one call from its method, URL, headers and (form) body. */
export function identifyCall(
  method: string,
  url: string,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
): AwsCallId {
  const service = serviceFromAuthorization(header(headers, 'authorization'));
  const [path, query = ''] = url.split('?', 2) as [string, string?];
  let protocol: AwsProtocol;
  let action: string;
  const target = header(headers, 'x-amz-target');
  if (target) {
    protocol = 'json';
    action = target.slice(target.lastIndexOf('.') + 1);
  } else if (service === 'ec2' || service === 'iam' || service === 'sts') {
    protocol = service === 'ec2' ? 'ec2' : 'query';
    const form = new URLSearchParams(body.length > 0 ? body.toString('utf8') : query);
    action = form.get('Action') ?? new URLSearchParams(query).get('Action') ?? `${method} ${path}`;
  } else {
    protocol = 'rest-json';
    const route = (REST_ROUTES[service] ?? []).find((r) => r.method === method && r.pattern.test(path));
    action = route?.action ?? `${method} ${path}`;
  }
  const read = method === 'GET' || method === 'HEAD' || /^(Describe|Get|List)/.test(action);
  return { service, action, protocol, write: !read };
}

/** The throttling error each service really answers with (codes the SDK's retry strategy treats as throttling). */
export function throttlingError(service: string): AwsErrorSpec {
  switch (service) {
    // EC2 answers RequestLimitExceeded with HTTP 503.
    case 'ec2':
      return { status: 503, code: 'RequestLimitExceeded', message: 'Request limit exceeded.' };
    case 'iam':
    case 'sts':
      return { status: 400, code: 'Throttling', message: 'Rate exceeded' };
    // Lambda and API Gateway throttle with 429 TooManyRequestsException.
    case 'lambda':
    case 'apigateway':
      return { status: 429, code: 'TooManyRequestsException', message: 'Rate exceeded' };
    default:
      return { status: 400, code: 'ThrottlingException', message: 'Rate exceeded' };
  }
}

/** A transient server fault; the SDK retries any 5xx. */
export function serverFault(service: string): AwsErrorSpec {
  if (service === 'ec2') return { status: 500, code: 'InternalError', message: 'An internal error has occurred' };
  if (service === 'iam') return { status: 500, code: 'ServiceFailure', message: 'Service failure' };
  return { status: 500, code: 'InternalFailure', message: 'An internal error has occurred' };
}

/** Content type and body of an AWS error in the protocol's own shape. */
export function renderError(
  protocol: AwsProtocol,
  error: AwsErrorSpec,
  requestId: string,
): { headers: Record<string, string>; body: string } {
  const message = escapeXml(error.message);
  if (protocol === 'ec2') {
    return {
      headers: { 'content-type': 'text/xml;charset=UTF-8' },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${error.code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
    };
  }
  if (protocol === 'query') {
    const type = error.status >= 500 ? 'Receiver' : 'Sender';
    return {
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      body: `<ErrorResponse><Error><Type>${type}</Type><Code>${error.code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  }
  return {
    headers: {
      'content-type': protocol === 'json' ? 'application/x-amz-json-1.1' : 'application/json',
      'x-amzn-errortype': error.code,
      'x-amzn-requestid': requestId,
    },
    body: JSON.stringify({ __type: error.code, message: error.message }),
  };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
