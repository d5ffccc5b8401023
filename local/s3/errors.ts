/** S3 errors: an S3Error is answered as S3's `<Error>` document with its status; anything else is a 500. */
export class S3Error extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const fixed = (code: string, status: number, message: string) => () => new S3Error(code, status, message);

export const errors = {
  accessDenied: (message = 'Access Denied') => new S3Error('AccessDenied', 403, message),
  signatureDoesNotMatch: fixed('SignatureDoesNotMatch', 403, 'The request signature does not match.'),
  invalidAccessKeyId: fixed('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist.'),
  requestTimeTooSkewed: fixed('RequestTimeTooSkewed', 403, 'The request time is too far from the server time.'),
  missingContentSha256: fixed('InvalidRequest', 400, 'Missing required header: x-amz-content-sha256'),
  sha256Mismatch: fixed('XAmzContentSHA256Mismatch', 400, 'The body does not match its x-amz-content-sha256.'),
  noSuchBucket: fixed('NoSuchBucket', 404, 'The specified bucket does not exist'),
  noSuchKey: fixed('NoSuchKey', 404, 'The specified key does not exist.'),
  noSuchUpload: fixed('NoSuchUpload', 404, 'The specified upload does not exist.'),
  invalidBucketName: fixed('InvalidBucketName', 400, 'The specified bucket is not valid.'),
  invalidArgument: (message: string) => new S3Error('InvalidArgument', 400, message),
  invalidRange: (size: number) =>
    new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', { 'Content-Range': `bytes */${size}` }),
  invalidURI: fixed('InvalidURI', 400, "Couldn't parse the specified URI."),
  keyTooLong: fixed('KeyTooLongError', 400, 'Your key is too long'),
  tooLarge: fixed('MaxMessageLengthExceeded', 400, 'Your request was too big.'),
  malformedXML: fixed('MalformedXML', 400, 'The XML you provided was not well-formed.'),
  missingContentLength: fixed('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.'),
  incompleteBody: (message = 'The body is shorter than its declared length.') =>
    new S3Error('IncompleteBody', 400, message),
  requestAborted: fixed('RequestAborted', 400, 'The client closed the connection before sending the whole body.'),
  badDigest: (what: string) => new S3Error('BadDigest', 400, `The ${what} you specified did not match the body.`),
  entityTooLarge: fixed('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed object size.'),
  entityTooSmall: fixed('EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed size.'),
  invalidPart: fixed('InvalidPart', 400, 'One or more of the specified parts could not be found.'),
  invalidPartOrder: fixed('InvalidPartOrder', 400, 'The list of parts was not in ascending order.'),
  notImplemented: (what: string) => new S3Error('NotImplemented', 501, `This S3 stand-in does not implement ${what}.`),
  methodNotAllowed: fixed('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.'),
  internal: fixed('InternalError', 500, 'We encountered an internal error. Please try again.'),
};
